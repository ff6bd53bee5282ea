import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, validateConfig } from '@not/config';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { centralNodeName, centralNodePorts, meshConfigSchema, neo4jMemory } from './mesh.config.js';

/** The problems a ConfigError lists for a mesh config that must be refused. */
function problemsOf(raw: unknown): readonly string[] {
  try {
    validateConfig(raw, meshConfigSchema, 'mesh.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('mesh configuration', () => {
  it('accepts the shipped local mesh and the test mesh', () => {
    for (const file of ['deploy/local/mesh.yaml', 'test/mesh.test.yaml', 'test/mesh.cluster.test.yaml', 'bench/mesh.soak.yaml']) {
      const cfg = validateConfig(parse(readFileSync(file, 'utf8')), meshConfigSchema, file);
      assert.equal(cfg.sites.length, 2);
    }
  });

  it("sizes Neo4j's memory from the machine unless the config sets it", () => {
    const GIB = 1024 ** 3;
    // A sixteenth of memory for the heap and an eighth for the page cache, within their bounds.
    assert.deepEqual(neo4jMemory(24 * GIB), { heapMb: 1536, pageCacheMb: 3072 });
    assert.deepEqual(neo4jMemory(4 * GIB), { heapMb: 512, pageCacheMb: 512 });
    assert.deepEqual(neo4jMemory(1 * GIB), { heapMb: 512, pageCacheMb: 256 });
    assert.deepEqual(neo4jMemory(512 * GIB), { heapMb: 8192, pageCacheMb: 16384 });
    assert.deepEqual(neo4jMemory(24 * GIB, { heapMb: 700 }), { heapMb: 700, pageCacheMb: 3072 });
    const raw = parse(readFileSync('deploy/local/mesh.yaml', 'utf8')) as { neo4j: Record<string, number> };
    raw.neo4j['pageCacheMb'] = 1000;
    raw.neo4j['heapMb'] = 900;
    const cfg = validateConfig(raw, meshConfigSchema, 'mesh.yaml');
    assert.deepEqual(cfg.neo4j, { boltPort: 7700, heapMb: 900, pageCacheMb: 1000 });
    raw.neo4j['pageCacheMb'] = 8;
    assert.throws(() => validateConfig(raw, meshConfigSchema, 'mesh.yaml'), /neo4j\.pageCacheMb/);
  });

  it('refuses ports that collide or belong to the machine RabbitMQ service', () => {
    const raw = parse(readFileSync('deploy/local/mesh.yaml', 'utf8')) as {
      sites: Array<{ relayPort: number }>;
      explorer: { port: number };
    };
    raw.sites[1]!.relayPort = raw.sites[0]!.relayPort;
    raw.explorer.port = 15672;
    const problems = problemsOf(raw);
    assert.ok(
      problems.some((p) => p.startsWith('sites[1].relayPort: port 8110 is also used by relay site-a')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith("explorer.port: port 15672 belongs to the machine's own RabbitMQ")),
      problems.join('\n'),
    );
  });

  it('gives each central node of a cluster its own ports, and refuses those that collide', () => {
    const raw = parse(readFileSync('test/mesh.test.yaml', 'utf8')) as { central: Record<string, unknown> };
    raw.central.nodes = 3;
    const cfg = validateConfig(raw, meshConfigSchema, 'mesh.yaml');
    const ports = centralNodePorts(cfg);
    assert.deepEqual(
      ports.map((p) => p.amqpPort),
      [5800, 5802, 5804],
    );
    assert.deepEqual(
      ports.map((p) => p.prometheusPort),
      [15801, 15803, 15805],
    );
    assert.deepEqual([0, 1, 2].map(centralNodeName), ['central', 'central-2', 'central-3']);
    // Six nodes two ports apart reach site-a's 5810.
    raw.central.nodes = 6;
    const problems = problemsOf(raw);
    assert.ok(
      problems.some((p) => p.includes('port 5810 is also used by central node 6')),
      problems.join('\n'),
    );
  });

  it("takes a site's own port to central (a proxy or gateway between), only with one central node and a free port", () => {
    const raw = parse(readFileSync('bench/mesh.soak.yaml', 'utf8')) as {
      central: Record<string, unknown>;
      sites: Array<{ centralAmqpPort?: number }>;
    };
    const cfg = validateConfig(raw, meshConfigSchema, 'mesh.yaml');
    assert.equal(cfg.sites[1]!.centralAmqpPort, 5950);
    assert.equal(cfg.sites[0]!.centralAmqpPort, undefined);
    raw.central.nodes = 3;
    raw.sites[0]!.centralAmqpPort = 5910;
    const problems = problemsOf(raw);
    assert.ok(
      problems.some((p) => p.startsWith("sites[1].centralAmqpPort: a site's own port to central needs a single central node")),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('sites[0].centralAmqpPort: port 5910 is also used by site site-a amqpPort')),
      problems.join('\n'),
    );
  });

  it('keeps one central node by default', () => {
    const cfg = validateConfig(parse(readFileSync('test/mesh.test.yaml', 'utf8')), meshConfigSchema, 'mesh.yaml');
    assert.equal(cfg.central.nodes, 1);
    assert.equal(centralNodePorts(cfg).length, 1);
  });
});
