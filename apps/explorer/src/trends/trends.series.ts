import { FAILED_OUTCOMES } from '@not/events';
import type { JourneyEvent } from '@not/graph';
import { quantileSorted } from 'simple-statistics';
import { SEGMENTS, type Segment } from '../lead-time.segments.js';

/**
 * Trend series from journeys, pure: a journey's events -> the passages of the
 * change through each lead-time segment (entered, left, or still there) and
 * its builds' and tests' outcomes; passages -> one value per time bucket.
 * Times are epoch milliseconds.
 */

/** One change's stay in one segment. `left` is null while it is still there. */
export interface Passage {
  readonly change: string;
  readonly segment: Segment;
  readonly area: string;
  readonly site: string;
  readonly repository: string;
  readonly entered: number;
  readonly left: number | null;
  /** When the change stopped here on a failure (its builds or its tests failed): from then on not waiting, not in the queue. */
  readonly stoppedAt: number | null;
}

/** A finished build or test run: a trial for the failure rate of its segment. */
export interface Trial {
  readonly segment: 'build' | 'test';
  readonly area: string;
  readonly site: string;
  readonly repository: string;
  readonly at: number;
  readonly failed: boolean;
}

/**
 * The points a change passed, in segment order: each segment starts at its point and ends at the
 * next point the change reached (a point it skipped, such as a merge on a direct push, merges its
 * segment into the one before). The points follow the lead-time definitions (docs/explorer.md).
 */
function pointsOf(events: readonly JourneyEvent[], until: string): Array<JourneyEvent | undefined> {
  const first = (pred: (e: JourneyEvent) => boolean): JourneyEvent | undefined => events.find(pred);
  const reached = first((e) => e.stage === until);
  const promotion = first((e) => e.stage === 'promotion');
  const testLimit = (promotion ?? reached)?.time;
  const tests = events.filter(
    (e) => e.stage === 'test' && (e.phase === 'finished' || e.phase === 'canceled') && (testLimit === undefined || e.time <= testLimit),
  );
  const builds = events.filter((e) => e.stage === 'build' && e.phase === 'finished');
  const passedTests = tests.some((e) => !FAILED_OUTCOMES.has(e.outcome ?? ''));
  return [
    first((e) => e.stage === 'commit') ?? events[0],
    first((e) => e.stage === 'merge'),
    first((e) => e.stage === 'build' && (e.phase === 'triggered' || e.phase === 'queued' || e.phase === 'started')),
    builds.find((e) => !FAILED_OUTCOMES.has(e.outcome ?? '')),
    passedTests ? tests[tests.length - 1] : undefined,
    promotion,
    until === 'promotion' ? undefined : reached,
  ];
}

/** Passages and trials of one change (its journey's events sorted by time). */
export function passagesOf(
  change: { key: string; repository: string; area: string; events: readonly JourneyEvent[] },
  until = 'release',
): { passages: Passage[]; trials: Trial[] } {
  const passages: Passage[] = [];
  const trials: Trial[] = [];
  const { key, repository, area, events } = change;
  if (!events.length) return { passages, trials };
  for (const e of events) {
    if ((e.stage === 'build' || e.stage === 'test') && e.phase === 'finished' && e.outcome) {
      trials.push({ segment: e.stage, area, site: e.site, repository, at: Date.parse(e.time), failed: FAILED_OUTCOMES.has(e.outcome) });
    }
  }
  const points = pointsOf(events, until);
  const builds = events.filter((e) => e.stage === 'build' && e.phase === 'finished');
  const tests = events.filter((e) => e.stage === 'test' && (e.phase === 'finished' || e.phase === 'canceled'));
  // A build (or the tests) that ran and all failed: the change stopped there (a fix comes as another commit).
  const stoppedIn: Segment | null =
    !points[3] && builds.length > 0 ? 'build' : points[3] && !points[4] && tests.length > 0 && !points[5] ? 'test' : null;
  const lastOf = (xs: readonly JourneyEvent[]): number => Date.parse(xs[xs.length - 1]!.time);
  let prev = -Infinity;
  for (let i = 0; i < SEGMENTS.length; i++) {
    const start = points[i];
    if (!start) continue;
    const next = points.slice(i + 1).find((p) => p !== undefined);
    const entered = Math.max(Date.parse(start.time), prev);
    const left = next ? Math.max(Date.parse(next.time), entered) : null;
    prev = entered;
    passages.push({
      change: key,
      segment: SEGMENTS[i]!,
      area,
      site: start.site,
      repository,
      entered,
      left,
      stoppedAt: left !== null || stoppedIn !== SEGMENTS[i] ? null : lastOf(stoppedIn === 'build' ? builds : tests),
    });
    if (left === null) break;
  }
  return { passages, trials };
}

export const DIMENSIONS = ['all', 'area', 'site', 'repository'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** What a series is about: a segment, seen as a whole or for one area, site or repository. */
export interface SeriesKey {
  readonly segment: Segment;
  readonly dimension: Dimension;
  /** The area, site or repository; `all` for the dimension `all`. */
  readonly group: string;
}

export function groupOf(x: Pick<Passage, 'area' | 'site' | 'repository'>, d: Dimension): string {
  return d === 'all' ? 'all' : x[d];
}

/** One time bucket of a series. Durations in seconds; a figure without data is null. */
export interface SeriesPoint {
  /** Start of the bucket (epoch ms). */
  readonly t: number;
  /** Changes that entered the segment in the bucket. */
  readonly arrivals: number;
  /** Changes that left it in the bucket (throughput). */
  readonly departures: number;
  /** Changes in the segment at the end of the bucket (not stopped on a failure, not older than the open limit). */
  readonly queue: number;
  /** Median and p90 of the time spent in the segment by the changes that left it in the bucket. */
  readonly waitP50: number | null;
  readonly waitP90: number | null;
  /** Finished builds / test runs in the bucket, and how many failed (build and test segments only). */
  readonly finished: number;
  readonly failed: number;
  readonly failureRate: number | null;
}

/** Bucket boundaries [from, to) of width `bucketMs`, aligned to the epoch (UTC hours, days). */
function buckets(from: number, to: number, bucketMs: number): number[] {
  const out: number[] = [];
  for (let t = Math.floor(from / bucketMs) * bucketMs; t < to; t += bucketMs) out.push(t);
  return out;
}

/**
 * The series of one key over [from, to): `passages` and `trials` already filtered to the key.
 * An open passage older than `openLimitMs` at a bucket's end no longer counts in its queue
 * (an abandoned change must not hold a queue up for ever). Cost: O(buckets + passages · log).
 */
export function seriesOf(
  passages: readonly Passage[],
  trials: readonly Trial[],
  from: number,
  to: number,
  bucketMs: number,
  openLimitMs: number,
): SeriesPoint[] {
  const ts = buckets(from, to, bucketMs);
  if (!ts.length) return [];
  const start = ts[0]!;
  const index = (t: number): number => Math.floor((t - start) / bucketMs);
  const n = ts.length;
  const arrivals = new Array<number>(n).fill(0);
  const departures = new Array<number>(n).fill(0);
  const waits: number[][] = ts.map(() => []);
  const finished = new Array<number>(n).fill(0);
  const failed = new Array<number>(n).fill(0);
  // Queue by difference array: +1 where a passage starts counting, -1 where it stops.
  const delta = new Array<number>(n + 1).fill(0);
  for (const p of passages) {
    const a = index(p.entered);
    if (a >= 0 && a < n) arrivals[a]!++;
    if (p.left !== null) {
      const d = index(p.left);
      if (d >= 0 && d < n) {
        departures[d]!++;
        waits[d]!.push((p.left - p.entered) / 1000);
      }
    }
    // In the queue at bucket i's end e = start + (i + 1) * bucketMs when entered <= e < min(left, stopped, entered + openLimit).
    const stopAt = Math.min(p.left ?? Infinity, p.stoppedAt ?? Infinity, p.entered + openLimitMs);
    const f = Math.max(0, Math.ceil((p.entered - start) / bucketMs) - 1);
    const last = Math.min(n - 1, Math.ceil((stopAt - start) / bucketMs) - 2);
    if (f <= last) {
      delta[f]!++;
      delta[last + 1]!--;
    }
  }
  for (const x of trials) {
    const i = index(x.at);
    if (i < 0 || i >= n) continue;
    finished[i]!++;
    if (x.failed) failed[i]!++;
  }
  let queue = 0;
  return ts.map((t, i) => {
    queue += delta[i]!;
    const w = waits[i]!.sort((a, b) => a - b);
    return {
      t,
      arrivals: arrivals[i]!,
      departures: departures[i]!,
      queue,
      waitP50: w.length ? quantileSorted(w, 0.5) : null,
      waitP90: w.length ? quantileSorted(w, 0.9) : null,
      finished: finished[i]!,
      failed: failed[i]!,
      failureRate: finished[i]! ? failed[i]! / finished[i]! : null,
    };
  });
}

/** One series: its key, and the passages and trials that fall in it. */
export interface SeriesSlot {
  readonly key: SeriesKey;
  readonly passages: Passage[];
  readonly trials: Trial[];
}

/**
 * Splits passages and trials into their series (one per segment and group of each dimension), a
 * batch at a time: a caller with hundreds of thousands of them can let the event loop go between batches.
 */
export class SeriesSplit {
  /** Every series met so far, by `segment \0 dimension \0 group`. */
  readonly series = new Map<string, SeriesSlot>();
  // By dimension, segment, then group: no key string per passage.
  private readonly slots = new Map<Dimension, Map<Segment, Map<string, SeriesSlot>>>();

  constructor(private readonly dimensions: readonly Dimension[]) {}

  add(passages: readonly Passage[], trials: readonly Trial[]): void {
    for (const d of this.dimensions) {
      for (const p of passages) this.slot(p.segment, d, groupOf(p, d)).passages.push(p);
      for (const t of trials) this.slot(t.segment, d, groupOf(t, d)).trials.push(t);
    }
  }

  private slot(segment: Segment, dimension: Dimension, group: string): SeriesSlot {
    let bySegment = this.slots.get(dimension);
    if (!bySegment) this.slots.set(dimension, (bySegment = new Map()));
    let byGroup = bySegment.get(segment);
    if (!byGroup) bySegment.set(segment, (byGroup = new Map()));
    let v = byGroup.get(group);
    if (!v) {
      byGroup.set(group, (v = { key: { segment, dimension, group }, passages: [], trials: [] }));
      this.series.set(`${segment}\u0000${dimension}\u0000${group}`, v);
    }
    return v;
  }
}

/** Passages and trials split by segment and group, for the given dimensions. */
export function byKey(passages: readonly Passage[], trials: readonly Trial[], dimensions: readonly Dimension[]): Map<string, SeriesSlot> {
  const split = new SeriesSplit(dimensions);
  split.add(passages, trials);
  return split.series;
}

/** What the passages looked like at `now`: later ones dropped, a later departure or stop not yet happened. */
export function asOf(passages: readonly Passage[], now: number): Passage[] {
  const out: Passage[] = [];
  for (const p of passages) {
    if (p.entered > now) continue;
    const left = p.left !== null && p.left <= now ? p.left : null;
    const stoppedAt = p.stoppedAt !== null && p.stoppedAt <= now ? p.stoppedAt : null;
    out.push(left === p.left && stoppedAt === p.stoppedAt ? p : { ...p, left, stoppedAt });
  }
  return out;
}
