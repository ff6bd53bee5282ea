import { BadRequestException, ServiceUnavailableException } from '@nestjs/common';
import type { GraphRepository, InsightFinding, JourneyEvent, JourneyRecord, Journeys, Subscription, SubscriptionStore } from '@not/graph';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { explorerConfigSchema, type ExplorerConfig } from '../explorer.config.js';
import { ZodPipe } from '../validation.js';
import { InsightsQuery, TrendsQuery } from './trends.controller.js';
import { TrendsService } from './trends.service.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

function config(trends: Record<string, unknown> = {}): ExplorerConfig {
  return explorerConfigSchema.parse({
    neo4j: { url: 'bolt://127.0.0.1:7687', password: 'secret' },
    http: { port: 8080 },
    auth: { tokens: ['explorer-token-0123'] },
    areas: [{ name: 'payments', repositoryPrefix: 'git.example.com/acme/payments' }],
    trends,
  });
}

/** A change that committed at `t` and has waited for a build since `t + 1 h` (merged, never built). */
function waiting(key: string, t: number, site = 'a'): JourneyRecord {
  const events: JourneyEvent[] = [
    { id: `${key}/c`, stage: 'commit', phase: null, outcome: null, time: new Date(t).toISOString(), site },
    { id: `${key}/m`, stage: 'merge', phase: null, outcome: null, time: new Date(t + HOUR).toISOString(), site },
  ];
  return { key, repository: 'git.example.com/acme/payments', events } as unknown as JourneyRecord;
}

/** The same change, built 30 minutes after its merge. */
function built(key: string, t: number, site = 'a'): JourneyRecord {
  const j = waiting(key, t, site);
  return {
    ...j,
    events: [
      ...j.events,
      { id: `${key}/b`, stage: 'build', phase: 'triggered', outcome: null, time: new Date(t + 1.5 * HOUR).toISOString(), site },
    ],
  };
}

/** A journey model that answers `changedSince` from pages it was given, recording the cursors asked with. */
class FakeJourneys {
  readonly asked: Array<number | null> = [];
  pages: Array<{ journeys: JourneyRecord[]; cursor: number | null }> = [];
  changedSince(_from: string, since: number | null): Promise<{ journeys: JourneyRecord[]; cursor: number | null }> {
    this.asked.push(since);
    return Promise.resolve(this.pages.shift() ?? { journeys: [], cursor: since });
  }
}
const graph = { write: () => Promise.resolve([{ mine: true }]) } as unknown as GraphRepository;

/** A subscription store that records what each round hands it. */
class FakeSubscriptions {
  readonly rounds: Array<{ findings: readonly InsightFinding[]; now: number; gapMs: number }> = [];
  enabled(): Promise<Subscription[]> {
    return Promise.resolve([]);
  }
  recordInsights(_subs: readonly Subscription[], findings: readonly InsightFinding[], now: number, gapMs: number): Promise<number> {
    this.rounds.push({ findings, now, gapMs });
    return Promise.resolve(0);
  }
}

function service(
  journeys: FakeJourneys,
  c = config(),
  g = graph,
  subs = new FakeSubscriptions(),
  registry = new Registry(),
): TrendsService {
  return new TrendsService(journeys as unknown as Journeys, g, subs as unknown as SubscriptionStore, c, registry);
}

/** A round of `s` with the clock `aheadMs` ahead. */
async function tickAhead(s: TrendsService, aheadMs: number): Promise<void> {
  const realNow = Date.now;
  Date.now = () => realNow() + aheadMs;
  try {
    await s.tick();
  } finally {
    Date.now = realNow;
  }
}

/** A counter's values by one label. */
async function counts(registry: Registry, name: string, label: string): Promise<Record<string, number>> {
  const values = (await registry.getSingleMetric(name)!.get()).values;
  return Object.fromEntries(values.map((v) => [String(v.labels[label]), v.value]));
}

describe('trends service', () => {
  it('hands each round of the lease holder, and only its, to the subscriptions on findings', async () => {
    const t0 = Date.now() - 20 * DAY;
    const j = new FakeJourneys();
    j.pages = [{ journeys: Array.from({ length: 40 }, (_, i) => waiting(`k${i}`, t0 + i * 12 * HOUR)), cursor: 1 }];
    const leader = new FakeSubscriptions();
    const s = service(j, config({ episodeGapHours: 2 }), graph, leader);
    await s.tick();
    assert.equal(leader.rounds.length, 1);
    assert.equal(leader.rounds[0]!.gapMs, 2 * HOUR);
    assert.deepEqual(
      leader.rounds[0]!.findings,
      s.insights({ limit: 10_000 }).findings,
      'every finding of the round, as /insights has them',
    );
    const other = new FakeSubscriptions();
    const notMine = { write: () => Promise.resolve([{ mine: false }]) } as unknown as GraphRepository;
    await service(new FakeJourneys(), config(), notMine, other).tick();
    assert.equal(other.rounds.length, 0);
  });

  it('refuses an episode gap shorter than two rounds, naming the field', () => {
    assert.throws(
      () => config({ intervalSeconds: 3600, episodeGapHours: 1 }),
      (e: unknown) => /episodeGapHours/.test(String(e)) && /two rounds/.test(String(e)),
    );
  });

  it('answers 503 until its first round, and says so when disabled', async () => {
    const s = service(new FakeJourneys());
    assert.throws(
      () => s.insights({ limit: 10 }),
      (e: unknown) => e instanceof ServiceUnavailableException && /not computed yet/.test(JSON.stringify(e.getResponse())),
    );
    await s.tick();
    assert.equal(s.insights({ limit: 10 }).findings.length, 0);
    const off = service(new FakeJourneys(), config({ enabled: false }));
    assert.throws(
      () => off.trends({ groupBy: 'all', bucket: 'hour' }),
      (e: unknown) => e instanceof ServiceUnavailableException && /trends.enabled: false/.test(JSON.stringify(e.getResponse())),
    );
  });

  it('keeps the newest maxJourneys journeys by first commit, whatever order they came in, ties in the order taken', async () => {
    const now = Date.now();
    const key = (n: string, i: number): string => `git.example.com/acme/payments@${n}${i}`;
    // 90 recent changes first, then 20 that committed together 8 days ago, then 20 from 10 days ago: 130 for 100 places.
    const recent = Array.from({ length: 90 }, (_, i) => waiting(key('r', i), now - 5 * DAY + i * 60_000));
    const tied = Array.from({ length: 20 }, (_, i) => waiting(key('t', i), now - 8 * DAY));
    const old = Array.from({ length: 20 }, (_, i) => waiting(key('o', i), now - 10 * DAY));
    const j = new FakeJourneys();
    j.pages = [{ journeys: [...recent, ...tied, ...old], cursor: 1 }];
    const s = service(j, config({ maxJourneys: 100 }));
    await s.tick();
    const queue = (from: number, to: number): number[] =>
      s
        .trends({
          groupBy: 'all',
          bucket: 'hour',
          segment: 'waiting-for-build',
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
        })
        .series[0]!.points.map((p) => p.queue);
    // 30 too many: the 20 oldest go, and the first 10 taken of the 20 tied ones; the other 10 wait from 8 days ago.
    assert.deepEqual([...new Set(queue(now - 7 * DAY, now - 6 * DAY))], [10]);
    assert.equal(
      queue(now - 9 * DAY, now - 8.5 * DAY).reduce((a, b) => a + b, 0),
      0,
      'none of the oldest is left',
    );
    assert.equal(queue(now - HOUR, now).at(-1), 100);
    assert.equal(s.trends({ groupBy: 'all', bucket: 'day' }).truncated, true);
  });

  it('keeps the findings when the journey read again at the cursor is one it left out as the oldest', async () => {
    const now = Date.now();
    const key = (i: number): string => `git.example.com/acme/payments@${i}`;
    // 100 places; the last journey written (the cursor's) committed before all the others: it is left out.
    const newer = Array.from({ length: 100 }, (_, i) => waiting(key(i), now - 5 * DAY + i * 60_000));
    const oldest = waiting(key(100), now - 10 * DAY);
    const j = new FakeJourneys();
    j.pages = [{ journeys: [...newer, oldest], cursor: 1 }];
    const registry = new Registry();
    const s = service(j, config({ maxJourneys: 100 }), graph, new FakeSubscriptions(), registry);
    await s.tick();
    const first = s.insights({ limit: 10 }).generatedAt;
    await new Promise((r) => setTimeout(r, 5));
    // The journey model answers the journey at the cursor again, unchanged.
    j.pages = [{ journeys: [waiting(key(100), now - 10 * DAY)], cursor: 1 }];
    await s.tick();
    assert.equal(s.insights({ limit: 10 }).generatedAt, first, 'the findings of the first round stay');
    assert.equal((await registry.getSingleMetric('traces_explorer_trends_reused_total')!.get()).values[0]!.value, 1);
    assert.equal(s.trends({ groupBy: 'all', bucket: 'day' }).truncated, true);
    assert.deepEqual(await counts(registry, 'traces_explorer_trends_journeys_read_total', 'result'), { new: 101, not_taken: 1 });
    assert.deepEqual(await counts(registry, 'traces_explorer_trends_journeys_dropped_total', 'reason'), { excess: 1 });
    // A journey newer than the oldest kept still enters, and the findings are judged again.
    j.pages = [{ journeys: [waiting(key(101), now - HOUR)], cursor: 2 }];
    await s.tick();
    assert.deepEqual(await counts(registry, 'traces_explorer_trends_journeys_dropped_total', 'reason'), { excess: 2 });
    assert.ok(s.insights({ limit: 10 }).generatedAt > first, 'a newer journey written: judged again');
    const queue = s.trends({ groupBy: 'all', bucket: 'hour', segment: 'waiting-for-build' }).series[0]!.points.at(-1)!.queue;
    assert.equal(queue, 100, 'still the newest 100');
  });

  it('reads a backlog round after round without waiting, and judges once it is read', async () => {
    const now = Date.now();
    const key = (i: number): string => `git.example.com/acme/payments@${i}`;
    const j = new FakeJourneys();
    // Six pages of 100 (maxJourneysPerRound): a round reads five, the sixth is short.
    j.pages = Array.from({ length: 6 }, (_, p) => ({
      journeys: Array.from({ length: p < 5 ? 100 : 50 }, (_, i) => waiting(key(p * 100 + i), now - 5 * DAY + (p * 100 + i) * 60_000)),
      cursor: p + 1,
    }));
    const registry = new Registry();
    const subs = new FakeSubscriptions();
    const s = service(j, config({ maxJourneysPerRound: 100 }), graph, subs, registry);
    await s.tick();
    assert.throws(
      () => s.insights({ limit: 10 }),
      (e: unknown) => e instanceof ServiceUnavailableException && /500 so far/.test(JSON.stringify(e.getResponse())),
      'five full pages read: not judged on part of the window',
    );
    assert.equal(subs.rounds.length, 0, 'nothing judged, nothing told to the subscriptions');
    assert.equal((await registry.getSingleMetric('traces_explorer_trends_backlog_rounds_total')!.get()).values[0]!.value, 1);
    await s.tick();
    assert.equal(s.insights({ limit: 10 }).journeys, 550, 'the rest read: judged on the whole window');
    assert.equal(subs.rounds.length, 1);
  });

  it('runs the next round at once while a backlog is read, then waits intervalSeconds', async () => {
    const now = Date.now();
    const j = new FakeJourneys();
    j.pages = Array.from({ length: 11 }, (_, p) => ({
      journeys: Array.from({ length: p < 10 ? 100 : 1 }, (_, i) =>
        waiting(`git.example.com/acme/payments@${p}-${i}`, now - DAY + p * HOUR),
      ),
      cursor: p + 1,
    }));
    const s = service(j, config({ maxJourneysPerRound: 100, intervalSeconds: 300 }));
    s.onApplicationBootstrap();
    try {
      for (let i = 0; i < 200 && j.asked.length < 11; i++) await new Promise((r) => setTimeout(r, 10));
      // Three rounds of the default 300 s interval would take 15 minutes; these come one after another.
      assert.equal(j.asked.length, 11, 'the eleven pages read by rounds that followed each other');
      for (let i = 0; i < 100; i++) {
        try {
          s.insights({ limit: 1 });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      assert.equal(s.insights({ limit: 1 }).journeys, 1001);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(j.asked.length, 11, 'no backlog left: the next round waits its interval');
    } finally {
      await s.onModuleDestroy();
    }
  });

  it('judges a backlog that does not end once refreshSeconds have passed', async () => {
    const now = Date.now();
    const j = new FakeJourneys();
    const page = (p: number) => ({
      journeys: Array.from({ length: 100 }, (_, i) => waiting(`git.example.com/acme/payments@${p}-${i}`, now - DAY + p * HOUR)),
      cursor: p + 1,
    });
    j.pages = Array.from({ length: 10 }, (_, p) => page(p));
    const s = service(j, config({ maxJourneysPerRound: 100, refreshSeconds: 60 }));
    await s.tick();
    assert.throws(() => s.insights({ limit: 1 }), ServiceUnavailableException);
    await tickAhead(s, 61_000);
    assert.equal(s.insights({ limit: 1 }).journeys, 1000, 'still full pages, but refreshSeconds after the backlog began: judged');
  });

  it('keeps the findings while no journey is written, and judges them again after refreshSeconds or a change', async () => {
    const now = Date.now();
    const j = new FakeJourneys();
    j.pages = [{ journeys: [waiting('git.example.com/acme/payments@1', now - 5 * HOUR)], cursor: 1 }];
    const registry = new Registry();
    const s = service(j, config(), graph, new FakeSubscriptions(), registry);
    const reused = async (): Promise<number> =>
      (await registry.getSingleMetric('traces_explorer_trends_reused_total')!.get()).values[0]!.value;
    await s.tick();
    const first = s.insights({ limit: 10 }).generatedAt;
    await new Promise((r) => setTimeout(r, 5));
    await s.tick();
    assert.equal(s.insights({ limit: 10 }).generatedAt, first, 'nothing written: the findings of the first round stay');
    // The journey model answers the journey at the cursor again (its time is the cursor): still nothing new.
    j.pages = [{ journeys: [waiting('git.example.com/acme/payments@1', now - 5 * HOUR)], cursor: 1 }];
    await s.tick();
    assert.equal(s.insights({ limit: 10 }).generatedAt, first, 'the same journey read again: the findings stay');
    assert.equal(await reused(), 2);
    j.pages = [{ journeys: [built('git.example.com/acme/payments@1', now - 5 * HOUR)], cursor: 2 }];
    await s.tick();
    assert.deepEqual(await counts(registry, 'traces_explorer_trends_journeys_read_total', 'result'), { new: 1, unchanged: 1, changed: 1 });
    const second = s.insights({ limit: 10 }).generatedAt;
    assert.ok(second > first, 'a journey written: judged again');
    await tickAhead(s, 900_000);
    assert.ok(s.insights({ limit: 10 }).generatedAt > second, 'refreshSeconds (900) later: judged again');
    assert.equal(await reused(), 2);
  });

  it('reads only what changed since its last round, and a rewritten journey replaces the earlier one', async () => {
    const now = Date.now();
    const j = new FakeJourneys();
    const s = service(j);
    j.pages = [
      {
        journeys: [waiting('git.example.com/acme/payments@1', now - 5 * HOUR), waiting('git.example.com/acme/payments@2', now - 5 * HOUR)],
        cursor: 111,
      },
    ];
    await s.tick();
    const queueNow = (): number => {
      const series = s.trends({ groupBy: 'all', bucket: 'hour', segment: 'waiting-for-build' }).series;
      return series[0]!.points[series[0]!.points.length - 1]!.queue;
    };
    assert.equal(queueNow(), 2);
    j.pages = [{ journeys: [built('git.example.com/acme/payments@1', now - 5 * HOUR)], cursor: 222 }];
    await s.tick();
    assert.deepEqual(j.asked, [null, 111]);
    assert.equal(queueNow(), 1);
    await s.tick();
    assert.deepEqual(j.asked, [null, 111, 222]);
  });

  it('finds a queue past its objective and filters the findings by site and type', async () => {
    const now = Date.now();
    const j = new FakeJourneys();
    const s = service(j, config({ objectives: [{ segment: 'waiting-for-build', site: 'c', queue: 3 }] }));
    // Site c: five changes have been waiting for a build for hours; with plenty of quick ones over the days before.
    const journeys: JourneyRecord[] = [];
    for (let d = 1; d <= 6; d++)
      for (let i = 0; i < 10; i++) journeys.push(built(`git.example.com/acme/payments@c${d}-${i}`, now - d * DAY + i * 600_000, 'c'));
    for (let i = 0; i < 5; i++) journeys.push(waiting(`git.example.com/acme/payments@w${i}`, now - 6 * HOUR, 'c'));
    j.pages = [{ journeys, cursor: 1 }];
    await s.tick();
    const breach = s.insights({ limit: 100, site: 'c', type: 'breach' }).findings;
    assert.equal(breach.length, 1);
    assert.equal(breach[0]!.segment, 'waiting-for-build');
    assert.equal(breach[0]!.evidence.kind === 'breach' && breach[0]!.evidence.current, 5);
    assert.equal(s.insights({ limit: 100, site: 'a', type: 'breach' }).findings.length, 0);
  });

  it('judges unchanged series at a new time as a fresh service would, and takes a changed journey in', async () => {
    const now = Date.now();
    const journeys: JourneyRecord[] = [];
    for (let d = 1; d <= 6; d++)
      for (let i = 0; i < 10; i++) journeys.push(built(`git.example.com/acme/payments@c${d}-${i}`, now - d * DAY + i * 600_000, 'c'));
    for (let i = 0; i < 5; i++) journeys.push(waiting(`git.example.com/acme/payments@w${i}`, now - 6 * HOUR, 'c'));
    const objectives = config({ objectives: [{ segment: 'waiting-for-build', site: 'c', queue: 3 }] });
    const j = new FakeJourneys();
    const s = service(j, objectives);
    j.pages = [{ journeys, cursor: 1 }];
    await s.tick();
    // Nothing changed; two days on, the five changes have waited long enough to be stuck.
    const later = now + 2 * DAY;
    const fresh = new FakeJourneys();
    fresh.pages = [{ journeys, cursor: 1 }];
    const other = service(fresh, objectives);
    await other.tick();
    assert.deepEqual(await s.computeFindings(later), await other.computeFindings(later));
    // Three of the five were built: two wait now, and the findings were judged on that.
    const stuckNow = async (): Promise<number> => (await s.computeFindings(later)).filter((f) => f.type === 'stuck').length;
    assert.equal(await stuckNow(), 5);
    j.pages = [{ journeys: [0, 1, 2].map((i) => built(`git.example.com/acme/payments@w${i}`, now - 6 * HOUR, 'c')), cursor: 2 }];
    await s.tick();
    assert.equal(await stuckNow(), 2);
  });
});

describe('trend query validation', () => {
  const problems = (pipe: ZodPipe<typeof TrendsQuery> | ZodPipe<typeof InsightsQuery>, q: Record<string, string>): string => {
    try {
      pipe.transform(q, { type: 'query' });
      return '';
    } catch (e) {
      assert.ok(e instanceof BadRequestException);
      return JSON.stringify(e.getResponse());
    }
  };
  it('says what is wrong with each bad parameter', () => {
    const trends = new ZodPipe(TrendsQuery);
    assert.match(problems(trends, { segment: 'lunch' }), /query segment: Invalid option: expected one of \\"coding\\"/);
    assert.match(problems(trends, { group: 'payments' }), /give groupBy \(area, site or repository\) with group/);
    assert.match(problems(trends, { from: '2026-10-02', to: '2026-10-01' }), /\\"from\\" must be before \\"to\\"/);
    assert.match(problems(trends, { from: '2026-01-01', to: '2026-10-01' }), /at most 5000 buckets/);
    assert.match(problems(trends, { colour: 'blue' }), /unknown parameter\(s\) \\"colour\\"/);
    assert.equal(problems(trends, { groupBy: 'site', group: 'c', bucket: 'day', from: '2026-01-01', to: '2026-10-01' }), '');
    const insights = new ZodPipe(InsightsQuery);
    assert.match(problems(insights, { area: 'x', site: 'y' }), /give area or site, not both/);
    assert.match(problems(insights, { limit: '0' }), /query limit: must be at least 1/);
    assert.match(problems(insights, { type: 'gossip' }), /query type: Invalid option/);
  });
});
