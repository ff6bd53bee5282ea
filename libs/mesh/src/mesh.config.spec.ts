import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, validateConfig } from '@not/config';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { meshConfigSchema } from './mesh.config.js';

describe('mesh configuration', () => {
  it('accepts the shipped local mesh and the test mesh', () => {
    for (const file of ['deploy/local/mesh.yaml', 'test/mesh.test.yaml']) {
      const cfg = validateConfig(parse(readFileSync(file, 'utf8')), meshConfigSchema, file);
      assert.equal(cfg.sites.length, 2);
    }
  });

  it('refuses ports that collide or belong to the machine RabbitMQ service', () => {
    const raw = parse(readFileSync('deploy/local/mesh.yaml', 'utf8')) as {
      sites: Array<{ relayPort: number }>;
      explorer: { port: number };
    };
    raw.sites[1]!.relayPort = raw.sites[0]!.relayPort;
    raw.explorer.port = 15672;
    try {
      validateConfig(raw, meshConfigSchema, 'mesh.yaml');
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.ok(
        err.problems.some((p) => p.startsWith('sites[1].relayPort: port 8110 is also used by relay site-a')),
        err.message,
      );
      assert.ok(
        err.problems.some((p) => p.startsWith("explorer.port: port 15672 belongs to the machine's own RabbitMQ")),
        err.message,
      );
    }
  });
});
