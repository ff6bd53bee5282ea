import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { parseMessage } from '@not/events';
import {
  GraphRepository,
  Journeys,
  SubscriptionStore,
  subscriptionInputSchema,
  type InsightFinding,
  type StoredEvent,
  type Subscription,
  WalkReads,
} from '@not/graph';
import { eiffelPipeline, type Pipeline } from '../../apps/explorer/src/testing/eiffel-pipeline.js';
import { testStatus } from '../support/mesh.js';

/**
 * Subscriptions against a real Neo4j: firings are recorded by the journey step in the write that
 * records the match, exactly once per (subscription, change) whatever the order, repeats and delay of
 * the events, and with two correlators stepping at once. Expectations come from the generated
 * pipeline's plan (which commits reach promotion, which fail), not from the code.
 */
describe('subscriptions: firings recorded once, from the ingest path, with no time limit on late links', () => {
  let graph: GraphRepository;
  let store: SubscriptionStore;
  let subs: Subscription[] = [];
  /** Two journey steppers over the same graph, as two correlators run them. */
  let one: Journeys;
  let two: Journeys;

  before(async () => {
    const status = await testStatus();
    graph = new GraphRepository({ url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' });
    await graph.ensureSchema();
    store = new SubscriptionStore(graph);
    const limits = () => ({ walkSteps: 40, events: 20_000 });
    // Only this test's subscriptions are watched (the mesh's correlator watches the graph's own).
    const watch = async () => subs;
    one = new Journeys(graph, new WalkReads(graph), limits, watch);
    two = new Journeys(graph, new WalkReads(graph), limits, watch);
  });
  // The mesh's correlator watches the graph's subscriptions too: take this test's away when done.
  afterEach(async () => {
    for (const s of subs) await store.delete(s.id);
  });
  after(async () => graph?.onModuleDestroy());

  /** The pipeline's events as the correlator stores them: parsed, with the body they arrived in. */
  const parsed = (p: Pipeline, shiftPromotionMs = 0): StoredEvent[] =>
    p.events.flatMap((e) => {
      const event =
        shiftPromotionMs && e.event.meta.type === 'EiffelConfidenceLevelModifiedEvent'
          ? { ...e.event, meta: { ...e.event.meta, time: e.event.meta.time + shiftPromotionMs } }
          : e.event;
      const raw = JSON.stringify(event);
      const r = parseMessage(
        { body: Buffer.from(raw), headers: {}, routingKey: `site.site-${e.site}.ci.eiffel` },
        { eiffelSchema: 'warn' },
      );
      assert.ok(r.ok, `pipeline event ${e.event.meta.id} parses`);
      return r.events.map((x) => ({ ...x, raw }));
    });

  async function subscribe(condition: unknown): Promise<Subscription> {
    const input = subscriptionInputSchema.parse({ name: 'test', condition, delivery: { type: 'amqp' } });
    const now = new Date().toISOString();
    const s: Subscription = {
      ...input,
      id: `sub-${randomBytes(8).toString('hex')}`,
      owner: 'test',
      createdAt: now,
      updatedAt: now,
      areas: [],
    };
    await store.save(s, null);
    subs.push(s);
    return s;
  }

  async function firedFor(s: Subscription): Promise<string[]> {
    return (await store.firings(s.id, 1000)).map((f) => f.subject).sort();
  }

  /** Writes the stream in batches, both steppers running after each batch at once. */
  async function ingest(stream: StoredEvent[], batches: number): Promise<void> {
    const size = Math.ceil(stream.length / batches);
    for (let i = 0; i < stream.length; i += size) {
      await graph.writeEvents(stream.slice(i, i + size));
      await Promise.all([one.drain(50), two.drain(50)]);
    }
  }

  function shuffled<T>(xs: T[], seed: number): T[] {
    const out = [...xs];
    let s = seed;
    for (let i = out.length - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      const j = s % (i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  it('fires once per change that reaches promotion, for a shuffled two-site stream with 10 % repeats and two correlators', async () => {
    subs = [];
    const run = `s${randomBytes(4).toString('hex')}`;
    const pipelines = [eiffelPipeline(`${run}a`, Date.UTC(2047, 0, 1)), eiffelPipeline(`${run}b`, Date.UTC(2047, 0, 2))];
    const promoted = await subscribe({ on: 'stage', stage: 'promotion', change: { repository: `git.example.com/explorer/shop-${run}` } });
    const failing = await subscribe({ on: 'failure', change: { repository: `git.example.com/explorer/shop-${run}` } });
    const stream = pipelines.flatMap((p) => parsed(p));
    const repeats = stream.filter((_, i) => i % 10 === 3);
    await ingest(shuffled([...stream, ...repeats], 7), 9);
    // Replayed: the same events again, in another order.
    await ingest(shuffled(stream, 11), 3);

    const expected = (pred: (c: Pipeline['commits']['C1']) => boolean) =>
      pipelines
        .flatMap((p) =>
          Object.values(p.commits)
            .filter(pred)
            .map((c) => `${p.repository}@${c.sha}`),
        )
        .sort();
    assert.deepEqual(
      await firedFor(promoted),
      expected((c) => c.times.promotion !== undefined),
    );
    // The plan's failures: C3's build fails, C5's tests fail.
    assert.deepEqual(
      await firedFor(failing),
      expected((c) => c.name === 'C3' || c.name === 'C5'),
    );
    const [f] = await store.firings(promoted.id, 1);
    assert.equal(f!.status, 'pending', 'waiting in the outbox for a dispatcher');
  });

  it('fires when the closing event arrives before everything upstream of it, and when it comes two hours later in event time', async () => {
    subs = [];
    const run = `o${randomBytes(4).toString('hex')}`;
    const early = eiffelPipeline(`${run}e`, Date.UTC(2047, 1, 1));
    const late = eiffelPipeline(`${run}l`, Date.UTC(2047, 1, 2));
    const s = await subscribe({ on: 'stage', stage: 'promotion', change: { repository: `git.example.com/explorer/shop-${run}` } });
    // Early: the confidence events first, then the rest.
    const e = parsed(early);
    const closing = (x: StoredEvent) => x.type === 'EiffelConfidenceLevelModifiedEvent';
    await ingest(e.filter(closing), 1);
    assert.deepEqual(await firedFor(s), [], 'nothing upstream yet: no change to fire for');
    await ingest(
      e.filter((x) => !closing(x)),
      4,
    );
    // Late: everything else first; the confidence events two hours after in event time, last.
    const l = parsed(late, 2 * 3_600_000);
    await ingest(
      l.filter((x) => !closing(x)),
      4,
    );
    await ingest(l.filter(closing), 1);
    const want = [early, late].flatMap((p) => [p.commits.C1, p.commits.C2].map((c) => `${p.repository}@${c.sha}`)).sort();
    assert.deepEqual(await firedFor(s), want);
  });

  it('does not fire for a change that met the condition before the subscription existed', async () => {
    subs = [];
    const run = `b${randomBytes(4).toString('hex')}`;
    const p = eiffelPipeline(run, Date.UTC(2047, 2, 1));
    const events = parsed(p);
    await ingest(events, 2);
    const s = await subscribe({ on: 'stage', stage: 'promotion', change: { repository: p.repository } });
    // The same events again (a replay) touch the journeys, which met the condition already.
    await ingest(events, 2);
    assert.deepEqual(await firedFor(s), []);
  });

  it('fires event conditions once per matching event, and stuck changes once per change', async () => {
    subs = [];
    const run = `x${randomBytes(4).toString('hex')}`;
    const p = eiffelPipeline(run, Date.UTC(2025, 3, 1));
    const clm = await subscribe({
      on: 'event',
      type: 'EiffelConfidenceLevelModifiedEvent',
      site: 'site-b',
      fields: { 'data.value': 'SUCCESS' },
    });
    // A1 is keyed by its digest in the graph; the pattern names its purl, the artifact's other key.
    const a1 = await subscribe({ on: 'artifact', artifact: `purl:${p.purls.A1.replace(/@.*$/, '@*')}`, stage: 'test', outcome: 'success' });
    const events = parsed(p);
    await ingest(events, 3);
    await ingest(events, 1);
    const wanted = p.events
      .filter((e) => e.event.meta.type === 'EiffelConfidenceLevelModifiedEvent' && e.event.data['value'] === 'SUCCESS')
      .map((e) => e.event.meta.id);
    assert.ok(wanted.length > 0);
    const ours = new Set(events.map((e) => e.id));
    assert.deepEqual(
      (await firedFor(clm)).filter((id) => ours.has(id)),
      wanted.sort(),
    );

    // The plan: A1 is built from C1, and its tests pass at site B.
    assert.deepEqual(await firedFor(a1), [`${p.repository}@${p.commits.C1.sha}`]);

    // C5 stops at test on a failure (not stuck); C3 at build on a failure. A change whose furthest stage is
    // build and that did not fail there: none in the plan, so take "stuck at release" — the released
    // commits wait there, and the events are months old.
    const stuck = await subscribe({ on: 'stuck', stage: 'release', after: '1d', change: { repository: p.repository } });
    const now = Date.now();
    await store.sweepStuck(subs, now);
    await store.sweepStuck(subs, now + 1000);
    const released = Object.values(p.commits)
      .filter((c) => c.times.release !== undefined)
      .map((c) => `${p.repository}@${c.sha}`)
      .sort();
    assert.ok(released.length > 0);
    assert.deepEqual(await firedFor(stuck), released);
  });

  it('fires for a stuck change behind other stuck changes its filter does not match, more than one round reads', async () => {
    subs = [];
    const run = `k${randomBytes(4).toString('hex')}`;
    // Months old: the released commits have waited there longer than the day the condition allows.
    const pipelines = ['a', 'b', 'c'].map((x, i) => eiffelPipeline(`${run}${x}`, Date.UTC(2025, 4, 1 + i)));
    await ingest(
      pipelines.flatMap((p) => parsed(p)),
      3,
    );
    const released = pipelines
      .flatMap((p) =>
        Object.values(p.commits)
          .filter((c) => c.times.release !== undefined)
          .map((c) => `${p.repository}@${c.sha}`),
      )
      .sort();
    assert.ok(released.length >= 4, 'the plans release several commits');
    // The last in key order, by its sha: the commit is checked on each journey read, so every journey
    // stuck at release in the graph is a candidate (these pipelines' others, and other tests').
    const target = released[released.length - 1]!;
    const stuck = await subscribe({ on: 'stuck', stage: 'release', after: '1d', change: { commit: target.split('@')[1] } });
    const now = Date.now();
    // Pages of one journey (the old sweep read one page a round, the same one every round): the round
    // reads on past the others until its one firing is found.
    await store.sweepStuck(subs, now, 1, 10_000_000);
    assert.deepEqual(await firedFor(stuck), [target]);
    for (let round = 0; round < 3; round++) await store.sweepStuck(subs, now + round, 1);
    assert.deepEqual(await firedFor(stuck), [target], 'once');
  });

  it('records an insight firing once per finding episode, with two leaders recording a round at once, and again after a gap', async () => {
    subs = [];
    const run = `i${randomBytes(4).toString('hex')}`;
    const HOUR = 3_600_000;
    const gap = 6 * HOUR;
    // Findings for a site of this run only (no other finding of the graph is about it).
    const finding = (type: 'forecast' | 'anomaly', since: number): InsightFinding => ({
      id: `${type}:queue:waiting-for-build:site:${run}`,
      type,
      metric: 'queue',
      segment: 'waiting-for-build',
      dimension: 'site',
      group: run,
      severity: 0.8,
      summary: `${type} at ${run}`,
      since,
      evidence: { kind: type, objective: 48 },
    });
    const forecasts = await subscribe({ on: 'insight', types: ['forecast'], sites: [run] });
    const anomalies = await subscribe({ on: 'insight', types: ['anomaly'], sites: [run] });
    const t0 = Date.now();
    const [a, b] = [new SubscriptionStore(graph), new SubscriptionStore(graph)];
    // Round one, recorded by two replicas at once (two leaders overlapping): one firing.
    const first = finding('forecast', t0 - 48 * HOUR);
    await Promise.all([a.recordInsights(subs, [first], t0 + 1000, gap), b.recordInsights(subs, [first], t0 + 1000, gap)]);
    // Ten more rounds, the finding's since sliding with them: the same episode.
    for (let i = 1; i <= 10; i++)
      await a.recordInsights(subs, [finding('forecast', t0 - 48 * HOUR + i * 600_000)], t0 + 1000 + i * 600_000, gap);
    const start = new Date(t0 - 48 * HOUR).toISOString();
    assert.deepEqual(await firedFor(forecasts), [`insight:${first.id}@${start}`]);
    assert.deepEqual(await firedFor(anomalies), []);
    // No round at all for longer than the gap (every explorer stopped), the finding still there after: the
    // same episode, nothing fired again.
    const restart = t0 + gap + 3 * HOUR;
    await a.recordInsights(subs, [finding('forecast', restart - 40 * HOUR)], restart, gap);
    assert.deepEqual(await firedFor(forecasts), [`insight:${first.id}@${start}`]);
    // Rounds without the finding for longer than the gap: its episode is forgotten, and when it is back
    // it begins a new one, which fires.
    const gone = restart + 600_000;
    await a.recordInsights(subs, [], gone, gap);
    const [episode] = await graph.read<{ m: number }>(`MATCH (x:InsightEpisode {finding: $id}) RETURN x.missedSince AS m`, {
      id: first.id,
    });
    assert.equal(Number(episode!.m), gone, 'missed since the first round without it');
    await a.recordInsights(subs, [], gone + gap + 600_000, gap);
    assert.deepEqual(await graph.read(`MATCH (x:InsightEpisode {finding: $id}) RETURN x`, { id: first.id }), [], 'forgotten');
    const later = gone + gap + 1_200_000;
    await a.recordInsights(subs, [finding('forecast', later - 24 * HOUR)], later, gap);
    assert.deepEqual(await firedFor(forecasts), [
      `insight:${first.id}@${start}`,
      `insight:${first.id}@${new Date(later - 24 * HOUR).toISOString()}`,
    ]);
    const [body] = (await graph.read<{ body: string }>(`MATCH (f:Firing {subject: $s}) RETURN f.body AS body`, {
      s: `insight:${first.id}@${start}`,
    })) as Array<{ body: string }>;
    const sent = JSON.parse(body!.body) as { finding: InsightFinding; subscription: { id: string } };
    assert.equal(sent.subscription.id, forecasts.id);
    assert.deepEqual(sent.finding, first, 'the finding as it was when its episode began');
    await graph.write(`MATCH (x:InsightEpisode) WHERE x.finding ENDS WITH $run DELETE x`, { run: `:${run}` });
  });
});
