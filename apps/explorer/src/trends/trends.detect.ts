import { FINDING_TYPES, type FindingMetric, type FindingType } from '@not/graph';
import { median, quantileSorted } from 'simple-statistics';
import type { Segment } from '../lead-time.segments.js';
import { seriesOf, type Passage, type SeriesKey, type Trial } from './trends.series.js';
import { hingeFit, mannKendall, seasonalBaseline, t95, theilSen } from './trends.stats.js';

/**
 * Findings from one key's passages and trials at time `now`, pure:
 *
 * - anomaly, wait: the changes that left the segment in the last `recentHours` took longer than
 *   their season's baseline (weekday/weekend × hour of day, log scale, median and MAD over the
 *   history before): score = median robust z × √n / 1.2533, a standard normal score without a shift;
 * - anomaly, failure-rate: the builds / test runs of the last `recentHours` failed more often than in
 *   the history before (one-sided binomial test, normal approximation);
 * - trend, wait: over the last `trendDays`, the deseasonalised log waits (each change's) rise —
 *   Mann–Kendall p below `trendP`, Theil–Sen slope amounting to at least `trendMinChange` over the window,
 *   the line now `trendMinLevel` above the seasons' usual and the last day's changes half of `trendMinChange`;
 *   none after a quiet day (arrivals under `quietFraction` of the same day in the weeks before);
 * - forecast / breach: the peak queue or p90 wait of 24-hour windows (the last `forecastDays`; quiet
 *   windows skipped) rises since a knot (a line flat until it, straight after; the knot at a window or a
 *   skipped day; the slope passes a one-sided t-test at 5 %) and that line crosses the objective within
 *   `horizonDays`, with the crossing's interval from the slope's 90 % t-interval; a breach when the last
 *   window is over it;
 * - stuck: a change in the segment longer than `stuckMargin` × the `stuckQuantile` of the history's times
 *   there for its area (and not longer than `openLimitDays`, past which it counts as abandoned).
 */

export interface DetectOptions {
  readonly historyDays: number;
  readonly recentHours: number;
  readonly anomalyScore: number;
  readonly failureScore: number;
  readonly trendDays: number;
  readonly trendP: number;
  readonly trendMinChange: number;
  readonly trendMinLevel: number;
  readonly forecastDays: number;
  readonly horizonDays: number;
  readonly quietFraction: number;
  readonly stuckQuantile: number;
  readonly stuckMargin: number;
  readonly minSamples: number;
  readonly openLimitDays: number;
  readonly utcOffsetHours: number;
}

export const DEFAULT_DETECT: DetectOptions = {
  historyDays: 28,
  recentHours: 6,
  anomalyScore: 5,
  failureScore: 4,
  trendDays: 7,
  trendP: 0.001,
  trendMinChange: 0.3,
  trendMinLevel: 0.2,
  forecastDays: 7,
  horizonDays: 7,
  quietFraction: 0.3,
  stuckQuantile: 0.99,
  stuckMargin: 2,
  minSamples: 30,
  openLimitDays: 14,
  utcOffsetHours: 0,
};

export interface Objective {
  readonly queue?: number;
  readonly waitSeconds?: number;
}

/** The types (most urgent first) and metrics of findings: @not/graph's lists, which subscriptions share. */
export { FINDING_TYPES, type FindingType };

export interface Finding extends SeriesKey {
  /** Stable while the finding holds: type, metric, key (and change for a stuck one). */
  readonly id: string;
  readonly type: FindingType;
  readonly metric: FindingMetric;
  /** For ranking, 0..1. */
  readonly severity: number;
  readonly summary: string;
  /** When the evidence starts (epoch ms). */
  readonly since: number;
  readonly evidence: Evidence;
}

type Evidence =
  | {
      kind: 'wait-anomaly';
      score: number;
      recent: { n: number; medianSeconds: number };
      baseline: { medianSeconds: number };
      changes: string[];
    }
  | {
      kind: 'failure-anomaly';
      score: number;
      recent: { hours: number; finished: number; failed: number; rate: number };
      baseline: { rate: number; finished: number };
    }
  | {
      kind: 'trend';
      pValue: number;
      confidence: number;
      /** Relative change per day of the (deseasonalised) wait, and in seconds per day at the current level. */
      ratioPerDay: number;
      secondsPerDay: number;
      ratioPerDayInterval: [number, number];
      points: Array<{ t: number; v: number }>;
    }
  | {
      kind: 'forecast';
      objective: number;
      current: number;
      /** Per day, since the rise began (`since`), and its 90 % interval. */
      slope: number;
      slopeInterval: [number, number];
      /** When the line crosses the objective, and the interval (null: not within the horizon at the slow end). */
      crossing: number;
      interval: [number, number | null];
      /** When the rise began: the end of the window where the fitted line leaves its flat part (or the first window). */
      since: number;
      /** The line ahead, a point a day from now, with its 90 % prediction band. */
      band: Array<{ t: number; value: number; low: number; high: number }>;
      points: Array<{ t: number; v: number }>;
    }
  | { kind: 'breach'; objective: number; current: number; points: Array<{ t: number; v: number }> }
  | { kind: 'stuck'; change: string; since: number; ageSeconds: number; quantileSeconds: number; quantile: number; samples: number };

const HOUR = 3_600_000;
const DAY = 86_400_000;
const LOG_FLOOR = 0.05;

function idOf(type: FindingType, metric: FindingMetric, k: SeriesKey, extra = ''): string {
  return [type, metric, k.segment, k.dimension, k.group, extra].filter(Boolean).join(':');
}

function fmt(seconds: number): string {
  if (seconds >= 2 * 86_400) return `${(seconds / 86_400).toFixed(1)} d`;
  if (seconds >= 2 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  if (seconds >= 120) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds)} s`;
}

function where(k: SeriesKey): string {
  return k.dimension === 'all' ? k.segment : `${k.segment} at ${k.dimension} ${k.group}`;
}

type Wait = { t: number; v: number; change: string };

/** Each key's departures in the order they left: built once per passages array, which the detection asks for many windows of. */
const departures = new WeakMap<readonly Passage[], Wait[]>();

/** Departed passages in [from, to), in the order they left: (departure time, seconds spent). */
function waits(passages: readonly Passage[], from: number, to: number): Wait[] {
  let all = departures.get(passages);
  if (!all) {
    all = [];
    for (const p of passages) if (p.left !== null) all.push({ t: p.left, v: (p.left - p.entered) / 1000, change: p.change });
    all.sort((a, b) => a.t - b.t);
    departures.set(passages, all);
  }
  return all.slice(firstAt(all, from), firstAt(all, to));
}

/** The index of the first departure at or after `t` (binary search). */
function firstAt(all: readonly Wait[], t: number): number {
  let lo = 0;
  let hi = all.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (all[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A shift of the wait against its seasonal baseline in the last `recentHours`. */
export function waitAnomaly(k: SeriesKey, passages: readonly Passage[], now: number, o: DetectOptions): Finding | undefined {
  const recentFrom = now - o.recentHours * HOUR;
  const history = waits(passages, now - o.historyDays * DAY, recentFrom).map((w) => ({ t: w.t, v: Math.log(Math.max(w.v, 1)) }));
  const base = seasonalBaseline(history, o.minSamples, LOG_FLOOR, o.utcOffsetHours);
  const recent = waits(passages, recentFrom, now);
  if (!base || recent.length < 5) return undefined;
  const z = recent.map((w) => {
    const b = base(w.t);
    return (Math.log(Math.max(w.v, 1)) - b.median) / b.scale;
  });
  const score = (median(z) * Math.sqrt(z.length)) / 1.2533;
  if (score < o.anomalyScore) return undefined;
  const recentMedian = median(recent.map((w) => w.v));
  const baseMedian = Math.exp(median(recent.map((w) => base(w.t).median)));
  if (recentMedian < 1.2 * baseMedian) return undefined;
  return {
    ...k,
    id: idOf('anomaly', 'wait', k),
    type: 'anomaly',
    metric: 'wait',
    severity: Math.min(1, score / (4 * o.anomalyScore)) * 0.5 + 0.4,
    summary: `${where(k)}: the last ${o.recentHours} h took ${fmt(recentMedian)} (median of ${recent.length}), the usual for these hours is ${fmt(baseMedian)}`,
    since: Math.min(...recent.map((w) => w.t)),
    evidence: {
      kind: 'wait-anomaly',
      score,
      recent: { n: recent.length, medianSeconds: recentMedian },
      baseline: { medianSeconds: baseMedian },
      changes: [...new Set(recent.map((w) => w.change))].slice(0, 50),
    },
  };
}

/**
 * A rise of the failure rate of builds or tests over the history before: judged on the last
 * `recentHours`, and twice and four times that (a small shift needs more trials to show); the
 * window with the highest score speaks.
 */
export function failureAnomaly(k: SeriesKey, trials: readonly Trial[], now: number, o: DetectOptions): Finding | undefined {
  let best: { hours: number; n: number; f: number; hn: number; p0: number; score: number } | undefined;
  for (const hours of [o.recentHours, 2 * o.recentHours, 4 * o.recentHours]) {
    const recentFrom = now - hours * HOUR;
    let hn = 0;
    let hf = 0;
    let n = 0;
    let f = 0;
    for (const x of trials) {
      if (x.at >= recentFrom && x.at < now) {
        n++;
        if (x.failed) f++;
      } else if (x.at >= now - o.historyDays * DAY && x.at < recentFrom) {
        hn++;
        if (x.failed) hf++;
      }
    }
    if (hn < o.minSamples || n < 10) continue;
    const p0 = (hf + 1) / (hn + 2);
    const score = (f - n * p0 - 0.5) / Math.sqrt(n * p0 * (1 - p0));
    if (score >= o.failureScore && f / n >= 1.5 * p0 && (!best || score > best.score)) best = { hours, n, f, hn, p0, score };
  }
  if (!best) return undefined;
  const { hours, n, f, hn, p0, score } = best;
  return {
    ...k,
    id: idOf('anomaly', 'failure-rate', k),
    type: 'anomaly',
    metric: 'failure-rate',
    severity: Math.min(1, score / (4 * o.failureScore)) * 0.5 + 0.45,
    summary: `${where(k)}: ${f} of ${n} failed in the last ${hours} h (${pct(f / n)}), usually ${pct(p0)}`,
    since: now - hours * HOUR,
    evidence: {
      kind: 'failure-anomaly',
      score,
      recent: { hours, finished: n, failed: f, rate: f / n },
      baseline: { rate: p0, finished: hn },
    },
  };
}

function pct(r: number): string {
  return `${Math.round(r * 100)} %`;
}

/**
 * Whether the last 24 hours were quiet for their time of the week: fewer arrivals than `quietFraction`
 * × the median of the same 24 hours in the weeks of the history before (a weekend is quiet only
 * when weekends before were busier).
 */
function quietDay(passages: readonly Passage[], now: number, o: DetectOptions): boolean {
  const weeks = Math.floor(o.historyDays / 7);
  if (weeks < 1) return false;
  // counts[w]: arrivals in the 24 hours ending w weeks before now (w = 0: the last day), in one pass.
  const counts = new Array<number>(weeks + 1).fill(0);
  for (const p of passages) {
    const ago = now - p.entered;
    if (ago <= 0) continue;
    const w = Math.floor(ago / (7 * DAY));
    if (w <= weeks && ago - w * 7 * DAY <= DAY) counts[w]!++;
  }
  return counts[0]! < o.quietFraction * median(counts.slice(1));
}

/** A sustained rise of the (deseasonalised) wait over the last `trendDays`. */
export function waitTrend(k: SeriesKey, passages: readonly Passage[], now: number, o: DetectOptions): Finding | undefined {
  // Not after a quiet day (a holiday): with few changes coming in, the ones that leave are mostly
  // the long stays that came in before it, so waits seem to rise while nothing has changed.
  if (quietDay(passages, now, o)) return undefined;
  const from = now - o.trendDays * DAY;
  const history = waits(passages, now - o.historyDays * DAY, from).map((w) => ({ t: w.t, v: Math.log(Math.max(w.v, 1)) }));
  const base = seasonalBaseline(history, o.minSamples, LOG_FLOOR, o.utcOffsetHours);
  if (!base) return undefined;
  // Each change's log time less its season's usual one, in order of departure; at most 300 of them
  // (evenly spaced: Mann–Kendall and Theil–Sen look at every pair).
  const all = waits(passages, from, now)
    .sort((a, b) => a.t - b.t)
    .map((w) => ({ t: w.t, v: Math.log(Math.max(w.v, 1)) - base(w.t).median }));
  if (all.length < o.minSamples) return undefined;
  const step = Math.max(1, all.length / 300);
  const sample: Array<{ t: number; v: number }> = [];
  for (let i = 0; i < all.length; i += step) sample.push(all[Math.floor(i)]!);
  const mk = mannKendall(sample.map((p) => p.v));
  if (mk.p >= o.trendP) return undefined;
  const ts = theilSen(
    sample.map((p) => (p.t - now) / DAY),
    sample.map((p) => p.v),
  );
  // The evidence: 6-hour medians.
  const bins = new Map<number, number[]>();
  for (const w of all) {
    const b = Math.floor((w.t - from) / (6 * HOUR));
    (bins.get(b) ?? bins.set(b, []).get(b)!).push(w.v);
  }
  const points = [...bins.entries()].sort(([a], [b]) => a - b).map(([b, v]) => ({ t: from + (b + 0.5) * 6 * HOUR, v: median(v) }));
  const change = Math.exp(ts.slope * o.trendDays) - 1;
  if (ts.slope <= 0 || change < o.trendMinChange) return undefined;
  // Material as well as significant: the line now is `trendMinLevel` above the seasons' usual time,
  // and the changes of the last day wait at least half of `trendMinChange` more than usual. A slope
  // that a thin stretch (a holiday, a quiet site) tilts while the waits stay at their usual level is no
  // trend to report. (A line fitted over the whole window lags a drift that began within it: a level of
  // +30 % there would come a day after the drift reached it.)
  const lastDay = all.filter((w) => w.t >= now - DAY).map((w) => w.v);
  if (lastDay.length < 5 || median(lastDay) < Math.log(1 + o.trendMinChange / 2) || ts.intercept < Math.log(1 + o.trendMinLevel))
    return undefined;
  const current = Math.exp(base(now).median + ts.intercept);
  const ratioPerDay = Math.exp(ts.slope) - 1;
  return {
    ...k,
    id: idOf('trend', 'wait', k),
    type: 'trend',
    metric: 'wait',
    severity: 0.3 + 0.3 * Math.min(1, change),
    summary: `${where(k)}: the wait has risen ${pct(ratioPerDay)} a day for ${o.trendDays} days (confidence ${(100 * (1 - mk.p)).toFixed(1)} %), now about ${fmt(current)}`,
    since: points[0]!.t,
    evidence: {
      kind: 'trend',
      pValue: mk.p,
      confidence: 1 - mk.p,
      ratioPerDay,
      secondsPerDay: current * ratioPerDay,
      ratioPerDayInterval: [Math.exp(ts.low) - 1, Math.exp(ts.high) - 1],
      points,
    },
  };
}

/**
 * The peak queue (or the p90 wait of departures) in the 24-hour windows ending at now, now − 1 d, …
 * (`forecastDays` of them), with each window's arrivals. Windows without departures have no p90.
 */
function dailyPeaks(
  passages: readonly Passage[],
  now: number,
  days: number,
  metric: 'queue' | 'wait',
  openLimitMs: number,
): Array<{ t: number; v: number | null; arrivals: number }> {
  const out: Array<{ t: number; v: number | null; arrivals: number }> = [];
  // The queue at the end of every hour (the hours aligned to the clock), once for all windows.
  const hourly = metric === 'queue' ? seriesOf(passages, [], now - days * DAY, now, HOUR, openLimitMs) : [];
  for (let i = days - 1; i >= 0; i--) {
    const end = now - i * DAY;
    const start = end - DAY;
    const arrivals = passages.filter((p) => p.entered >= start && p.entered < end).length;
    if (metric === 'wait') {
      const w = waits(passages, start, end)
        .map((x) => x.v)
        .sort((a, b) => a - b);
      out.push({ t: end, v: w.length >= 5 ? quantileSorted(w, 0.9) : null, arrivals });
      continue;
    }
    // Each window's point sits at the last hour its queue was at its peak: for a rising queue the
    // window's end, for a steady one the day's usual peak hour. (At the first such hour instead, a
    // steady window's point falls near its start and a rising one's at its end, which bends the line.)
    let peak = 0;
    let at = end;
    for (const x of hourly) {
      const e = x.t + HOUR;
      if (e > start && e <= end && x.queue >= peak) {
        peak = x.queue;
        at = e;
      }
    }
    out.push({ t: at, v: peak, arrivals });
  }
  return out;
}

/**
 * The median of the arrivals of the 24-hour windows ending at now, now − 1 d, … over `days`, or over
 * the days since the first arrival when the series is younger than that.
 */
function usualDailyArrivals(passages: readonly Passage[], now: number, days: number): number {
  const counts = new Array<number>(days).fill(0);
  let oldest = -1;
  for (const p of passages) {
    const i = Math.floor((now - p.entered) / DAY);
    if (p.entered >= now || i >= days) continue;
    counts[i]!++;
    oldest = Math.max(oldest, i);
  }
  return oldest < 0 ? 0 : median(counts.slice(0, oldest + 1));
}

/** Changes in the segment at `t`: entered, not left, not stopped on a failure, not older than the open limit. */
export function queueAt(passages: readonly Passage[], t: number, openLimitMs: number): number {
  let q = 0;
  for (const p of passages)
    if (p.entered <= t && (p.left === null || p.left > t) && (p.stoppedAt === null || p.stoppedAt > t) && t - p.entered < openLimitMs) q++;
  return q;
}

/** When the queue or the p90 wait will cross its objective, or a breach when it already has. */
export function forecast(
  k: SeriesKey,
  passages: readonly Passage[],
  now: number,
  metric: 'queue' | 'wait',
  objective: number,
  o: DetectOptions,
): Finding | undefined {
  const peaks = dailyPeaks(passages, now, o.forecastDays, metric, o.openLimitDays * DAY);
  // A quiet window (a weekend, a holiday: few arrivals) says nothing about where the queue is going.
  // What is usual comes from the whole history (most of its days are working days), not from the
  // windows themselves: a long weekend followed by a holiday would make quiet look usual.
  const typical = usualDailyArrivals(passages, now, o.historyDays);
  const points = peaks.filter(
    (p): p is { t: number; v: number; arrivals: number } => p.v !== null && p.arrivals >= o.quietFraction * typical,
  );
  const last = peaks[peaks.length - 1]!;
  const unit = metric === 'queue' ? (v: number) => `${Math.round(v)} changes` : fmt;
  const name = metric === 'queue' ? 'queue' : 'p90 wait';
  const series = points.map((p) => ({ t: p.t, v: p.v }));
  if (last.v !== null && last.v >= objective && points.includes(last as (typeof points)[number])) {
    return {
      ...k,
      id: idOf('breach', metric, k),
      type: 'breach',
      metric,
      severity: 1,
      summary: `${where(k)}: the ${name} is ${unit(last.v)}, over its objective of ${unit(objective)}`,
      since: last.t - DAY,
      evidence: { kind: 'breach', objective, current: last.v, points: series },
    };
  }
  // The rise since it began: a line flat until a knot and straight after it (the knot where it fits
  // best, at least three windows before now), so that the steady days before a build-up do not slow it.
  if (points.length < 5) return undefined;
  // The knot may also fall on a day left out as quiet: a build-up that began over a weekend starts there.
  const fit = hingeFit(
    points.map((p) => (p.t - now) / DAY),
    points.map((p) => p.v),
    3,
    1,
  );
  if (!fit || fit.slope <= 0 || fit.level >= objective) return undefined;
  // Significant: the slope's one-sided t-test at 5 %.
  const t = t95(fit.df);
  if (fit.slope < t * fit.se) return undefined;
  const low = fit.slope - t * fit.se;
  const high = fit.slope + t * fit.se;
  const days = (objective - fit.level) / fit.slope;
  if (days > o.horizonDays) return undefined;
  // The crossing's interval: from when the 90 % prediction band's upper edge reaches the objective to
  // when its lower edge does (null: not within four horizons), by the hour; the band a point a day.
  let early = days;
  let late: number | null = null;
  for (let d = 0; d <= 4 * o.horizonDays; d += 1 / 24) {
    const b = fit.predict(d);
    if (b.high >= objective) early = Math.min(early, d);
    if (b.low >= objective) {
      late = d;
      break;
    }
  }
  const band: Array<{ t: number; value: number; low: number; high: number }> = [];
  for (let d = 0; d <= Math.ceil(Math.min(late ?? o.horizonDays, o.horizonDays)) + 1; d++) {
    const b = fit.predict(d);
    band.push({ t: now + d * DAY, value: b.value, low: b.low, high: b.high });
  }
  const crossing = now + days * DAY;
  return {
    ...k,
    id: idOf('forecast', metric, k),
    type: 'forecast',
    metric,
    severity: 0.5 + 0.5 * (1 - days / o.horizonDays),
    summary: `${where(k)}: the ${name} (now ${unit(fit.level)}) will pass its objective of ${unit(objective)} in about ${fmt(days * 86_400)} (${new Date(crossing).toISOString().slice(0, 16)}Z)`,
    since: now + fit.knot * DAY - DAY,
    evidence: {
      kind: 'forecast',
      objective,
      current: fit.level,
      slope: fit.slope,
      slopeInterval: [low, high],
      crossing,
      interval: [now + early * DAY, late === null ? null : now + late * DAY],
      band,
      since: now + fit.knot * DAY,
      points: series,
    },
  };
}

/** Changes in the segment longer than `stuckMargin` × the `stuckQuantile` of the times the history's changes spent there. */
export function stuck(k: SeriesKey, passages: readonly Passage[], now: number, o: DetectOptions): Finding[] {
  const history = waits(passages, now - o.historyDays * DAY, now)
    .map((w) => w.v)
    .sort((a, b) => a - b);
  if (history.length < o.minSamples) return [];
  const q = quantileSorted(history, o.stuckQuantile);
  const limit = q * o.stuckMargin;
  const out: Finding[] = [];
  for (const p of passages) {
    if (p.left !== null || p.stoppedAt !== null) continue;
    const age = (now - p.entered) / 1000;
    if (age <= limit || age > o.openLimitDays * 86_400) continue;
    out.push({
      ...k,
      id: idOf('stuck', 'wait', k, p.change),
      type: 'stuck',
      metric: 'wait',
      severity: Math.min(0.9, 0.3 + (0.1 * age) / q),
      summary: `${p.change} has been at ${where(k)} for ${fmt(age)}, longer than ${Math.round(o.stuckQuantile * 100)} % of changes there (${fmt(q)})`,
      since: p.entered,
      evidence: {
        kind: 'stuck',
        change: p.change,
        since: p.entered,
        ageSeconds: age,
        quantileSeconds: q,
        quantile: o.stuckQuantile,
        samples: history.length,
      },
    });
  }
  return out;
}

/** Every finding of one key. `objective` from the configuration, when one applies to the key. */
export function detect(
  k: SeriesKey,
  passages: readonly Passage[],
  trials: readonly Trial[],
  now: number,
  o: DetectOptions,
  objective?: Objective,
): Finding[] {
  const out: Finding[] = [];
  const push = (f: Finding | undefined): void => void (f && out.push(f));
  push(waitAnomaly(k, passages, now, o));
  if (k.segment === 'build' || k.segment === 'test') push(failureAnomaly(k, trials, now, o));
  push(waitTrend(k, passages, now, o));
  if (objective?.queue !== undefined) push(forecast(k, passages, now, 'queue', objective.queue, o));
  if (objective?.waitSeconds !== undefined) push(forecast(k, passages, now, 'wait', objective.waitSeconds, o));
  // Stuck changes per area (the history of the change's own area), once: under the area key.
  if (k.dimension === 'area') out.push(...stuck(k, passages, now, o));
  return out;
}

/** Findings, most severe first (then by id, for a stable order). */
export function rank(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => b.severity - a.severity || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The objective for a key: the most specific configured entry for its segment (group match first, then an entry for the whole segment). */
export function objectiveFor(
  objectives: ReadonlyArray<{ segment: Segment; area?: string | undefined; site?: string | undefined } & Objective>,
  k: SeriesKey,
): Objective | undefined {
  const mine = objectives.filter((x) => x.segment === k.segment);
  if (k.dimension === 'area')
    return mine.find((x) => x.area === k.group && x.site === undefined) ?? mine.find((x) => x.area === undefined && x.site === undefined);
  if (k.dimension === 'site')
    return mine.find((x) => x.site === k.group && x.area === undefined) ?? mine.find((x) => x.area === undefined && x.site === undefined);
  if (k.dimension === 'all') return mine.find((x) => x.area === undefined && x.site === undefined);
  return undefined;
}
