import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { parseMessage, type TraceEvent } from '@not/events';
import { GraphRepository, Journeys, SubscriptionStore, WalkReads } from '@not/graph';
import { explorerConfigSchema, type ExplorerConfig } from '../../apps/explorer/src/explorer.config.js';
import { eiffelPipeline, type Pipeline } from '../../apps/explorer/src/testing/eiffel-pipeline.js';
import { TrendsService } from '../../apps/explorer/src/trends/trends.service.js';
import { testStatus } from '../support/mesh.js';

/**
 * The trends' read of the journey model against a real Neo4j: only the journeys written since the
 * previous round come back, and the service's series count the changes a published pipeline made.
 */
describe('trends: the journeys changed since the last round, and series from them', () => {
  let graph: GraphRepository;
  let journeys: Journeys;
  let config: ExplorerConfig;

  before(async () => {
    const status = await testStatus();
    const neo4j = { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' };
    graph = new GraphRepository(neo4j);
    await graph.ensureSchema();
    config = explorerConfigSchema.parse({ neo4j, http: { port: 1 }, auth: { tokens: ['trends-token-000000'] } });
    journeys = new Journeys(graph, new WalkReads(graph), () => config.limits);
  });
  after(async () => graph?.onModuleDestroy());

  const parsed = (p: Pipeline): TraceEvent[] =>
    p.events.flatMap((e) => {
      const r = parseMessage(
        { body: Buffer.from(JSON.stringify(e.event)), headers: {}, routingKey: `site.site-${e.site}.ci.eiffel` },
        { eiffelSchema: 'warn' },
      );
      assert.ok(r.ok);
      return r.events;
    });
  const keysOf = (p: Pipeline): string[] => Object.values(p.commits).map((c) => `${p.repository}@${c.sha}`);

  it('reads the journeys written since a cursor, and only those', async () => {
    const run = `t${randomBytes(4).toString('hex')}`;
    const first = eiffelPipeline(`${run}a`, Date.now() - 3 * 3_600_000);
    await graph.writeEvents(parsed(first));
    await journeys.drain();
    // Another pipeline written after it: the cursor ends on its journeys, not on the first's.
    await graph.writeEvents(parsed(eiffelPipeline(`${run}c`, Date.now() - 3 * 3_600_000)));
    await journeys.drain();
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const all = await journeys.changedSince(from, null, 100_000);
    const got = new Set(all.journeys.map((j) => j.key));
    for (const k of keysOf(first)) assert.ok(got.has(k), `${k} is read`);
    assert.ok(all.journeys.find((j) => j.key === keysOf(first)[0])!.events.length > 3, 'with its events');
    assert.equal(typeof all.cursor, 'number');
    // Asked again at once: only the journeys written at the cursor's millisecond come back (a tie is
    // read twice rather than missed), and the cursor stays.
    const ties = await journeys.changedSince(from, all.cursor, 100_000);
    assert.equal(ties.cursor, all.cursor);
    for (const k of keysOf(first)) assert.ok(!ties.journeys.some((j) => j.key === k), `${k} is older than the cursor`);

    const second = eiffelPipeline(`${run}b`, Date.now() - 2 * 3_600_000);
    await graph.writeEvents(parsed(second));
    await journeys.drain();
    const since = await journeys.changedSince(from, all.cursor, 100_000);
    const now = new Set(since.journeys.map((j) => j.key));
    for (const k of keysOf(second)) assert.ok(now.has(k), `${k} (written after the cursor) is read`);
    for (const k of keysOf(first)) assert.ok(!now.has(k), `${k} (written before the cursor) is not read again`);
    assert.ok(since.cursor! >= all.cursor!);

    // A journey whose first commit is before `from` is left out.
    const later = await journeys.changedSince(new Date(Date.now() + 30 * 86_400_000).toISOString(), null, 100_000);
    assert.ok(!later.journeys.some((j) => keysOf(second).includes(j.key)));
  });

  it('counts the changes of a published pipeline in the series of the round', async () => {
    const run = `s${randomBytes(4).toString('hex')}`;
    const p = eiffelPipeline(run, Date.now() - 4 * 3_600_000);
    await graph.writeEvents(parsed(p));
    await journeys.drain();
    const service = new TrendsService(journeys, graph, new SubscriptionStore(graph), config, new Registry());
    await service.tick();
    const t = service.trends({ groupBy: 'repository', group: p.repository, bucket: 'day', segment: 'coding' });
    assert.equal(t.series.length, 1);
    const arrivals = t.series[0]!.points.reduce((n, x) => n + x.arrivals, 0);
    assert.equal(arrivals, keysOf(p).length, 'every commit of the pipeline entered coding');
    assert.ok(service.insights({ limit: 1000 }).journeys >= keysOf(p).length);
    await service.onModuleDestroy();
  });
});
