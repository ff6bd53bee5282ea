import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import neo4j from 'neo4j-driver';
import { parseMessage, type TraceEvent } from '@not/events';
import {
  ANY_EVENT_IN,
  CHANGED_SINCE,
  EntityReads,
  EventReads,
  GraphRepository,
  Journeys,
  LAST_CHANGE,
  WalkReads,
  stageSummaries,
  type JourneyRecord,
} from '@not/graph';
import { explorerConfigSchema } from '../../apps/explorer/src/explorer.config.js';
import { eiffelPipeline, type Pipeline } from '../../apps/explorer/src/testing/eiffel-pipeline.js';
import { WalkService } from '../../apps/explorer/src/walk.service.js';
import { neo4jDriver, testStatus } from '../support/mesh.js';

interface PlanOperator {
  operatorType: string;
  arguments: Record<string, unknown>;
  children: PlanOperator[];
}

/** The operators of the plan Neo4j makes for `query` (`EXPLAIN`: nothing runs), each with its details. */
async function planOf(query: string, params: Record<string, unknown> = {}): Promise<Array<{ type: string; details: string }>> {
  const driver = neo4jDriver(await testStatus());
  try {
    const { summary } = await driver.executeQuery(`EXPLAIN ${query}`, params, { database: 'neo4j' });
    const out: Array<{ type: string; details: string }> = [];
    const visit = (op: PlanOperator): void => {
      out.push({ type: op.operatorType.replace(/@.*$/, ''), details: String(op.arguments['Details'] ?? '') });
      for (const c of op.children) visit(c);
    };
    visit(summary.plan as unknown as PlanOperator);
    return out;
  } finally {
    await driver.close();
  }
}

/**
 * The journey read model against a real Neo4j: written batch by batch as events arrive in any
 * order, with repeats and across two sites, it ends where a rebuild from the whole graph ends,
 * and where the explorer's full walk from each commit (the oracle: a trace's one-origin walk)
 * ends; and each commit's journey is the one its pipeline says it caused.
 */
describe('journeys: maintained as events arrive, equal to a rebuild and to the full walk', () => {
  let graph: GraphRepository;
  let entities: EntityReads;
  let eventReads: EventReads;
  let walker: WalkService;
  let journeys: Journeys;

  before(async () => {
    const status = await testStatus();
    const neo4j = { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' };
    graph = new GraphRepository(neo4j);
    await graph.ensureSchema();
    const config = explorerConfigSchema.parse({ neo4j, http: { port: 1 }, auth: { tokens: ['journey-token-000000'] } });
    entities = new EntityReads(graph);
    eventReads = new EventReads(graph);
    const walkReads = new WalkReads(graph);
    walker = new WalkService(walkReads, config);
    journeys = new Journeys(graph, walkReads, () => config.limits);
  });
  after(async () => graph?.onModuleDestroy());

  const parsed = (p: Pipeline): TraceEvent[] =>
    p.events.flatMap((e) => {
      const r = parseMessage(
        { body: Buffer.from(JSON.stringify(e.event)), headers: {}, routingKey: `site.site-${e.site}.ci.eiffel` },
        { eiffelSchema: 'warn' },
      );
      assert.ok(r.ok, `pipeline event ${e.event.meta.id} parses`);
      return r.events;
    });

  /** What a journey says, without when it was computed. */
  const facts = (j: JourneyRecord): unknown => ({ ...j, events: j.events.map((e) => ({ ...e })) });

  /** The oracle: the explorer's one-origin walk from the commit (a trace's), its events read in full. */
  async function walked(
    key: string,
  ): Promise<{ ids: string[]; stages: ReturnType<typeof stageSummaries>; artifacts: string[]; releases: string[] }> {
    const [c] = await entities.entity('Commit', key);
    assert.ok(c, `commit ${key} is in the graph`);
    const r = (await walker.walk([{ origin: 'o', entities: [c] }], 'down')).get('o')!;
    const events = (await eventReads.events([...r.events])).sort((a, b) =>
      a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1,
    );
    const keys = (label: string): string[] =>
      [...new Set([...r.entities.values()].filter((x) => x.label === label).map((x) => x.key))].sort();
    return { ids: events.map((e) => e.id), stages: stageSummaries(events), artifacts: keys('Artifact'), releases: keys('Release') };
  }

  it('takes a shuffled, repeated two-site stream batch by batch and ends as the rebuild and the full walk do', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.nat(), { minLength: 0, maxLength: 20 }),
        async (order, batches, repeats) => {
          const run = `j${randomBytes(4).toString('hex')}`;
          const base = Date.UTC(2046, 0, 1) + (order[0]! % 300) * 86_400_000;
          const pipelines = [eiffelPipeline(`${run}a`, base), eiffelPipeline(`${run}b`, base + 3_600_000)];
          const stream = pipelines.flatMap(parsed);
          // Repeats (at-least-once delivery), then a shuffle driven by the generated numbers.
          for (const r of repeats) stream.push(stream[r % stream.length]!);
          for (let i = stream.length - 1; i > 0; i--) {
            const j = order[i % order.length]! % (i + 1);
            [stream[i], stream[j]] = [stream[j]!, stream[i]!];
          }
          // Batch by batch, the journey step after each, as the correlator runs it.
          const size = Math.ceil(stream.length / batches);
          for (let i = 0; i < stream.length; i += size) {
            await graph.writeEvents(stream.slice(i, i + size));
            await journeys.drain();
          }
          const keys = pipelines.flatMap((p) => Object.values(p.commits).map((c) => `${p.repository}@${c.sha}`));
          const incremental = new Map<string, JourneyRecord>();
          for (const k of keys) {
            const j = await journeys.byKey(k);
            assert.ok(j, `journey of ${k} exists`);
            assert.equal(j.dirty, false);
            incremental.set(k, j.journey);
          }
          // Each commit's journey holds the events its pipeline says it caused, and nothing else.
          for (const p of pipelines) {
            for (const c of Object.values(p.commits)) {
              const j = incremental.get(`${p.repository}@${c.sha}`)!;
              assert.deepEqual(j.events.map((e) => e.id).sort(), [...c.journey].sort(), `${p.run} ${c.name}`);
            }
          }
          // The full walk (oracle) agrees on events, stage bar, artifacts and releases.
          for (const k of keys) {
            const w = await walked(k);
            const j = incremental.get(k)!;
            assert.deepEqual(
              j.events.map((e) => e.id),
              w.ids,
              k,
            );
            assert.deepEqual(j.stages, w.stages, k);
            assert.deepEqual(j.artifacts, w.artifacts, k);
            assert.deepEqual(j.releases, w.releases, k);
          }
          // The news of each event (the live stream's): the commits whose pipeline it belongs to, and the
          // stages it took them to first (it is their earliest event at its stage, by time then id).
          const byId = new Map(stream.map((e) => [e.id, e]));
          const news = await journeys.news([...byId.keys()]);
          for (const [id, e] of byId) {
            const n = news.get(id);
            assert.ok(n?.settled, `${id} settled`);
            const mine = pipelines.flatMap((p) =>
              Object.values(p.commits)
                .filter((c) => c.journey.includes(id))
                .map((c) => ({ key: `${p.repository}@${c.sha}`, journey: c.journey })),
            );
            assert.deepEqual(n.commits, mine.map((m) => m.key).sort(), `commits of ${id}`);
            const first = (ids: readonly string[]) =>
              ids
                .map((x) => byId.get(x)!)
                .filter((x) => x.stage === e.stage)
                .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1))[0]?.id;
            const reached = e.stage === 'other' ? [] : mine.filter((m) => first(m.journey) === id).map((m) => m.key);
            assert.deepEqual(
              n.reached.map((r) => r.commit),
              reached.sort(),
              `stages reached by ${id} (${e.stage})`,
            );
          }
          // A rebuild of the same journeys from the graph changes nothing.
          await journeys.rebuildOf(keys);
          for (const k of keys) assert.deepEqual(facts((await journeys.byKey(k))!.journey), facts(incremental.get(k)!), k);
        },
      ),
      { numRuns: 4 },
    );
  });

  it('recomputes a journey when a late parent arrives: the child written first joins the journey then', async () => {
    const run = `l${randomBytes(4).toString('hex')}`;
    const p = eiffelPipeline(run, Date.UTC(2046, 6, 1));
    const events = parsed(p);
    const c1 = p.commits.C1;
    const key = `${p.repository}@${c1.sha}`;
    // The build's started event, written before everything it hangs on.
    const finishedId = c1.journey[3]!;
    const late = events.filter((e) => e.id === finishedId);
    await graph.writeEvents(late);
    await journeys.drain();
    assert.equal(await journeys.byKey(key), undefined, 'no journey before its commit arrives');
    await graph.writeEvents(events.filter((e) => e.id !== finishedId));
    await journeys.drain();
    const j = (await journeys.byKey(key))!.journey;
    assert.ok(
      j.events.some((e) => e.id === finishedId),
      'the early event is in the journey',
    );
    assert.deepEqual(j.events.map((e) => e.id).sort(), [...c1.journey].sort());
    assert.equal(j.furthestStage, 'release');
  });

  it('tells when the graph last changed: an event taken in, then its journey written, and not otherwise, from two indexes', async () => {
    const run = `w${randomBytes(4).toString('hex')}`;
    const p = eiffelPipeline(run, Date.UTC(2046, 10, 1));
    const events = parsed(p);
    await journeys.drain();
    // Null on an empty graph (this test may run alone on a fresh mesh).
    const quiet = await journeys.lastChange();
    assert.equal(await journeys.lastChange(), quiet, 'unchanged while nothing is written');
    await graph.writeEvents(events);
    const written = (await journeys.lastChange())!;
    assert.ok(written > (quiet ?? 0), 'events taken in move it');
    await journeys.drain();
    const journeyed = (await journeys.lastChange())!;
    assert.ok(journeyed > written, 'the journeys written after them move it again');
    // Redelivered events change nothing, so they leave it where it is.
    await graph.writeEvents(events);
    await journeys.drain();
    assert.equal(await journeys.lastChange(), journeyed);
    // Each side is read from the end of its index, not by scanning the label.
    const operators = (await planOf(LAST_CHANGE)).map((o) => o.type);
    assert.equal(operators.filter((o) => /NodeIndexScan/.test(o)).length, 2, operators.join(' < '));
    assert.ok(!operators.some((o) => /NodeByLabelScan|AllNodesScan|Sort/.test(o) && !/PartialSort/.test(o)), operators.join(' < '));
  });

  it("reads what changed since a reader's cursor in write order, not the whole window sorted", async () => {
    // A reader's round after the first asks for the journeys written since its cursor: a seek on the
    // write-time index, in its order, whatever the planner thinks of the window's size.
    const operators = (
      await planOf(CHANGED_SINCE, { from: '2026-01-01T00:00:00.000Z', since: neo4j.int(Date.now() - 60_000), limit: neo4j.int(5000) })
    ).map((o) => `${o.type} ${o.details}`);
    assert.ok(
      operators.some((o) => /^NodeIndexSeekByRange .*Journey\(updatedAt\)/.test(o)),
      operators.join(' < '),
    );
    assert.ok(!operators.some((o) => /^(Sort|Top) /.test(o)), `ordered by the index, not sorted: ${operators.join(' < ')}`);
  });

  it('tells whether any event lies in spans of event time, from a seek on the event-time index', async () => {
    // A minute of its own, decades after every other test's events.
    const start = Date.UTC(2071, 2, 3) + Math.floor(Math.random() * 100_000) * 60_000;
    const events = parsed(eiffelPipeline(`s${randomBytes(4).toString('hex')}`, start));
    const times = events.map((e) => Date.parse(e.time)).sort((a, b) => a - b);
    const first = times[0]!;
    const last = times[times.length - 1]!;
    const within = { from: first, to: last + 1 };
    assert.equal(await journeys.anyEventIn([within]), false, 'nothing there before the pipeline is written');
    await graph.writeEvents(events);
    assert.equal(await journeys.anyEventIn([within]), true);
    // Spans are half-open: one that ends at the first event's time, or starts just after the last, holds none.
    assert.equal(await journeys.anyEventIn([{ from: first - 60_000, to: first }]), false);
    assert.equal(await journeys.anyEventIn([{ from: last + 1, to: last + 60_000 }]), false);
    assert.equal(await journeys.anyEventIn([{ from: last, to: last + 1 }]), true, 'the last event is at the start of its span');
    // Any one span holding an event is enough; an empty span holds none.
    assert.equal(
      await journeys.anyEventIn([
        { from: first - 60_000, to: first },
        { from: first, to: first + 1 },
      ]),
      true,
    );
    assert.equal(await journeys.anyEventIn([{ from: last, to: last }]), false);
    assert.equal(await journeys.anyEventIn([]), false);
    // Each span is a range seek on the event-time index, never a scan of the events.
    const operators = (await planOf(ANY_EVENT_IN, { spans: [{ from: neo4j.int(first), to: neo4j.int(last) }] })).map(
      (o) => `${o.type} ${o.details}`,
    );
    assert.ok(
      operators.some((o) => /^NodeIndexSeekByRange .*Event\(time\)/.test(o)),
      operators.join(' < '),
    );
    assert.ok(!operators.some((o) => /^(NodeByLabelScan|AllNodesScan|NodeIndexScan) /.test(o)), operators.join(' < '));
  });

  it('traces rebuild-journeys recomputes the model from the graph', async () => {
    const run = `r${randomBytes(4).toString('hex')}`;
    const p = eiffelPipeline(run, Date.UTC(2046, 8, 1));
    await graph.writeEvents(parsed(p));
    await journeys.drain();
    const key = `${p.repository}@${p.commits.C2.sha}`;
    const before = (await journeys.byKey(key))!.journey;
    // Damage the model: a journey that lost its events and stages.
    await graph.write(`MATCH (j:Journey {key: $key}) SET j.evIds = [], j.releaseFirst = null`, { key });
    assert.equal((await journeys.byKey(key))!.journey.events.length, 0);
    const cli = spawnSync(
      process.execPath,
      ['bin/traces.js', 'rebuild-journeys', '--config', process.env.NOT_TEST_MESH ?? 'test/mesh.test.yaml'],
      {
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stderr, /journeys rebuilt: \d+ recomputed/);
    assert.deepEqual(facts((await journeys.byKey(key))!.journey), facts(before));
  });
});
