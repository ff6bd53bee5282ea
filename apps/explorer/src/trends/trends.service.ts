import { Inject, Injectable, Logger, ServiceUnavailableException, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { GraphRepository, Journeys, releaseLease, SubscriptionStore, takeLease, type JourneyPassages } from '@not/graph';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import type { ExplorerConfig } from '../explorer.config.js';
import { EXPLORER_CONFIG } from '../explorer.tokens.js';
import { areaOf } from '../lead-time.service.js';
import type { Segment } from '../lead-time.segments.js';
import type { TrendsConfig } from './trends.config.js';
import { detect, objectiveFor, rank, type DetectOptions, type Finding, type FindingType } from './trends.detect.js';
import { TrendsGauges } from './trends.metrics.js';
import type { InsightsDto, TrendsDto } from '../api.schemas.js';
import {
  byKey,
  groupOf,
  passagesOf,
  SeriesSplit,
  seriesOf,
  type Dimension,
  type Passage,
  type SeriesSlot,
  type Trial,
} from './trends.series.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface TrendsQuery {
  readonly segment?: Segment;
  readonly groupBy: Dimension;
  readonly group?: string;
  readonly bucket: 'hour' | 'day';
  readonly from?: string;
  readonly to?: string;
}

export interface InsightsQuery {
  readonly type?: FindingType;
  readonly segment?: Segment;
  readonly area?: string;
  readonly site?: string;
  readonly limit: number;
}

type TrendSeriesDto = TrendsDto['series'][number];

/** What one journey contributes: its passages and trials, and when its first commit was. */
interface Entry {
  readonly start: number;
  readonly passages: Passage[];
  readonly trials: Trial[];
}

/** Pages of `trends.maxJourneysPerRound` journeys one round reads at most. */
const PAGES_PER_ROUND = 5;

/** How long a round judges series before it lets the event loop answer requests. */
const SLICE_MS = 20;

/** Lets the event loop go (to answer requests) once a slice of work has run {@link SLICE_MS}. */
class Slices {
  private start = performance.now();

  async next(): Promise<void> {
    if (performance.now() - this.start < SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.start = performance.now();
  }
}

/** Whether two lists of passages (or trials) hold the same facts, field by field. */
function sameFacts<T extends object>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i] as Record<string, unknown>;
    const entries = Object.entries(x);
    return entries.length === Object.keys(y).length && entries.every(([k, v]) => y[k] === v);
  });
}

/** The series most one /trends answer holds. */
const MAX_SERIES = 60;

/**
 * Trends and insights from the journey model, kept up to date incrementally: every
 * `trends.intervalSeconds` it reads the journeys written since its last round (an index seek on
 * their first commit, bounded per round), keeps each one's passages in memory for the last
 * `historyDays + openLimitDays`, and recomputes the findings from them. `/trends` and `/insights`
 * answer from memory; one replica (the `trends` lease) exports the gauges.
 */
@Injectable()
export class TrendsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(TrendsService.name);
  private readonly gauges: TrendsGauges;
  private readonly cfg: TrendsConfig;
  private readonly entries = new Map<string, Entry>();
  /**
   * The entries' passages and trials split by series, kept while no entry changes: a round on a graph
   * that did not change only judges them at a new time (and each series' departures stay sorted).
   */
  private series?: ReadonlyMap<string, SeriesSlot>;
  private cursor: number | null = null;
  private truncated = false;
  /** The first commit of the oldest journey kept when journeys were last left out (trends.maxJourneys). */
  private floor: number | undefined;
  /** Since when the rounds have found a backlog (a round read its five pages full), or undefined. */
  private backlogSince: number | undefined;
  private findings: Finding[] = [];
  private generatedAt: number | null = null;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private failing = false;
  private notifyFailing = false;
  private readonly me = randomUUID();

  constructor(
    private readonly journeys: Journeys,
    private readonly graph: GraphRepository,
    private readonly subscriptions: SubscriptionStore,
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
    registry: Registry,
  ) {
    this.cfg = config.trends;
    this.gauges = new TrendsGauges(registry);
  }

  onApplicationBootstrap(): void {
    if (this.cfg.enabled) this.loop();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    // Hand the lease over now rather than after its time runs out (another replica, or this one restarted).
    await releaseLease(this.graph, 'trends', this.me).catch(() => undefined);
  }

  private loop(): void {
    void this.tick().finally(() => {
      if (this.stopped) return;
      // A backlog (the window after a start, a burst of ingest) is read round after round, without waiting.
      this.timer = setTimeout(() => this.loop(), this.backlogSince === undefined ? this.cfg.intervalSeconds * 1000 : 0);
      this.timer.unref();
    });
  }

  /** One round now, unless one is running. */
  tick(): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    this.running = this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<void> {
    const end = this.gauges.duration.startTimer();
    try {
      const now = Date.now();
      const more = await this.take(now);
      this.backlogSince = more ? (this.backlogSince ?? now) : undefined;
      const refresh = this.cfg.refreshSeconds * 1000;
      // While a backlog is read the findings wait for the whole of it (the first ones after a start would be
      // judged on part of the window), but not longer than refreshSeconds.
      if (this.backlogSince !== undefined && now - this.backlogSince < refresh) this.gauges.backlog.inc();
      // Unchanged journeys (the split kept) and findings judged less than refreshSeconds ago: keep them.
      else if (this.series === undefined || this.generatedAt === null || now - this.generatedAt >= refresh) {
        this.findings = await this.computeFindings(now);
        this.generatedAt = now;
      } else this.gauges.reused.inc();
      const lead = await takeLease(this.graph, 'trends', this.me, this.cfg.intervalSeconds * 3000);
      this.gauges.leader.set(lead ? 1 : 0);
      this.gauges.apply(lead ? this.findings : [], this.entries.size);
      // Nothing judged yet (the window is still being read): no finding has ended, none is told.
      if (lead && this.generatedAt !== null) {
        this.gauges.lastSuccess.set(Date.now() / 1000);
        await this.notify(now);
      }
      if (this.failing) this.log.log('trends computed again after failures');
      this.failing = false;
    } catch (err) {
      // The next round waits its interval: a failing graph store is not asked again at once.
      this.backlogSince = undefined;
      this.gauges.failures.inc();
      if (!this.failing)
        this.log.error(
          `trends could not be computed; the previous findings stay and the computation is retried every ${this.cfg.intervalSeconds} s ` +
            `(logged once until it succeeds): ${err instanceof Error ? err.message : String(err)}`,
        );
      this.failing = true;
    } finally {
      end();
    }
  }

  /**
   * The leader's part for subscriptions on findings: records this round's finding episodes and the
   * firings they cause (delivered by the correlators' dispatcher). A failure here is logged once until it
   * succeeds; the findings stay served and the next round tries again (an episode seen then still fires).
   */
  private async notify(now: number): Promise<void> {
    try {
      const subs = await this.subscriptions.enabled();
      const fired = await this.subscriptions.recordInsights(subs, this.findings, now, this.cfg.episodeGapHours * HOUR);
      if (fired) this.log.log(`${fired} firing(s) of subscriptions on findings recorded`);
      if (this.notifyFailing) this.log.log('firings of subscriptions on findings recorded again after failures');
      this.notifyFailing = false;
    } catch (err) {
      if (!this.notifyFailing)
        this.log.error(
          `the findings could not be matched against subscriptions; retried every round (logged once until it succeeds): ` +
            `${err instanceof Error ? err.message : String(err)}`,
        );
      this.notifyFailing = true;
    }
  }

  /**
   * Reads the journeys written since the last round (a few pages at most) and forgets those older than the
   * window; a page is taken in slices of {@link SLICE_MS}, with the event loop let go between them. True
   * when the last page was full: more are waiting.
   */
  private async take(now: number): Promise<boolean> {
    const from = now - (this.cfg.historyDays + this.cfg.openLimitDays) * DAY;
    const slices = new Slices();
    let more = false;
    for (let page = 0; page < PAGES_PER_ROUND; page++) {
      const { journeys, cursor } = await this.journeys.changedSince(
        new Date(from).toISOString(),
        this.cursor,
        this.cfg.maxJourneysPerRound,
      );
      for (const j of journeys) {
        this.add(j);
        await slices.next();
      }
      // A full page that could not move the cursor (all written in one millisecond) is no backlog to chase.
      more = journeys.length >= this.cfg.maxJourneysPerRound && cursor !== this.cursor;
      this.cursor = cursor;
      if (!more) break;
    }
    for (const [k, e] of this.entries)
      if (e.start < from) {
        this.entries.delete(k);
        this.gauges.dropped.inc({ reason: 'aged' });
        this.series = undefined;
        // Places came free: who is oldest is found again when journeys are next left out.
        this.floor = undefined;
      }
    const excess = this.entries.size - this.cfg.maxJourneys;
    if (excess > 0) {
      this.gauges.dropped.inc({ reason: 'excess' }, excess);
      // The oldest go: the `excess`-th oldest start found on a numeric sort of the starts alone, then the
      // entries up to it dropped (a comparator sort of every entry took a good part of a round).
      const starts = Float64Array.from(this.entries.values(), (e) => e.start).sort();
      const bound = starts[excess - 1]!;
      // Every entry older than the bound goes, and of those at the bound the first ones until `excess` went.
      let atBound = excess - starts.indexOf(bound);
      for (const [k, e] of this.entries) if (e.start < bound || (e.start === bound && atBound-- > 0)) this.entries.delete(k);
      this.truncated = true;
      // The excess went, so the oldest kept is the next start in order.
      this.floor = starts[excess];
      this.series = undefined;
    }
    return more;
  }

  private add(j: JourneyPassages): void {
    const area = areaOf(this.config.areas, j.repository);
    const { passages, trials } = passagesOf({ key: j.key, repository: j.repository, area, events: j.events }, this.cfg.until);
    const start = passages[0]?.entered;
    const before = this.entries.get(j.key);
    // A journey older than every one kept, while they fill every place, would be left out again at once: it
    // is not taken (each round reads the journey at its cursor again, and that may be one left out).
    if (!before && start !== undefined && this.floor !== undefined && start < this.floor && this.entries.size >= this.cfg.maxJourneys) {
      this.gauges.read.inc({ result: 'not_taken' });
      return;
    }
    if (start === undefined) {
      this.gauges.read.inc({ result: 'removed' });
      if (before) this.series = undefined;
      this.entries.delete(j.key);
      return;
    }
    // A journey read again unchanged (each round reads the last one it saw again, at the cursor's time) changes nothing.
    if (before && before.start === start && sameFacts(before.passages, passages) && sameFacts(before.trials, trials)) {
      this.gauges.read.inc({ result: 'unchanged' });
      return;
    }
    this.gauges.read.inc({ result: before ? 'changed' : 'new' });
    this.series = undefined;
    this.entries.set(j.key, { start, passages, trials });
  }

  private all(): { passages: Passage[]; trials: Trial[] } {
    const passages: Passage[] = [];
    const trials: Trial[] = [];
    for (const e of this.entries.values()) {
      passages.push(...e.passages);
      trials.push(...e.trials);
    }
    return { passages, trials };
  }

  private options(): DetectOptions {
    return this.cfg;
  }

  /**
   * Every finding, per segment, for everything, each area and each site; ranked. The series are judged
   * one after another with the event loop let go between them every {@link SLICE_MS}: on a large window
   * the whole takes seconds, and the API's requests are answered in between.
   */
  async computeFindings(now: number): Promise<Finding[]> {
    const slices = new Slices();
    if (!this.series) {
      const split = new SeriesSplit(['all', 'area', 'site']);
      for (const e of this.entries.values()) {
        split.add(e.passages, e.trials);
        await slices.next();
      }
      this.series = split.series;
    }
    const out: Finding[] = [];
    for (const { key, passages: ps, trials: ts } of this.series.values()) {
      out.push(...detect(key, ps, ts, now, this.options(), objectiveFor(this.cfg.objectives, key)));
      await slices.next();
    }
    return rank(out);
  }

  private ready(): number {
    if (!this.cfg.enabled)
      throw new ServiceUnavailableException({
        statusCode: 503,
        message: 'trends are disabled (trends.enabled: false in the explorer config)',
      });
    if (this.generatedAt === null)
      throw new ServiceUnavailableException({
        statusCode: 503,
        message:
          `trends are not computed yet: the journeys of the window are being read (${this.entries.size} so far); ` +
          'ask again in a few seconds',
      });
    return this.generatedAt;
  }

  insights(q: InsightsQuery): InsightsDto {
    const at = this.ready();
    const findings = this.findings.filter(
      (f) =>
        (q.type === undefined || f.type === q.type) &&
        (q.segment === undefined || f.segment === q.segment) &&
        (q.area === undefined || (f.dimension === 'area' && f.group === q.area)) &&
        (q.site === undefined || (f.dimension === 'site' && f.group === q.site)),
    );
    return {
      generatedAt: new Date(at).toISOString(),
      journeys: this.entries.size,
      truncated: this.truncated,
      findings: findings.slice(0, q.limit),
    };
  }

  trends(q: TrendsQuery): TrendsDto {
    const at = this.ready();
    const to = q.to ? Date.parse(q.to) : at;
    const from = q.from ? Date.parse(q.from) : to - 7 * DAY;
    const bucketMs = q.bucket === 'day' ? DAY : HOUR;
    const { passages, trials } = this.all();
    const keep = (x: Passage | Trial): boolean =>
      (q.segment === undefined || x.segment === q.segment) && (q.group === undefined || groupOf(x, q.groupBy) === q.group);
    const keys = [...byKey(passages.filter(keep), trials.filter(keep), [q.groupBy]).values()]
      .sort((a, b) => b.passages.length - a.passages.length)
      .slice(0, MAX_SERIES);
    const series = keys.map(({ key, passages: ps, trials: ts }): TrendSeriesDto => {
      const findings = this.findings.filter((f) => f.segment === key.segment && f.dimension === key.dimension && f.group === key.group);
      const anomalies = findings.filter((f) => f.type === 'anomaly');
      const points = seriesOf(ps, ts, from, to, bucketMs, this.cfg.openLimitDays * DAY).map((p) => ({
        ...p,
        anomaly: anomalies.some((f) => p.t + bucketMs > f.since && p.t <= at),
      }));
      return { ...key, points, findings, forecast: bandOf(findings) };
    });
    series.sort((a, b) => (a.segment < b.segment ? -1 : a.segment > b.segment ? 1 : a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
    return {
      generatedAt: new Date(at).toISOString(),
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      bucket: q.bucket,
      journeys: this.entries.size,
      truncated: this.truncated,
      series,
    };
  }
}

/** The forecast line ahead with its 90 % prediction band, as the detection drew it (a point a day from the round). */
function bandOf(findings: readonly Finding[]): TrendSeriesDto['forecast'] {
  const f = findings.find((x) => x.type === 'forecast');
  if (!f || f.evidence.kind !== 'forecast') return null;
  return { metric: f.metric === 'queue' ? 'queue' : 'wait', objective: f.evidence.objective, points: f.evidence.band };
}
