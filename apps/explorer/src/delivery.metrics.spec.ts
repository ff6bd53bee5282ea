import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@not/config';
import type { GraphRepository, Journeys } from '@not/graph';
import { Registry } from 'prom-client';
import {
  boundedAreas,
  DeliveryGauges,
  DeliveryMetricsService,
  doraByArea,
  leadTimeSeries,
  OTHER_AREA,
  relabelAreas,
  roundPlan,
  slidOver,
  waitingSeries,
  WaitingChanges,
  type DeliverySnapshot,
} from './delivery.metrics.js';
import { explorerConfigSchema, loadExplorerConfig } from './explorer.config.js';
import type { LeadTimeService } from './lead-time.service.js';
import { groupStats } from './lead-time.stats.js';
import { SEGMENTS, segmentsOf, type Segment } from './lead-time.segments.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 1, 8, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();

/** One change's segments from hours after T0 for each point. */
function change(
  area: string,
  points: { merge: number; buildStart: number; buildEnd: number; testEnd: number; promotion: number; reached: number },
) {
  const m = segmentsOf({
    commit: iso(T0),
    merge: iso(T0 + points.merge * H),
    buildStart: iso(T0 + points.buildStart * H),
    buildEnd: iso(T0 + points.buildEnd * H),
    testEnd: iso(T0 + points.testEnd * H),
    promotion: iso(T0 + points.promotion * H),
    reached: iso(T0 + points.reached * H),
  });
  return { area, ...m };
}

describe('delivery metrics: lead-time answer to series', () => {
  it('exports p50 and p90 of each stage and of the total, and each stage share, per area', () => {
    const core = [
      change('core', { merge: 1, buildStart: 2, buildEnd: 3, testEnd: 5, promotion: 6, reached: 10 }),
      change('core', { merge: 2, buildStart: 3, buildEnd: 4, testEnd: 8, promotion: 9, reached: 12 }),
      change('core', { merge: 1, buildStart: 5, buildEnd: 6, testEnd: 7, promotion: 7, reached: 8 }),
    ];
    const web = [change('web', { merge: 1, buildStart: 1, buildEnd: 2, testEnd: 2, promotion: 3, reached: 4 })];
    const { leadTime, bottleneck } = leadTimeSeries({
      groups: [
        { name: 'core', ...groupStats(core) },
        { name: 'web', ...groupStats(web) },
      ],
    });
    const value = (stage: string, area: string, q: string): number | undefined =>
      leadTime.find((x) => x.stage === stage && x.area === area && x.quantile === q)?.seconds;
    // core totals 10 h, 12 h, 8 h: nearest-rank p50 = 10 h, p90 = 12 h.
    assert.equal(value('total', 'core', '0.5'), 10 * 3600);
    assert.equal(value('total', 'core', '0.9'), 12 * 3600);
    // core test segments: 2 h, 4 h, 1 h -> p50 2 h, p90 4 h.
    assert.equal(value('test', 'core', '0.5'), 2 * 3600);
    assert.equal(value('test', 'core', '0.9'), 4 * 3600);
    assert.equal(value('waiting-for-build', 'core', '0.9'), 4 * 3600);
    assert.equal(value('total', 'web', '0.5'), 4 * 3600);
    assert.equal(leadTime.length, 2 * 2 * (SEGMENTS.length + 1));
    // core: promotion-to-release 4 + 3 + 1 = 8 h of 30 h.
    const share = (stage: Segment, area: string): number | undefined => bottleneck.find((x) => x.stage === stage && x.area === area)?.ratio;
    assert.ok(Math.abs(share('promotion-to-release', 'core')! - 8 / 30) < 1e-12);
    const coreShares = bottleneck.filter((x) => x.area === 'core').reduce((a, x) => a + x.ratio, 0);
    assert.ok(Math.abs(coreShares - 1) < 1e-12, 'the shares of one area add up to 1');
    assert.equal(bottleneck.length, 2 * SEGMENTS.length);
  });

  it('exports nothing for an empty window', () => {
    assert.deepEqual(leadTimeSeries({ groups: [] }), { leadTime: [], bottleneck: [] });
    assert.deepEqual(doraByArea([], [], 30), []);
    assert.deepEqual(waitingSeries([], Date.now()), []);
  });
});

describe('delivery metrics: DORA per area', () => {
  it('counts for an area the deployments that carried its commits, failures and the time to restore', () => {
    const d = (hours: number, failed: boolean, areas: string[], service = 'prod') => ({
      time: iso(T0 + hours * H),
      failed,
      service,
      areas,
    });
    const deployments = [
      d(0, false, ['core']),
      d(10, true, ['core', 'web']),
      d(13, false, ['core']),
      d(20, false, ['web']),
      d(30, false, []),
    ];
    const changes = [
      { area: 'core', total: 100 },
      { area: 'core', total: 300 },
      { area: 'core', total: 200 },
      { area: 'web', total: 50 },
    ];
    const byArea = new Map(doraByArea(deployments, changes, 2).map((x) => [x.area, x]));
    assert.deepEqual([...byArea.keys()], ['core', 'web']);
    assert.deepEqual(byArea.get('core'), {
      area: 'core',
      deploymentsPerDay: 1,
      leadTimeSeconds: 200,
      changeFailureRatio: 1 / 3,
      timeToRestoreSeconds: 3 * 3600,
    });
    assert.deepEqual(byArea.get('web'), {
      area: 'web',
      deploymentsPerDay: 0.5,
      leadTimeSeconds: 50,
      changeFailureRatio: 0.5,
      timeToRestoreSeconds: 10 * 3600,
    });
  });

  it('counts an incident for the areas of the deployment it is blamed on', () => {
    const d = (hours: number, areas: string[], artifacts: string[]) => ({
      time: iso(T0 + hours * H),
      failed: false,
      service: 'prod',
      areas,
      artifacts,
    });
    const deployments = [d(0, ['core'], ['lib@1']), d(5, ['web'], ['app@1']), d(6, ['core', 'web'], ['lib@2', 'app@2'])];
    const incidents = [
      { id: 'x', detected: iso(T0 + 7 * H), resolved: iso(T0 + 9 * H), artifacts: ['lib@1'] }, // the core deployment at 0
      { id: 'y', detected: iso(T0 + 8 * H), resolved: iso(T0 + 8.5 * H), artifacts: ['app@2'] }, // the shared one at 6
    ];
    const byArea = new Map(doraByArea(deployments, [], 1, incidents).map((x) => [x.area, x]));
    assert.deepEqual(
      byArea.get('core'),
      { area: 'core', deploymentsPerDay: 2, leadTimeSeconds: null, changeFailureRatio: 1, timeToRestoreSeconds: 0.5 * 3600 },
      'nearest-rank median of 2 h and 30 min',
    );
    assert.deepEqual(byArea.get('web'), {
      area: 'web',
      deploymentsPerDay: 2,
      leadTimeSeconds: null,
      changeFailureRatio: 0.5,
      timeToRestoreSeconds: 0.5 * 3600,
    });
  });
});

describe('delivery metrics: where a change waits', () => {
  it('counts the waiting changes per stage and area and the age of the oldest', () => {
    const now = T0 + 10 * H;
    const w = waitingSeries(
      [
        { area: 'core', stage: 'build', since: iso(T0 + 8 * H) },
        { area: 'core', stage: 'build', since: iso(T0 + 1 * H) },
        { area: 'core', stage: 'coding', since: iso(T0) },
        { area: 'web', stage: 'build', since: iso(T0 + 9 * H) },
      ],
      now,
    );
    assert.deepEqual(w, [
      { stage: 'coding', area: 'core', changes: 1, oldestSeconds: 10 * 3600 },
      { stage: 'build', area: 'core', changes: 2, oldestSeconds: 9 * 3600 },
      { stage: 'build', area: 'web', changes: 1, oldestSeconds: 3600 },
    ]);
  });
});

describe('delivery metrics: waiting changes kept from the journeys written since the last round', () => {
  /** A journey's passages: events at hours after T0. */
  const journey = (key: string, repository: string, events: Array<[string, string | null, string | null, number]>) => ({
    key,
    repository,
    workItems: [],
    truncated: false,
    events: events.map(([stage, phase, outcome, h], i) => ({
      id: `${key}-${i}`,
      stage,
      phase,
      outcome,
      time: iso(T0 + h * H),
      site: 's1',
    })),
  });
  const areas = (repository: string): string => (repository.startsWith('core') ? 'core' : repository);
  const window = [T0 - 24 * H, T0 + 48 * H] as const;

  it('places each change at the segment it is in, and since when', () => {
    const w = new WaitingChanges('release', areas);
    w.take(
      [
        journey('core-a@1', 'core-a', [['commit', null, null, 0]]),
        journey('core-b@2', 'core-b', [
          ['commit', null, null, 1],
          ['merge', null, null, 2],
          ['build', 'started', null, 3],
        ]),
        journey('web@3', 'web', [
          ['commit', null, null, 1],
          ['build', 'finished', 'success', 4],
          ['test', 'finished', 'success', 5],
        ]),
      ],
      100,
    );
    assert.equal(w.cursor, 100);
    assert.deepEqual(w.positions(...window), [
      { area: 'core', stage: 'coding', since: iso(T0) },
      { area: 'core', stage: 'build', since: iso(T0 + 3 * H) },
      { area: 'web', stage: 'waiting-for-promotion', since: iso(T0 + 5 * H) },
    ]);
  });

  it('moves a rewritten journey, and lets it go once it reaches the end stage', () => {
    const w = new WaitingChanges('release', areas);
    w.take([journey('core@1', 'core', [['commit', null, null, 0]]), journey('core@2', 'core', [['commit', null, null, 0]])], 100);
    w.take(
      [
        journey('core@1', 'core', [
          ['commit', null, null, 0],
          ['merge', null, null, 2],
        ]),
      ],
      200,
    );
    assert.deepEqual(w.positions(...window), [
      { area: 'core', stage: 'waiting-for-build', since: iso(T0 + 2 * H) },
      { area: 'core', stage: 'coding', since: iso(T0) },
    ]);
    w.take(
      [
        journey('core@2', 'core', [
          ['commit', null, null, 0],
          ['release', null, null, 9],
        ]),
      ],
      300,
    );
    assert.deepEqual(w.positions(...window), [{ area: 'core', stage: 'waiting-for-build', since: iso(T0 + 2 * H) }]);
    assert.equal(w.size, 1, 'the released change is forgotten');
    assert.equal(w.cursor, 300);
  });

  it('counts a change only while its first commit is in the window, and forgets it once the window has passed it', () => {
    const w = new WaitingChanges('deployment', areas);
    w.take(
      [
        journey('core@old', 'core', [['commit', null, null, 0]]),
        journey('core@new', 'core', [['commit', null, null, 30]]),
        journey('core@none', 'core', [['build', 'started', null, 2]]),
      ],
      1,
    );
    assert.equal(w.size, 2, 'a journey without a commit has no position');
    assert.deepEqual(
      w.positions(T0 - H, T0 + 24 * H).map((p) => p.since),
      [iso(T0)],
      'the change first committed after the window ends is left out, not forgotten',
    );
    assert.deepEqual(
      w.positions(T0 + H, T0 + 48 * H).map((p) => p.stage),
      ['coding'],
      'the change first committed before the window is left out',
    );
    assert.equal(w.size, 1, 'and forgotten');
  });
});

describe('delivery metrics: gauges', () => {
  const snapshot = (area: string, seconds: number): DeliverySnapshot => ({
    leadTime: [{ stage: 'total', area, quantile: '0.9', seconds }],
    bottleneck: [{ stage: 'test', area, ratio: 0.5 }],
    waiting: [{ stage: 'build', area, changes: 2, oldestSeconds: 60 }],
    dora: [{ area, deploymentsPerDay: 1.5, leadTimeSeconds: seconds, changeFailureRatio: null, timeToRestoreSeconds: null }],
  });

  it('replaces every series with the new snapshot, and leaves out figures that are not defined', async () => {
    const registry = new Registry();
    const gauges = new DeliveryGauges(registry);
    gauges.apply(snapshot('core', 100));
    gauges.apply(snapshot('web', 200));
    const text = await registry.metrics();
    assert.match(text, /^traces_explorer_lead_time_seconds\{stage="total",area="web",quantile="0.9"\} 200$/m);
    assert.doesNotMatch(text, /area="core"/, 'series of an area that left the window are gone');
    assert.match(text, /^traces_explorer_stage_changes\{stage="build",area="web"\} 2$/m);
    assert.match(text, /^traces_explorer_stage_oldest_seconds\{stage="build",area="web"\} 60$/m);
    assert.match(text, /^traces_explorer_bottleneck_share_ratio\{stage="test",area="web"\} 0.5$/m);
    assert.match(text, /^traces_explorer_dora_deployments_per_day\{area="web"\} 1.5$/m);
    assert.match(text, /^traces_explorer_dora_lead_time_seconds\{area="web"\} 200$/m);
    assert.doesNotMatch(text, /^traces_explorer_dora_change_failure_ratio\{/m, 'no failure ratio without deployments');
  });
});

describe('delivery metrics: a round on an unchanged graph', () => {
  const minute = 60_000;
  const day = 24 * 60 * minute;
  const last = { mark: 1_000, at: 10 * minute };

  it('reads the graph on the first round, with nothing to re-export', () => {
    assert.equal(roundPlan(undefined, 1_000, 11 * minute, 60 * minute, 5 * minute), 'full');
  });

  it('asks only whether the window slid over an event while nothing was taken in or written since the reading', () => {
    assert.equal(roundPlan(last, 1_000, 11 * minute, 60 * minute, 5 * minute), 'slide');
    assert.equal(roundPlan(last, 1_000, 69 * minute, 60 * minute, 5 * minute), 'slide');
  });

  it('reads again once the reading is as old as the refresh period, changed or not', () => {
    assert.equal(roundPlan(last, 1_000, 70 * minute, 60 * minute, 5 * minute), 'full');
  });

  it('reads every round on a graph that tells no last change (empty, or its marks missing)', () => {
    assert.equal(roundPlan({ mark: null, at: 10 * minute }, null, 11 * minute, 60 * minute, 5 * minute), 'full');
  });

  it('names the event times the window left behind and the ones it reached since the window the reading holds for', () => {
    // A 30-day window read at day 40 and found unslid at day 40 + 1 minute holds for the window ending then.
    const reading = { windowEnd: 40 * day + minute };
    assert.deepEqual(slidOver(reading, 40 * day + 2 * minute, 30 * day), [
      { from: 10 * day + minute, to: 10 * day + 2 * minute },
      { from: 40 * day + minute, to: 40 * day + 2 * minute },
    ]);
    // In the same round nothing slid.
    for (const span of slidOver(reading, reading.windowEnd, 30 * day)) assert.equal(span.to - span.from, 0);
  });

  it('ages the waiting times of a re-exported reading to the round', () => {
    const positions = [{ area: 'core', stage: 'waiting-for-build' as const, since: new Date(10 * minute).toISOString() }];
    assert.equal(waitingSeries(positions, 11 * minute)[0]!.oldestSeconds, 60);
    assert.equal(waitingSeries(positions, 14 * minute)[0]!.oldestSeconds, 240);
  });
});

describe('delivery metrics: rounds of the service on an unchanged graph', () => {
  const DAY = 86_400_000;
  /** The service over a graph whose last change stays put; `slid` answers whether the window slid over an event. */
  function service(slid: () => boolean) {
    const config = explorerConfigSchema.parse({
      neo4j: { url: 'bolt://127.0.0.1:7687', password: 'secret' },
      http: { port: 1 },
      auth: { tokens: ['a-token-for-tests'] },
    });
    const measured: string[] = [];
    const asked: Array<Array<{ from: number; to: number }>> = [];
    const empty = { perChange: [], groups: [], overall: null, dora: null, environments: [] };
    const leadTimes = {
      measure: async (q: { to: string }) => {
        measured.push(q.to);
        return { result: empty, deployments: [], incidents: [] };
      },
    };
    const journeys = {
      lastChange: async () => 1_000,
      anyEventIn: async (spans: Array<{ from: number; to: number }>) => {
        asked.push(spans);
        return slid();
      },
      changedSince: async (_from: string, since: number | null) => ({ journeys: [], cursor: since }),
    };
    const graph = { write: async () => [{ mine: true }] };
    const registry = new Registry();
    const svc = new DeliveryMetricsService(
      leadTimes as unknown as LeadTimeService,
      journeys as unknown as Journeys,
      graph as unknown as GraphRepository,
      config,
      registry,
    );
    const value = async (name: string): Promise<number> =>
      (await registry.getMetricsAsJSON()).find((m) => m.name === name)!.values[0]!.value;
    return { svc, measured, asked, value };
  }

  it('reads in full once, then only whether the window slid over an event; the figures then hold for the window ending at the round', async () => {
    let slid = false;
    const { svc, measured, asked, value } = service(() => slid);
    const t1 = Date.now();
    await svc.tick();
    assert.equal(measured.length, 1, 'the first round reads in full');
    const firstEnd = Date.parse(measured[0]!);
    assert.ok(firstEnd >= t1);
    assert.equal(asked.length, 0, 'a full reading needs no slide');
    await new Promise((r) => setTimeout(r, 5));
    const t2 = Date.now();
    await svc.tick();
    assert.equal(measured.length, 1, 'no event slid in or out: nothing read again');
    assert.equal(await value('traces_explorer_delivery_metrics_reused_total'), 1);
    // Asked: what left the window (30 days before) and what entered it, since the full reading's window end.
    const [left, entered] = asked[0]!;
    assert.equal(left!.from, firstEnd - 30 * DAY);
    assert.equal(entered!.from, firstEnd);
    assert.ok(entered!.to >= t2 && left!.to === entered!.to - 30 * DAY);
    const secondEnd = (await value('traces_explorer_delivery_metrics_window_end_timestamp_seconds')) * 1000;
    assert.equal(secondEnd, entered!.to, 'the figures hold for the window that ends at the round');
    // The next round asks from there on.
    await new Promise((r) => setTimeout(r, 5));
    slid = true;
    await svc.tick();
    assert.equal(asked[1]![1]!.from, secondEnd);
    assert.equal(measured.length, 2, 'an event slid in or out: read in full again');
    assert.equal(Date.parse(measured[1]!), asked[1]![1]!.to, 'over the window that ends at the round');
    assert.equal(await value('traces_explorer_delivery_metrics_reused_total'), 1);
    await svc.onModuleDestroy();
  });
});

describe('delivery metrics: what a round reads while the graph keeps changing', () => {
  const minute = 60_000;
  const last = { mark: 1_000, at: 10 * minute };
  const plan = (mark: number | null, now: number, reading: { mark: number | null; at: number } | undefined = last) =>
    roundPlan(reading, mark, now, 15 * minute, 5 * minute);

  it('reads everything on the first round, and on a graph that tells no last change', () => {
    assert.equal(roundPlan(undefined, 1_000, 11 * minute, 15 * minute, 5 * minute), 'full');
    assert.equal(plan(null, 11 * minute, { mark: null, at: 10 * minute }), 'full');
  });

  it('reads only the slide while the graph is unchanged, until the refresh period', () => {
    assert.equal(plan(1_000, 14 * minute), 'slide');
    assert.equal(plan(1_000, 24 * minute), 'slide');
    assert.equal(plan(1_000, 25 * minute), 'full');
  });

  it('brings only the waiting changes up to date while the last full reading is younger than the lead-time period', () => {
    assert.equal(plan(1_001, 11 * minute), 'waiting');
    assert.equal(plan(1_002, 14 * minute + 59_999), 'waiting');
  });

  it('reads everything again once the graph changed and the lead-time period has passed', () => {
    assert.equal(plan(1_002, 15 * minute), 'full');
  });

  it('never waits longer than the refresh period, should it be the shorter', () => {
    assert.equal(roundPlan(last, 1_001, 12 * minute, 2 * minute, 5 * minute), 'full');
  });
});

describe('delivery metrics: configuration', () => {
  const file = (text: string): string => {
    const f = join(mkdtempSync(join(tmpdir(), 'explorer-config-')), 'explorer.yaml');
    writeFileSync(f, text);
    return f;
  };
  const base = 'neo4j: { url: "bolt://127.0.0.1:7687", password: secret }\nhttp: { port: 8080 }\nauth: { tokens: [a-token-for-tests] }\n';

  it('computes every minute over 30 days up to the release by default, reading the graph in full at least every hour and lead time at most every 5, for at most 50 areas', () => {
    assert.deepEqual(loadExplorerConfig(file(base)).deliveryMetrics, {
      enabled: true,
      intervalSeconds: 60,
      windowDays: 30,
      until: 'release',
      refreshSeconds: 3600,
      leadTimeSeconds: 300,
      maxAreas: 50,
    });
  });

  it('rejects fewer than 2 areas (one named and other)', () => {
    assert.throws(
      () => loadExplorerConfig(file(`${base}deliveryMetrics: { maxAreas: 1 }\n`)),
      (e: unknown) => e instanceof ConfigError && /deliveryMetrics.maxAreas/.test(e.message),
    );
  });

  it('rejects an interval under 5 seconds, an empty window and an unknown stage, all at once', () => {
    assert.throws(
      () => loadExplorerConfig(file(`${base}deliveryMetrics: { intervalSeconds: 1, windowDays: 0, until: shipped }\n`)),
      (e: unknown) =>
        e instanceof ConfigError &&
        /deliveryMetrics.intervalSeconds/.test(e.message) &&
        /deliveryMetrics.windowDays/.test(e.message) &&
        /deliveryMetrics.until/.test(e.message),
    );
  });
});

describe('delivery metrics: bounded area labels', () => {
  const counts = new Map([
    ['payments', 1],
    ['git.example.com/big', 9],
    ['git.example.com/mid', 5],
    ['git.example.com/small-a', 2],
    ['git.example.com/small-b', 2],
  ]);

  it('keeps every area while there are no more than the maximum', () => {
    const label = boundedAreas(new Set(['payments']), counts, 5);
    assert.deepEqual([...counts.keys()].map(label), [...counts.keys()]);
  });

  it('keeps configured areas, then the repositories with the most changes, and sums the rest up as other', () => {
    const label = boundedAreas(new Set(['payments']), counts, 4);
    assert.deepEqual(
      [...counts.keys()].map(label),
      ['payments', 'git.example.com/big', 'git.example.com/mid', OTHER_AREA, OTHER_AREA],
      'a configured area stays whatever its count; 4 labels in all, other among them',
    );
    assert.equal(new Set([...counts.keys()].map(label)).size, 4);
    // Ties go by name.
    const tied = boundedAreas(
      new Set(),
      new Map([
        ['b', 1],
        ['a', 1],
        ['c', 1],
      ]),
      2,
    );
    assert.deepEqual(['a', 'b', 'c'].map(tied), ['a', OTHER_AREA, OTHER_AREA]);
    // More areas configured than the bound: all of them keep their names, every repository is other.
    const configured = boundedAreas(new Set(['payments', 'git.example.com/big', 'git.example.com/mid']), counts, 2);
    assert.deepEqual([...counts.keys()].map(configured), [
      'payments',
      'git.example.com/big',
      'git.example.com/mid',
      OTHER_AREA,
      OTHER_AREA,
    ]);
  });

  it('computes the figures of other from its changes, not from the groups it replaces', () => {
    const a = change('r1', { merge: 1, buildStart: 1, buildEnd: 2, testEnd: 3, promotion: 3, reached: 4 });
    const b = change('r2', { merge: 1, buildStart: 1, buildEnd: 2, testEnd: 3, promotion: 3, reached: 10 });
    const c = change('r3', { merge: 1, buildStart: 1, buildEnd: 2, testEnd: 3, promotion: 3, reached: 6 });
    const perChange = [a, b, c].map((x, i) => ({
      ...x,
      commit: `c${i}`,
      site: 's',
      start: iso(T0),
      workItem: null,
      ticket: 0,
      reached: iso(T0),
    }));
    const deployment = { key: 'd', areas: ['r2', 'r3'] } as unknown as Parameters<typeof relabelAreas>[1][number];
    const label = (x: string): string => (x === 'r1' ? x : OTHER_AREA);
    const out = relabelAreas({ perChange, groups: [] }, [deployment], [{ area: 'r3', stage: 'test', since: iso(T0) }], label);
    assert.deepEqual(
      out.groups.map((g) => g.name),
      [OTHER_AREA, 'r1'],
    );
    const other = out.groups.find((g) => g.name === OTHER_AREA)!;
    assert.deepEqual(other, { name: OTHER_AREA, ...groupStats([b, c]) });
    assert.equal(other.total.count, 2);
    assert.deepEqual(out.deployments[0]!.areas, [OTHER_AREA]);
    assert.deepEqual(
      out.positions.map((p) => p.area),
      [OTHER_AREA],
    );
  });
});
