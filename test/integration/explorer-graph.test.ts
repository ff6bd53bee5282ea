import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { EntityRef, TraceEvent } from '@not/events';
import { EntityReads, GraphRepository } from '@not/graph';
import { JsonLogger } from '@not/observability';
import { explorerConfigSchema } from '../../apps/explorer/src/explorer.config.js';
import { ExplorerModule } from '../../apps/explorer/src/explorer.module.js';
import { traceEvent } from '../support/factories.js';
import { testStatus } from '../support/mesh.js';

const TOKEN = 'integration-token-0123456789';

/**
 * The explorer's reads over a graph written straight through GraphRepository
 * from canonical events: the entity layer alone (no event links), the way
 * webhook and Jenkins formats connect things.
 */
describe('explorer reads against a real Neo4j', () => {
  let graph: GraphRepository;
  let app: INestApplication;
  let url: string;
  const run = randomBytes(4).toString('hex');
  const repo = `git.example.com/explorer-it/${run}`;
  const prefix = createHash('sha1').update(run).digest('hex').slice(0, 12);
  const shaA = `${prefix}${'a'.repeat(28)}`;
  const shaB = `${prefix}${'b'.repeat(28)}`;
  const commit = (sha: string): EntityRef => ({ label: 'Commit', key: `${repo}@${sha}` });
  const build: EntityRef = { label: 'Build', key: `ci.example.com/${run}#7` };
  const lib: EntityRef = { label: 'Artifact', key: `sha256:${createHash('sha256').update(`${run}lib`).digest('hex')}` };
  const app1: EntityRef = { label: 'Artifact', key: `sha256:${createHash('sha256').update(`${run}app`).digest('hex')}` };
  const release: EntityRef = { label: 'Release', key: `it-${run}@2.0` };
  const env: EntityRef = { label: 'Environment', key: `prod-${run}` };
  const change: EntityRef = { label: 'Change', key: `${repo}!12` };
  const t = (min: number): string => new Date(Date.UTC(2032, 5, 1, 8, min)).toISOString();
  const ev = (o: Partial<TraceEvent>): TraceEvent => traceEvent({ format: 'github', type: 'generic', ...o });
  const events: TraceEvent[] = [
    ev({
      stage: 'commit',
      phase: 'created',
      time: t(0),
      type: 'push',
      about: [
        { entity: commit(shaA), role: 'pushed' },
        { entity: commit(shaB), role: 'pushed' },
      ],
      entities: [
        { ...commit(shaA), props: { sha: shaA, repository: repo } },
        { ...commit(shaB), props: { sha: shaB, repository: repo } },
        { label: 'WorkItem', key: `IT${run.toUpperCase()}-1`, props: {} },
      ],
      relations: [{ from: commit(shaA), type: 'REFERENCES', to: { label: 'WorkItem', key: `IT${run.toUpperCase()}-1` } }],
    }),
    ev({
      stage: 'review',
      phase: 'created',
      time: t(5),
      type: 'pull_request',
      about: [{ entity: change, role: 'opened' }],
      entities: [{ ...change, props: {} }],
      relations: [{ from: change, type: 'INCLUDES', to: commit(shaA) }],
    }),
    ev({
      stage: 'build',
      phase: 'started',
      time: t(10),
      format: 'jenkins',
      type: 'started',
      about: [{ entity: build, role: 'run' }],
      entities: [{ ...build, props: {} }],
      relations: [{ from: build, type: 'BUILT', to: commit(shaA) }],
    }),
    ev({
      stage: 'build',
      phase: 'finished',
      outcome: 'success',
      time: t(20),
      format: 'jenkins',
      type: 'finished',
      about: [{ entity: build, role: 'run' }],
      relations: [{ from: build, type: 'PRODUCED', to: lib }],
    }),
    ev({
      stage: 'artifact',
      phase: 'created',
      time: t(21),
      format: 'nexus',
      type: 'component',
      site: 'site-b',
      about: [{ entity: lib, role: 'published' }],
      entities: [{ ...lib, props: {} }],
    }),
    ev({
      stage: 'artifact',
      phase: 'created',
      time: t(30),
      format: 'nexus',
      type: 'component',
      site: 'site-b',
      about: [{ entity: app1, role: 'published' }],
      entities: [{ ...app1, props: {} }],
      relations: [{ from: app1, type: 'CONTAINS', to: lib }],
    }),
    ev({
      stage: 'release',
      phase: 'finished',
      time: t(40),
      type: 'release',
      site: 'site-b',
      about: [{ entity: release, role: 'released' }],
      entities: [{ ...release, props: { product: `it-${run}`, version: '2.0' } }],
      relations: [{ from: release, type: 'CONTAINS', to: app1 }],
    }),
    ev({
      stage: 'deployment',
      phase: 'finished',
      outcome: 'success',
      time: t(50),
      type: 'deploy',
      site: 'site-b',
      about: [
        { entity: app1, role: 'deployed' },
        { entity: env, role: 'target' },
      ],
      entities: [{ ...env, props: {} }],
      relations: [{ from: app1, type: 'DEPLOYED_TO', to: env }],
    }),
  ];

  before(async () => {
    const status = await testStatus();
    const neo4j = { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' };
    graph = new GraphRepository(neo4j);
    await graph.ensureSchema();
    await graph.writeEvents(events);
    const config = explorerConfigSchema.parse({ neo4j, http: { port: 1 }, auth: { tokens: [TOKEN] }, logLevel: 'error' });
    app = await NestFactory.create(ExplorerModule.forConfig(config), { logger: new JsonLogger('explorer', 'error') });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  after(async () => {
    await app?.close();
    await graph?.onModuleDestroy();
  });

  const get = async (path: string): Promise<{ status: number; body: Record<string, any> }> => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it('answers 409 with both candidates for a short sha two commits share, and 200 for more of it', async () => {
    const r = await get(`/api/v1/trace/commit/${prefix}`);
    assert.equal(r.status, 409);
    assert.deepEqual(r.body.candidates, [commit(shaA).key, commit(shaB).key]);
    assert.equal((await get(`/api/v1/trace/commit/${prefix}a`)).status, 200);
  });

  it('looks up many shas in one query, each answer its own: shared prefix, full sha, one repository, none', async () => {
    const found = await new EntityReads(graph).commitsBySha(
      [
        { prefix },
        { prefix: shaB },
        { prefix: shaA, repository: `${repo}-other` },
        { prefix: `${prefix}a`, repository: repo },
        { prefix: 'f'.repeat(40) },
      ],
      21,
    );
    assert.deepEqual(
      found.map((rows) => rows.map((r) => r.key)),
      [[commit(shaA).key, commit(shaB).key], [commit(shaB).key], [], [commit(shaA).key], []],
    );
    const limited = await new EntityReads(graph).commitsBySha([{ prefix }, { prefix }], 1);
    assert.deepEqual(
      limited.map((rows) => rows.map((r) => r.key)),
      [[commit(shaA).key], [commit(shaA).key]],
      'the limit holds per lookup, first by key',
    );
  });

  it('answers concurrent commit traces each for its own sha', async () => {
    const asks = [`${prefix}a`, prefix, shaB, 'f'.repeat(40), `${shaA}?repo=${encodeURIComponent(`${repo}-other`)}`];
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => get(`/api/v1/trace/commit/${asks[i % asks.length]!}`)));
    answers.forEach((r, i) => {
      const want = [
        [200, commit(shaA).key],
        [409, undefined],
        [200, commit(shaB).key],
        [404, undefined],
        [404, undefined],
      ][i % asks.length]!;
      assert.deepEqual([r.status, r.body.subject?.key], want, `ask ${i}: ${asks[i % asks.length]}`);
    });
  });

  it('follows the entity layer: build of the commit, what it produced, the composite and release containing it, the deployment', async () => {
    const r = await get(`/api/v1/trace/commit/${shaA}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.events.map((e: { id: string }) => e.id).sort(), events.map((e) => e.id).sort());
    assert.equal(r.body.furthestStage, 'release');
    assert.deepEqual(
      r.body.builds.map((b: { key: string; ci: string; job: string; number: string; runSeconds: number }) => [
        b.key,
        b.ci,
        b.job,
        b.number,
        b.runSeconds,
      ]),
      [[build.key, 'ci.example.com', run, '7', 600]],
    );
    assert.deepEqual(
      r.body.artifacts.map((a: { key: string }) => a.key),
      [app1.key, lib.key].sort(),
    );
    assert.deepEqual(
      r.body.releases.map((x: { key: string }) => x.key),
      [release.key],
    );
    assert.deepEqual(
      r.body.deployments.map((d: { site: string }) => d.site),
      ['site-b'],
    );
    assert.deepEqual(
      r.body.changes.map((c: { key: string }) => c.key),
      [change.key],
    );
    assert.deepEqual(
      r.body.workItems.map((w: { key: string }) => w.key),
      [`IT${run.toUpperCase()}-1`],
    );
  });

  it('lists a release through its composite artifact down to the commit and work item', async () => {
    const r = await get(`/api/v1/releases/it-${run}/2.0`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.artifacts, [app1.key, lib.key].sort());
    assert.deepEqual(
      r.body.commits.map((c: { key: string }) => c.key),
      [commit(shaA).key],
    );
    assert.deepEqual(r.body.workItems, [`IT${run.toUpperCase()}-1`]);
    const missing = await get(`/api/v1/releases/it-${run}/9.9`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.hint, /known versions of it-.*: 2\.0/);
  });

  it('traces a change (URL-encoded key) and an artifact upstream', async () => {
    const c = await get(`/api/v1/trace/change/${encodeURIComponent(change.key)}`);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.equal(c.body.furthestStage, 'release');
    const a = await get(`/api/v1/trace/artifact/${encodeURIComponent(app1.key)}`);
    assert.deepEqual(
      a.body.upstream.commits.map((x: { key: string }) => x.key),
      [commit(shaA).key],
    );
    assert.deepEqual(a.body.upstream.artifacts, [app1.key, lib.key].sort());
  });
});
