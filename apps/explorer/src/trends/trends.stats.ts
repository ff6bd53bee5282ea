import { errorFunction, median, probit } from 'simple-statistics';

/**
 * The statistics of trends, pure: Mann–Kendall's test for a monotonic trend,
 * Theil–Sen's slope with Sen's confidence interval, a robust baseline (median
 * and scaled MAD) and the seasons it is kept per. Medians, MAD and the normal
 * distribution come from simple-statistics; the two rank methods are not in
 * it (nor in any well-kept npm package) and are short enough to read here.
 */

/** The standard normal distribution function. */
export function normalCdf(z: number): number {
  return 0.5 * (1 + errorFunction(z / Math.SQRT2));
}

/** Variance of Mann–Kendall's S under no trend, corrected for ties. */
function mkVariance(y: readonly number[]): number {
  const n = y.length;
  const ties = new Map<number, number>();
  for (const v of y) ties.set(v, (ties.get(v) ?? 0) + 1);
  let t = 0;
  for (const c of ties.values()) if (c > 1) t += c * (c - 1) * (2 * c + 5);
  return (n * (n - 1) * (2 * n + 5) - t) / 18;
}

/**
 * Mann–Kendall: S (concordant minus discordant pairs in time order), its normal score z
 * (with continuity correction) and the one-sided p-value of a rise (`p`) — the
 * probability of a z this high or higher without a trend. Fewer than 3 values: no evidence.
 */
export function mannKendall(y: readonly number[]): { s: number; z: number; p: number } {
  const n = y.length;
  if (n < 3) return { s: 0, z: 0, p: 1 };
  let s = 0;
  for (let i = 0; i < n - 1; i++) for (let j = i + 1; j < n; j++) s += Math.sign(y[j]! - y[i]!);
  const v = mkVariance(y);
  const z = v > 0 ? (s > 0 ? (s - 1) / Math.sqrt(v) : s < 0 ? (s + 1) / Math.sqrt(v) : 0) : 0;
  return { s, z, p: 1 - normalCdf(z) };
}

/**
 * Theil–Sen: the median of the slopes of all pairs, the intercept (value at x = 0) as the median of
 * y − slope·x, and Sen's two-sided `confidence` interval of the slope (the ranks of the pairwise
 * slopes that Mann–Kendall's variance puts around the median).
 */
export function theilSen(
  x: readonly number[],
  y: readonly number[],
  confidence = 0.9,
): { slope: number; intercept: number; low: number; high: number } {
  if (x.length !== y.length) throw new Error(`theilSen: ${x.length} x values but ${y.length} y values`);
  if (x.length < 2) throw new Error('theilSen: needs at least two points');
  const slopes: number[] = [];
  for (let i = 0; i < x.length - 1; i++)
    for (let j = i + 1; j < x.length; j++) if (x[j] !== x[i]) slopes.push((y[j]! - y[i]!) / (x[j]! - x[i]!));
  if (!slopes.length) throw new Error('theilSen: all x values are equal');
  slopes.sort((a, b) => a - b);
  const slope = median(slopes);
  const intercept = median(y.map((v, i) => v - slope * x[i]!));
  const c = probit(1 - (1 - confidence) / 2) * Math.sqrt(mkVariance(y));
  const n = slopes.length;
  // Sen (1968): the M1-th and (M2 + 1)-th smallest slopes, M1 = (N − c) / 2, M2 = (N + c) / 2.
  const lo = Math.round((n - c) / 2) - 1;
  const hi = Math.round((n + c) / 2);
  return { slope, intercept, low: slopes[Math.min(n - 1, Math.max(0, lo))]!, high: slopes[Math.min(n - 1, Math.max(0, hi))]! };
}

/** The median of ascending values (the mean of the middle two for an even count), as simple-statistics' `median`. */
function medianSorted(xs: Float64Array): number {
  const n = xs.length;
  return n % 2 ? xs[(n - 1) / 2]! : (xs[n / 2 - 1]! + xs[n / 2]!) / 2;
}

/** A robust location and scale: the median and 1.4826 × MAD (the standard deviation for normal data), at least `floor`. */
export function robust(values: readonly number[], floor: number): { median: number; scale: number; n: number } {
  if (!values.length) throw new Error('robust: no values');
  // Two sorts of a typed copy: a baseline is kept per season over tens of thousands of changes, every round.
  const m = medianSorted(Float64Array.from(values).sort());
  const mad = values.length > 1 ? medianSorted(Float64Array.from(values, (v) => Math.abs(v - m)).sort()) : 0;
  return { median: m, scale: Math.max(1.4826 * mad, floor), n: values.length };
}

const HOUR_MS = 3_600_000;

/** The season of a time as a number: 0–23 the weekday hours, 24–47 the weekend hours, on the team's clock. */
function seasonIndex(t: number, utcOffsetHours: number): number {
  const hours = Math.floor((t + utcOffsetHours * HOUR_MS) / HOUR_MS);
  const hour = ((hours % 24) + 24) % 24;
  // 1970-01-01 was a Thursday: day 0 of the epoch is weekday 4 (Sunday 0, Saturday 6).
  const weekday = (((Math.floor(hours / 24) + 4) % 7) + 7) % 7;
  return (weekday === 0 || weekday === 6 ? 24 : 0) + hour;
}

/** The season of a time: weekday or weekend, and the hour of day, shifted by `utcOffsetHours` to the team's clock. */
export function seasonOf(t: number, utcOffsetHours = 0): string {
  const i = seasonIndex(t, utcOffsetHours);
  return `${i >= 24 ? 'weekend' : 'weekday'}-${String(i % 24).padStart(2, '0')}`;
}

/** Samples a season needs for a baseline of its own (a quiet hour of the night has one change a day or so). */
const SEASON_MIN = 8;

type Baseline = { median: number; scale: number; n: number };

/**
 * A seasonal baseline: a robust location and scale per season from (time, value) samples; a season
 * with fewer than `seasonMin` samples borrows the pooled baseline of all seasons of its kind (weekday
 * or weekend), then of everything. Undefined when there are fewer than `min` samples in all. Each
 * baseline is computed when first asked for, once.
 */
export function seasonalBaseline(
  samples: ReadonlyArray<{ t: number; v: number }>,
  min: number,
  floor: number,
  utcOffsetHours = 0,
  seasonMin = Math.min(min, SEASON_MIN),
): ((t: number) => Baseline) | undefined {
  if (samples.length < min) return undefined;
  const by: number[][] = Array.from({ length: 48 }, () => []);
  for (const s of samples) by[seasonIndex(s.t, utcOffsetHours)]!.push(s.v);
  let all: Baseline | undefined;
  const kinds: Array<Baseline | null | undefined> = [undefined, undefined];
  const kindOf = (k: number): Baseline | null => {
    let b = kinds[k];
    if (b === undefined) {
      const values = by.slice(k * 24, k * 24 + 24).flat();
      b = kinds[k] = values.length >= seasonMin ? robust(values, floor) : null;
    }
    return b;
  };
  const cache: Array<Baseline | undefined> = new Array<Baseline | undefined>(48);
  return (t) => {
    const i = seasonIndex(t, utcOffsetHours);
    let b = cache[i];
    if (!b) {
      const own = by[i]!;
      b =
        own.length >= seasonMin
          ? robust(own, floor)
          : (kindOf(i >= 24 ? 1 : 0) ??
            (all ??= robust(
              samples.map((s) => s.v),
              floor,
            )));
      cache[i] = b;
    }
    return b;
  };
}

/** Student's t, one-sided 95 % (two-sided 90 %) quantiles for 1..20 degrees of freedom (any textbook table). */
const T95 = [
  6.314, 2.92, 2.353, 2.132, 2.015, 1.943, 1.895, 1.86, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.74, 1.734, 1.729, 1.725,
];

/** The one-sided 95 % quantile of Student's t with `df` degrees of freedom (past 20: 1.645 + 1.6/df, within 0.002 of the exact value). */
export function t95(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new Error(`t95: degrees of freedom must be a whole number ≥ 1 (got ${df})`);
  return df <= T95.length ? T95[df - 1]! : probit(0.95) + 1.6 / df;
}

export interface HingeFit {
  /** Where the rise starts (an x of the data or, with `knotStep`, a step into a gap; the first x when the whole series is one line). */
  readonly knot: number;
  /** Slope after the knot, its standard error and degrees of freedom (one less when the knot was chosen). */
  readonly slope: number;
  readonly se: number;
  readonly df: number;
  /** The fitted value at x = 0. */
  readonly level: number;
  /**
   * The two-sided 90 % prediction interval of a new value at x (x ≥ the knot): the fitted line
   * ± t · s · √(1 + 1/n + (h − h̄)² / Σ(h − h̄)²), h = x − knot — the slope's and the level's
   * uncertainty together, and the scatter of the values about the line.
   */
  predict(x: number): { value: number; low: number; high: number };
}

/**
 * A line that is flat until a knot and straight after it, by least squares: y = a + b·max(0, x − knot),
 * the knot chosen among the data's x (with at least `minTail` points from it on) by the smallest
 * residual sum of squares. A queue that starts to build up after a steady week is such a line: the
 * slope comes from the build-up alone, not from the flat days before it. `x` ascending.
 *
 * With `knotStep`, the knot may also sit every `knotStep` inside the gap after each x it may sit at
 * (where the caller left points out, such as quiet weekend days; in the last such gap, `minTail` − 1
 * points follow it): a rise that began in the gap then starts there, rather than at the point before
 * it, whose flat days would pull the slope down, or at the point after it.
 */
export function hingeFit(x: readonly number[], y: readonly number[], minTail = 3, knotStep?: number): HingeFit | undefined {
  const n = x.length;
  if (n !== y.length) throw new Error(`hingeFit: ${n} x values but ${y.length} y values`);
  if (knotStep !== undefined && !(knotStep > 0)) throw new Error(`hingeFit: knotStep must be > 0 (got ${knotStep})`);
  const knots: number[] = [];
  for (let k = 0; k <= n - minTail; k++) {
    knots.push(x[k]!);
    if (knotStep !== undefined && k + 1 < n) for (let v = x[k]! + knotStep; v < x[k + 1]! - 1e-9; v += knotStep) knots.push(v);
  }
  let best: (HingeFit & { sse: number }) | undefined;
  for (const knot of knots) {
    const h = x.map((v) => Math.max(0, v - knot));
    const df = n - 2 - (knot > x[0]! ? 1 : 0);
    if (df < 1) continue;
    const mh = h.reduce((s, v) => s + v, 0) / n;
    const my = y.reduce((s, v) => s + v, 0) / n;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < n; i++) {
      sxy += (h[i]! - mh) * (y[i]! - my);
      sxx += (h[i]! - mh) ** 2;
    }
    if (sxx === 0) continue;
    const b = sxy / sxx;
    const a = my - b * mh;
    let sse = 0;
    for (let i = 0; i < n; i++) sse += (y[i]! - a - b * h[i]!) ** 2;
    if (best && sse >= best.sse - 1e-9) continue;
    const sd = Math.sqrt(sse / df);
    const t = t95(df);
    best = {
      knot,
      slope: b,
      se: sd / Math.sqrt(sxx),
      df,
      level: a + b * Math.max(0, -knot),
      sse,
      predict: (at: number) => {
        const hh = Math.max(0, at - knot);
        const value = a + b * hh;
        const half = t * sd * Math.sqrt(1 + 1 / n + (hh - mh) ** 2 / sxx);
        return { value, low: value - half, high: value + half };
      },
    };
  }
  return best && { knot: best.knot, slope: best.slope, se: best.se, df: best.df, level: best.level, predict: best.predict };
}
