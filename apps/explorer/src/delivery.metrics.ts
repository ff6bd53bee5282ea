import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GraphRepository, Journeys, releaseLease, takeLease, type JourneyPassages } from '@not/graph';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';
import { areaOf, LeadTimeService, type AreaDeployment } from './lead-time.service.js';
import type { ChangeLeadTimeDto, LeadTimeDto } from './api.schemas.js';
import { causeOf, dora, groupStats, type Incident } from './lead-time.stats.js';
import { positionOf, SEGMENTS, type Segment } from './lead-time.segments.js';

/**
 * Delivery figures for Prometheus (the Delivery dashboard and the
 * TracesChangeStuckAtStage alert): lead time per stage and area, the bottleneck,
 * the changes waiting at each stage and the oldest of them, and the four DORA
 * figures per area. Computed in the background every `deliveryMetrics.intervalSeconds`
 * over the last `deliveryMetrics.windowDays`; a scrape only reads the last result. A round
 * that finds the graph unchanged asks only whether the window slid over any event since the last
 * reading: if not, that reading holds for the window that ends now, and only its waiting times age
 * (a full reading is made at least every `deliveryMetrics.refreshSeconds`). While the graph keeps changing,
 * the waiting changes are brought up to date every round and the rest is read again every
 * `deliveryMetrics.leadTimeSeconds`.
 */

/** `stage` is a lead-time segment, or `total` for commit to the chosen end stage. */
type DeliveryStage = Segment | 'total';

export interface DeliverySnapshot {
  readonly leadTime: ReadonlyArray<{ stage: DeliveryStage; area: string; quantile: '0.5' | '0.9'; seconds: number }>;
  readonly bottleneck: ReadonlyArray<{ stage: Segment; area: string; ratio: number }>;
  readonly waiting: ReadonlyArray<{ stage: Segment; area: string; changes: number; oldestSeconds: number }>;
  readonly dora: ReadonlyArray<{
    area: string;
    deploymentsPerDay: number;
    leadTimeSeconds: number | null;
    changeFailureRatio: number | null;
    timeToRestoreSeconds: number | null;
  }>;
}

/** Journeys read per query while the waiting changes catch up with the journey model. */
const WAITING_PAGE = 5000;

/** The `area` of the series that sums up the areas beyond `deliveryMetrics.maxAreas`. */
export const OTHER_AREA = 'other';

/**
 * The `area` label of each area, so that the series carry at most `max` of them: configured areas keep
 * their names; an area that is a repository (no configured area matched it) keeps its name only among
 * those with the most changes (`counts`, then by name), the others become {@link OTHER_AREA}. Identity
 * while there are no more than `max` areas.
 */
export function boundedAreas(configured: ReadonlySet<string>, counts: ReadonlyMap<string, number>, max: number): (area: string) => string {
  if (counts.size <= max) return (a) => a;
  const kept = new Set([...counts.keys()].filter((a) => configured.has(a)));
  const rest = [...counts].filter(([a]) => !configured.has(a)).sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
  for (const [a] of rest) {
    if (kept.size >= max - 1) break;
    kept.add(a);
  }
  return (a) => (kept.has(a) ? a : OTHER_AREA);
}

/** A lead-time answer's changes, deployments and waiting changes with their areas relabelled, and the groups per label. */
export function relabelAreas(
  lt: Pick<LeadTimeDto, 'perChange' | 'groups'>,
  deployments: readonly AreaDeployment[],
  positions: ReadonlyArray<{ area: string; stage: Segment; since: string }>,
  label: (area: string) => string,
): {
  groups: LeadTimeDto['groups'];
  perChange: ChangeLeadTimeDto[];
  deployments: AreaDeployment[];
  positions: Array<{ area: string; stage: Segment; since: string }>;
} {
  const perChange = lt.perChange.map((c) => ({ ...c, area: label(c.area) }));
  const by = new Map<string, ChangeLeadTimeDto[]>();
  for (const c of perChange) {
    const list = by.get(c.area);
    if (list) list.push(c);
    else by.set(c.area, [c]);
  }
  return {
    groups: [...by.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, list]) => ({ name, ...groupStats(list) })),
    perChange,
    deployments: deployments.map((d) => ({ ...d, areas: [...new Set(d.areas.map(label))].sort() })),
    positions: positions.map((p) => ({ ...p, area: label(p.area) })),
  };
}

/** Lead time (p50, p90 of each segment and of the total) and each segment's share, per area, from a lead-time answer grouped by area. */
export function leadTimeSeries(lt: Pick<LeadTimeDto, 'groups'>): Pick<DeliverySnapshot, 'leadTime' | 'bottleneck'> {
  const leadTime: Array<DeliverySnapshot['leadTime'][number]> = [];
  const bottleneck: Array<DeliverySnapshot['bottleneck'][number]> = [];
  for (const g of lt.groups) {
    const add = (stage: DeliveryStage, s: { p50: number | null; p90: number | null }): void => {
      if (s.p50 !== null) leadTime.push({ stage, area: g.name, quantile: '0.5', seconds: s.p50 });
      if (s.p90 !== null) leadTime.push({ stage, area: g.name, quantile: '0.9', seconds: s.p90 });
    };
    add('total', g.total);
    for (const s of SEGMENTS) {
      add(s, g.segments[s]);
      if (g.total.count > 0) bottleneck.push({ stage: s, area: g.name, ratio: g.segments[s].share });
    }
  }
  return { leadTime, bottleneck };
}

/**
 * The DORA figures per area: an area's deployments are those that carried at
 * least one of its commits; its lead time for changes is the median of its
 * changes' lead times. A deployment with no known commit counts for no area.
 * An incident counts for the areas of the deployment it is blamed on.
 */
export function doraByArea(
  deployments: readonly AreaDeployment[],
  changes: ReadonlyArray<Pick<ChangeLeadTimeDto, 'area' | 'total'>>,
  days: number,
  incidents: readonly Incident[] = [],
): DeliverySnapshot['dora'] {
  const areas = new Set<string>([...deployments.flatMap((d) => d.areas), ...changes.map((c) => c.area)]);
  return [...areas].sort().map((area) => {
    const mine = deployments.filter((x) => x.areas.includes(area));
    const d = dora(
      mine,
      changes.filter((c) => c.area === area).map((c) => c.total),
      days,
      incidents.filter((i) => mine.includes(causeOf(i, deployments) as AreaDeployment)),
    );
    return {
      area,
      deploymentsPerDay: d.deploymentFrequencyPerDay,
      leadTimeSeconds: d.leadTimeForChangesSeconds,
      changeFailureRatio: d.changeFailureRate,
      timeToRestoreSeconds: d.timeToRestoreSeconds,
    };
  });
}

/** Changes waiting per stage and area, and how long the oldest of them has waited at `now`. */
export function waitingSeries(
  positions: ReadonlyArray<{ area: string; stage: Segment; since: string }>,
  now: number,
): DeliverySnapshot['waiting'] {
  const by = new Map<string, { stage: Segment; area: string; changes: number; oldestSeconds: number }>();
  for (const p of positions) {
    const key = `${p.stage}\u0000${p.area}`;
    const age = Math.max(0, (now - Date.parse(p.since)) / 1000);
    const cur = by.get(key);
    if (cur) {
      cur.changes++;
      cur.oldestSeconds = Math.max(cur.oldestSeconds, age);
    } else by.set(key, { stage: p.stage, area: p.area, changes: 1, oldestSeconds: age });
  }
  return [...by.values()].sort((a, b) =>
    a.area < b.area ? -1 : a.area > b.area ? 1 : SEGMENTS.indexOf(a.stage) - SEGMENTS.indexOf(b.stage),
  );
}

/** Where one waiting change is, and when its first commit was (epoch ms). */
interface Waiting {
  readonly start: number;
  readonly area: string;
  readonly stage: Segment;
  readonly since: string;
}

/**
 * Where each change that has not reached `until` is now, kept from the journeys written since the last
 * round (`Journeys.changedSince`) instead of read again in full: a round under ingest reads the few
 * journeys the ingest wrote. A journey that reaches `until`, or has no commit, leaves; one whose first
 * commit leaves the window is left out of `positions` (and forgotten).
 */
export class WaitingChanges {
  private readonly at = new Map<string, Waiting>();
  /** The write time of the last journey taken (`changedSince`'s cursor). */
  cursor: number | null = null;

  constructor(
    private readonly until: string,
    private readonly areaOf: (repository: string) => string,
  ) {}

  /** Takes a page of journeys written since the cursor, and the page's cursor. */
  take(journeys: readonly JourneyPassages[], cursor: number | null): void {
    for (const j of journeys) {
      const first = j.events.find((e) => e.stage === 'commit');
      const p = first ? positionOf(j.events, this.until) : undefined;
      if (p) this.at.set(j.key, { start: Date.parse(first!.time), area: this.areaOf(j.repository), ...p });
      else this.at.delete(j.key);
    }
    this.cursor = cursor;
  }

  /** The changes whose first commit is in [from, to) (epoch ms), and where each is. */
  positions(from: number, to: number): Array<{ area: string; stage: Segment; since: string }> {
    const out: Array<{ area: string; stage: Segment; since: string }> = [];
    for (const [key, w] of this.at) {
      if (w.start < from) this.at.delete(key);
      else if (w.start < to) out.push({ area: w.area, stage: w.stage, since: w.since });
    }
    return out;
  }

  get size(): number {
    return this.at.size;
  }
}

/** What a full round read: the figures that only change with the graph, and where each waiting change is. */
export interface DeliveryReading {
  /** The graph's last change when the round began (`Journeys.lastChange`). */
  readonly mark: number | null;
  /** When the round that read the graph began (epoch ms). */
  readonly at: number;
  /**
   * The end of the window the reading holds for: `at`, or a later round's start when the window slid
   * over no event between them (the same events are in it, so are the same figures).
   */
  readonly windowEnd: number;
  readonly figures: Omit<DeliverySnapshot, 'waiting'>;
  readonly positions: ReadonlyArray<{ area: string; stage: Segment; since: string }>;
  /** The `area` label of each area, as bounded when the figures were read. */
  readonly label: (area: string) => string;
}

/**
 * What a round reads: `full`, the lead time, bottleneck and DORA figures and the waiting changes (on the
 * first round, on a graph that tells no last change, once the last full reading is `refreshMs` old, and
 * when the graph changed, though no sooner than `leadTimeMs` after the last full reading); `waiting`,
 * only the journeys written since the last round, for where the waiting changes are (the other figures
 * stay those of the last full reading); `slide`, only whether the window slid over any event
 * ({@link slidOver}): the graph is unchanged since the last full reading.
 */
export function roundPlan(
  last: Pick<DeliveryReading, 'mark' | 'at'> | undefined,
  mark: number | null,
  now: number,
  refreshMs: number,
  leadTimeMs: number,
): 'full' | 'waiting' | 'slide' {
  if (last === undefined || mark === null || now - last.at >= refreshMs) return 'full';
  if (last.mark === mark) return 'slide';
  return now - last.at >= leadTimeMs ? 'full' : 'waiting';
}

/**
 * The spans of event time ([from, to), epoch ms) that sliding a window of `windowMs` from ending at
 * `reading.windowEnd` to ending at `now` moved out of it and into it. A reading's figures depend only on
 * the events whose time is in its window (the end stage's, the deployments and incidents, the first
 * commits of the waiting changes): with no event in these spans, on an unchanged graph, they are the
 * figures of the window that ends at `now`.
 */
export function slidOver(reading: Pick<DeliveryReading, 'windowEnd'>, now: number, windowMs: number): Array<{ from: number; to: number }> {
  return [
    { from: reading.windowEnd - windowMs, to: now - windowMs },
    { from: reading.windowEnd, to: now },
  ];
}

/** The gauges, set from one snapshot at a time (all series of a snapshot replace the previous ones at once). */
export class DeliveryGauges {
  readonly leadTime: Gauge<'stage' | 'area' | 'quantile'>;
  readonly bottleneck: Gauge<'stage' | 'area'>;
  readonly stageChanges: Gauge<'stage' | 'area'>;
  readonly stageOldest: Gauge<'stage' | 'area'>;
  readonly deploymentsPerDay: Gauge<'area'>;
  readonly doraLeadTime: Gauge<'area'>;
  readonly changeFailure: Gauge<'area'>;
  readonly timeToRestore: Gauge<'area'>;
  readonly lastSuccess: Gauge;
  readonly windowEnd: Gauge;
  readonly failures: Counter;
  readonly duration: Histogram;
  readonly reused: Counter;
  readonly leader: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.leadTime = new Gauge({
      name: 'traces_explorer_lead_time_seconds',
      help: 'Time changes that reached the end stage in the window spent in each stage (stage="total": commit to end stage), by quantile',
      labelNames: ['stage', 'area', 'quantile'],
      registers,
    });
    this.bottleneck = new Gauge({
      name: 'traces_explorer_bottleneck_share_ratio',
      help: "Each stage's share (0..1) of the summed lead time of the changes that reached the end stage in the window",
      labelNames: ['stage', 'area'],
      registers,
    });
    this.stageChanges = new Gauge({
      name: 'traces_explorer_stage_changes',
      help: 'Changes (first commit in the window) that are at this stage now and have not reached the end stage',
      labelNames: ['stage', 'area'],
      registers,
    });
    this.stageOldest = new Gauge({
      name: 'traces_explorer_stage_oldest_seconds',
      help: 'How long the longest-waiting change at this stage has been there',
      labelNames: ['stage', 'area'],
      registers,
    });
    this.deploymentsPerDay = new Gauge({
      name: 'traces_explorer_dora_deployments_per_day',
      help: "Successful deployments (end-stage events) carrying the area's commits, per day over the window",
      labelNames: ['area'],
      registers,
    });
    this.doraLeadTime = new Gauge({
      name: 'traces_explorer_dora_lead_time_seconds',
      help: 'Median time from first commit to the end stage of the changes that reached it in the window',
      labelNames: ['area'],
      registers,
    });
    this.changeFailure = new Gauge({
      name: 'traces_explorer_dora_change_failure_ratio',
      help: "Failed deployments / all deployments carrying the area's commits over the window (0..1)",
      labelNames: ['area'],
      registers,
    });
    this.timeToRestore = new Gauge({
      name: 'traces_explorer_dora_time_to_restore_seconds',
      help: 'Median time from a failed deployment to the next successful one of the same target, over the window',
      labelNames: ['area'],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'traces_explorer_delivery_metrics_last_success_timestamp_seconds',
      help: 'When the delivery figures were last computed successfully (Unix time); 0 until the first success',
      registers,
    });
    this.windowEnd = new Gauge({
      name: 'traces_explorer_delivery_metrics_window_end_timestamp_seconds',
      help: 'The end of the window the exported delivery figures cover: when the last round started, which read the graph or found it unchanged since (Unix time)',
      registers,
    });
    this.failures = new Counter({
      name: 'traces_explorer_delivery_metrics_failures_total',
      help: 'Computations of the delivery figures that failed (the previous figures stay exported)',
      registers,
    });
    this.duration = new Histogram({
      name: 'traces_explorer_delivery_metrics_duration_seconds',
      help: 'How long one computation of the delivery figures took',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.reused = new Counter({
      name: 'traces_explorer_delivery_metrics_reused_total',
      help: 'Rounds that found the graph unchanged since the last full computation and no event in or out of the slid window: the waiting times were aged, only the slide was read',
      registers,
    });
    this.leader = new Gauge({
      name: 'traces_explorer_delivery_metrics_leader',
      help: 'Whether this explorer replica computes and exports the delivery figures (1) or leaves them to another (0)',
      registers,
    });
  }

  /** Replaces every delivery series with the snapshot's, synchronously (a scrape sees one snapshot or the other). */
  apply(s: DeliverySnapshot): void {
    for (const g of [
      this.leadTime,
      this.bottleneck,
      this.stageChanges,
      this.stageOldest,
      this.deploymentsPerDay,
      this.doraLeadTime,
      this.changeFailure,
      this.timeToRestore,
    ]) {
      g.reset();
    }
    for (const x of s.leadTime) this.leadTime.set({ stage: x.stage, area: x.area, quantile: x.quantile }, x.seconds);
    for (const x of s.bottleneck) this.bottleneck.set({ stage: x.stage, area: x.area }, x.ratio);
    for (const x of s.waiting) {
      this.stageChanges.set({ stage: x.stage, area: x.area }, x.changes);
      this.stageOldest.set({ stage: x.stage, area: x.area }, x.oldestSeconds);
    }
    for (const x of s.dora) {
      this.deploymentsPerDay.set({ area: x.area }, x.deploymentsPerDay);
      if (x.leadTimeSeconds !== null) this.doraLeadTime.set({ area: x.area }, x.leadTimeSeconds);
      if (x.changeFailureRatio !== null) this.changeFailure.set({ area: x.area }, x.changeFailureRatio);
      if (x.timeToRestoreSeconds !== null) this.timeToRestore.set({ area: x.area }, x.timeToRestoreSeconds);
    }
  }
}

/**
 * Recomputes the delivery figures in the background and keeps the last good
 * ones on `/metrics`. A failure is logged when it starts (and when it clears),
 * counted every time, and leaves the previous figures in place.
 */
@Injectable()
export class DeliveryMetricsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(DeliveryMetricsService.name);
  private readonly gauges: DeliveryGauges;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private failing = false;
  private stopped = false;
  /** The last full reading, re-exported (aged) while the graph does not change. */
  private last?: DeliveryReading;
  /** Where the waiting changes are, kept from round to round. */
  private waiting?: WaitingChanges;
  /** This replica, for the lease that lets one replica per deployment export the figures. */
  private readonly me = randomUUID();

  constructor(
    private readonly leadTimes: LeadTimeService,
    private readonly journeys: Journeys,
    private readonly graph: GraphRepository,
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
    registry: Registry,
  ) {
    this.gauges = new DeliveryGauges(registry);
  }

  onApplicationBootstrap(): void {
    if (!this.config.deliveryMetrics.enabled) return;
    this.loop();
  }

  /**
   * A round now, the next `intervalSeconds` after it ends: on a large graph a round
   * takes a while, and the graph store must keep time between rounds for the users.
   */
  private loop(): void {
    void this.tick().finally(() => {
      if (this.stopped) return;
      this.timer = setTimeout(() => this.loop(), this.config.deliveryMetrics.intervalSeconds * 1000);
      this.timer.unref();
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    // Hand the lease over now rather than after its time runs out (another replica, or this one restarted).
    await releaseLease(this.graph, 'delivery-metrics', this.me).catch(() => undefined);
  }

  /** One round, unless the previous one is still running (a slow graph must not pile rounds up). */
  tick(): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    this.running = this.refresh().finally(() => (this.running = undefined));
    return this.running;
  }

  private async refresh(): Promise<void> {
    const end = this.gauges.duration.startTimer();
    try {
      // One replica per deployment exports the figures (the dashboards sum over replicas); the lease
      // outlives a few missed rounds, so a replica that stops hands over within three intervals.
      const lead = await takeLease(this.graph, 'delivery-metrics', this.me, this.config.deliveryMetrics.intervalSeconds * 3000);
      this.gauges.leader.set(lead ? 1 : 0);
      if (!lead) {
        // Another replica exports the figures; a reading kept here would be stale if this one leads again.
        this.last = undefined;
        this.waiting = undefined;
        this.gauges.apply({ leadTime: [], bottleneck: [], waiting: [], dora: [] });
        return;
      }
      const now = Date.now();
      const mark = await this.journeys.lastChange();
      const { refreshSeconds, leadTimeSeconds } = this.config.deliveryMetrics;
      let plan: 'full' | 'waiting' | 'slide' | 'none' = roundPlan(this.last, mark, now, refreshSeconds * 1000, leadTimeSeconds * 1000);
      if (plan === 'slide') {
        const slid = await this.journeys.anyEventIn(slidOver(this.last!, now, this.config.deliveryMetrics.windowDays * 86_400_000));
        plan = slid ? 'full' : 'none';
      }
      let reading = this.last;
      if (plan === 'full') reading = await this.read(now, mark);
      else if (plan === 'waiting' && reading) {
        const label = reading.label;
        reading = { ...reading, positions: (await this.positions(now)).map((p) => ({ ...p, area: label(p.area) })) };
      } else if (reading) {
        reading = { ...reading, windowEnd: now };
        this.gauges.reused.inc();
      }
      if (this.stopped || !reading) return;
      this.last = reading;
      this.gauges.apply({ ...reading.figures, waiting: waitingSeries(reading.positions, now) });
      // The figures hold for the window that ends at this round, unless the graph changed since they
      // were read and only the waiting changes were brought up to date: their window ends earlier then.
      this.gauges.windowEnd.set(reading.windowEnd / 1000);
      this.gauges.lastSuccess.set(Date.now() / 1000);
      if (this.failing) this.log.log('delivery metrics computed again after failures');
      this.failing = false;
    } catch (err) {
      this.gauges.failures.inc();
      if (!this.failing) {
        this.log.error(
          `delivery metrics could not be computed; the previous figures stay exported and the computation is retried every ` +
            `${this.config.deliveryMetrics.intervalSeconds} s (logged once until it succeeds): ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      this.failing = true;
    } finally {
      end();
    }
  }

  /** A full reading of the window that ends at `now`, on a graph whose last change was `mark`. */
  private async read(now: number, mark: number | null): Promise<DeliveryReading> {
    const { windowDays, until } = this.config.deliveryMetrics;
    const to = new Date(now).toISOString();
    const from = new Date(now - windowDays * 86_400_000).toISOString();
    const {
      result,
      deployments: measured,
      incidents,
    } = await this.leadTimes.measure({ from, to, until, groupBy: 'area' }, { environments: false });
    const waiting = await this.positions(now);
    // Bounded labels: every area seen in the window counts once per change, deployment or waiting change.
    const counts = new Map<string, number>();
    for (const a of [...result.perChange.map((c) => c.area), ...measured.flatMap((d) => d.areas), ...waiting.map((p) => p.area)])
      counts.set(a, (counts.get(a) ?? 0) + 1);
    const label = boundedAreas(new Set(this.config.areas.map((a) => a.name)), counts, this.config.deliveryMetrics.maxAreas);
    const { groups, perChange, deployments, positions } = relabelAreas(result, measured, waiting, label);
    const { leadTime, bottleneck } = leadTimeSeries({ groups });
    return {
      mark,
      at: now,
      windowEnd: now,
      figures: { leadTime, bottleneck, dora: doraByArea(deployments, perChange, windowDays, incidents) },
      positions,
      label,
    };
  }

  /**
   * Where each change first committed in the window that ends at `now`, and not yet at `until`, is: the
   * journeys written since the last round are taken into the kept positions, in pages, until none is left
   * (the first round reads the window's journeys in full).
   */
  private async positions(now: number): Promise<Array<{ area: string; stage: Segment; since: string }>> {
    const { windowDays, until } = this.config.deliveryMetrics;
    const from = now - windowDays * 86_400_000;
    const w = (this.waiting ??= new WaitingChanges(until, (repository) => areaOf(this.config.areas, repository)));
    for (;;) {
      const before = w.cursor;
      const { journeys, cursor } = await this.journeys.changedSince(new Date(from).toISOString(), before, WAITING_PAGE);
      w.take(journeys, cursor);
      // A full page written all in one millisecond could not move the cursor: stop rather than read it
      // again. (The journey step writes at most `journeys.batch` journeys per transaction, each with its
      // own clock reading, so a page of 5,000 spans several transactions and milliseconds.)
      if (journeys.length < WAITING_PAGE || cursor === before || this.stopped) break;
    }
    return w.positions(from, now);
  }
}
