import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../testing/trends-history.js';
import {
  DEFAULT_DETECT,
  failureAnomaly,
  forecast,
  objectiveFor,
  rank,
  stuck,
  waitAnomaly,
  waitTrend,
  type DetectOptions,
  type Finding,
} from './trends.detect.js';
import type { Passage, SeriesKey, Trial } from './trends.series.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** A Monday, 14:00 UTC: working hours. */
const NOW = Date.parse('2026-10-26T14:00:00Z');
const KEY: SeriesKey = { segment: 'test', dimension: 'area', group: 'payments' };
const O: DetectOptions = DEFAULT_DETECT;

const working = (t: number): boolean => {
  const d = new Date(t);
  return d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && d.getUTCHours() >= 8 && d.getUTCHours() < 18;
};

/**
 * Changes entering the segment over the 28 days before `now`: four an hour in working hours, one an
 * hour otherwise, each taking a log-normal time (median `median` seconds × `factor(entered)`, σ 0.4),
 * and twice as long outside working hours (the season the baseline must know). Those that have not
 * left by `now` are open.
 */
function history(seed: number, median: number, factor: (t: number) => number = () => 1, now = NOW): Passage[] {
  const rnd = mulberry32(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const out: Passage[] = [];
  let n = 0;
  for (let h = now - 28 * DAY; h < now; h += HOUR) {
    const count = working(h) ? 4 : 1;
    for (let i = 0; i < count; i++) {
      const entered = h + rnd() * HOUR;
      if (entered >= now) continue;
      const seconds = median * factor(entered) * (working(entered) ? 1 : 2) * Math.exp(0.4 * normal());
      const left = entered + seconds * 1000;
      out.push({
        change: `c${n++}`,
        segment: 'test',
        area: 'payments',
        site: 'a',
        repository: 'r',
        entered,
        left: left <= now ? left : null,
        stoppedAt: null,
      });
    }
  }
  return out;
}

function trials(seed: number, rate: (t: number) => number): Trial[] {
  const rnd = mulberry32(seed);
  const out: Trial[] = [];
  for (let h = NOW - 28 * DAY; h < NOW; h += HOUR)
    for (let i = 0; i < (working(h) ? 6 : 1); i++) {
      const at = h + rnd() * HOUR;
      out.push({ segment: 'build', area: 'payments', site: 'a', repository: 'r', at, failed: rnd() < rate(at) });
    }
  return out;
}

describe('wait anomalies against the seasonal baseline', () => {
  it('flags the last hours when changes take three times as long as usual for those hours', () => {
    const ps = history(1, 1200, (t) => (t >= NOW - 8 * HOUR ? 3 : 1));
    const f = waitAnomaly(KEY, ps, NOW, O);
    assert.ok(f, 'expected an anomaly');
    assert.equal(f.evidence.kind, 'wait-anomaly');
    if (f.evidence.kind !== 'wait-anomaly') return;
    assert.ok(f.evidence.score >= O.anomalyScore);
    const ratio = f.evidence.recent.medianSeconds / f.evidence.baseline.medianSeconds;
    assert.ok(ratio > 2 && ratio < 4.5, `ratio ${ratio}`);
  });

  it('stays quiet on usual weeks, also in the evening when everything is slower (its season)', () => {
    let alarms = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const evening = NOW + 7 * HOUR; // 21:00: waits are twice the working-hours ones
      if (
        waitAnomaly(
          KEY,
          history(seed, 1200, () => 1, evening),
          evening,
          O,
        )
      )
        alarms++;
      if (waitAnomaly(KEY, history(100 + seed, 1200), NOW, O)) alarms++;
    }
    assert.equal(alarms, 0);
  });
});

describe('failure-rate shifts', () => {
  it('flags builds failing at 40 % in the last hours where 8 % is usual', () => {
    const f = failureAnomaly(
      KEY,
      trials(2, (t) => (t >= NOW - 6 * HOUR ? 0.4 : 0.08)),
      NOW,
      O,
    );
    assert.ok(f);
    if (f.evidence.kind !== 'failure-anomaly') return assert.fail('wrong evidence');
    assert.ok(f.evidence.recent.rate > 0.2);
    assert.ok(Math.abs(f.evidence.baseline.rate - 0.08) < 0.02);
  });

  it('stays quiet when the rate does not change', () => {
    let alarms = 0;
    for (let seed = 1; seed <= 40; seed++)
      if (
        failureAnomaly(
          KEY,
          trials(seed, () => 0.08),
          NOW,
          O,
        )
      )
        alarms++;
    assert.ok(alarms <= 1, `${alarms} false alarms in 40 histories`);
  });
});

describe('trends', () => {
  it('finds a wait rising 12 % a day for a week, with an interval around that rate', () => {
    const f = waitTrend(
      KEY,
      history(3, 1200, (t) => (t >= NOW - 7 * DAY ? Math.pow(1.12, (t - (NOW - 7 * DAY)) / DAY) : 1)),
      NOW,
      O,
    );
    assert.ok(f);
    if (f.evidence.kind !== 'trend') return assert.fail('wrong evidence');
    const [lo, hi] = f.evidence.ratioPerDayInterval;
    assert.ok(lo <= 0.12 && 0.12 <= hi, `interval ${lo}..${hi}`);
    assert.ok(f.evidence.confidence > 0.999);
  });

  it('reports no trend for a wait that climbs back from a dip to its usual level', () => {
    // 40 % quicker than usual a week ago, back to usual by yesterday: a significant rise, but not above the baseline.
    const dip = (t: number): number =>
      t < NOW - 7 * DAY || t >= NOW - DAY ? 1 : 0.6 * Math.pow(1 / 0.6, (t - (NOW - 7 * DAY)) / (6 * DAY));
    assert.equal(waitTrend(KEY, history(5, 1200, dip), NOW, O), undefined);
  });

  it('reports no trend right after a quiet day (a holiday), which the same waits show without the quiet rule', () => {
    // The drift above, but only one in five changes came in over the last 24 hours: under
    // quietFraction (0.3) of the same hours in the weeks before.
    const rising = history(3, 1200, (t) => (t >= NOW - 7 * DAY ? Math.pow(1.12, (t - (NOW - 7 * DAY)) / DAY) : 1));
    const quiet = rising.filter((p, i) => p.entered < NOW - DAY || i % 5 === 0);
    assert.equal(waitTrend(KEY, quiet, NOW, O), undefined);
    assert.ok(waitTrend(KEY, quiet, NOW, { ...O, quietFraction: 0 }), 'a trend when quiet days are not told apart');
  });

  it('finds no trend in usual weeks', () => {
    let alarms = 0;
    for (let seed = 1; seed <= 30; seed++) if (waitTrend(KEY, history(200 + seed, 1200), NOW, O)) alarms++;
    assert.equal(alarms, 0);
  });
});

/**
 * A queue whose peak (at 12:00 each day) is `peaks[i]` on the i-th of the last `peaks.length` days
 * (the last is today, before `now` at 14:00), plus `busy[i]` quick changes that never sit in the
 * queue at an hour's end (the day's arrivals).
 */
function queue(peaks: number[], busy: number[]): Passage[] {
  const out: Passage[] = [];
  const today = Date.parse('2026-10-26T00:00:00Z');
  peaks.forEach((peak, i) => {
    const day = today - (peaks.length - 1 - i) * DAY;
    const p = (entered: number, left: number, n: number): Passage => ({
      change: `q${i}-${n}`,
      segment: 'waiting-for-build',
      area: 'payments',
      site: 'c',
      repository: 'r',
      entered,
      left,
      stoppedAt: null,
    });
    for (let n = 0; n < peak; n++) out.push(p(day + 11 * HOUR + n * 1000, day + 13 * HOUR, n));
    for (let n = 0; n < busy[i]!; n++) out.push(p(day + 9 * HOUR + 5 * 60_000, day + 9 * HOUR + 20 * 60_000, 1000 + n));
  });
  return out;
}

describe('bottleneck forecasts', () => {
  const key: SeriesKey = { segment: 'waiting-for-build', dimension: 'site', group: 'c' };
  const o: DetectOptions = { ...O, forecastDays: 6 };

  it('forecasts when a queue growing by two a day reaches its objective, and the interval holds that time', () => {
    // Peaks 2, 4, …, 12 at 12:00: the line reaches 20 four days after 12:00 today.
    const f = forecast(key, queue([2, 4, 6, 8, 10, 12], [20, 20, 20, 20, 20, 20]), NOW, 'queue', 20, o);
    assert.ok(f);
    if (f.evidence.kind !== 'forecast') return assert.fail(`expected a forecast, got ${f.type}`);
    const truth = Date.parse('2026-10-30T12:00:00Z');
    assert.ok(Math.abs(f.evidence.crossing - truth) < 2 * HOUR, new Date(f.evidence.crossing).toISOString());
    // An exact line: every pairwise slope is 2, so the interval closes on the crossing (to a minute).
    const [early, late] = f.evidence.interval;
    assert.ok(early <= truth + 60_000 && (late === null || truth - 60_000 <= late));
    assert.equal(f.evidence.slope, 2);
  });

  it('draws the line through the build-up, not through the steady days before it', () => {
    // Steady at 3 for four days, then 6, 9, 12 (today): 20 is reached 8/3 days after 12:00 today.
    const f = forecast(key, queue([3, 3, 3, 3, 6, 9, 12], [20, 20, 20, 20, 20, 20, 20]), NOW, 'queue', 20, { ...o, forecastDays: 7 });
    if (f?.evidence.kind !== 'forecast') return assert.fail(`expected a forecast, got ${f?.type}`);
    const truth = Date.parse('2026-10-26T12:00:00Z') + (8 / 3) * DAY;
    assert.ok(Math.abs(f.evidence.crossing - truth) < 2 * HOUR, new Date(f.evidence.crossing).toISOString());
    assert.equal(f.evidence.since, Date.parse('2026-10-23T12:00:00Z'), 'the rise begins at the last steady peak');
  });

  it('says the objective is breached when the last day is over it', () => {
    const f = forecast(key, queue([2, 4, 6, 8, 10, 22], [20, 20, 20, 20, 20, 20]), NOW, 'queue', 20, o);
    assert.equal(f?.type, 'breach');
  });

  it('forecasts nothing for a flat queue, nor for one back to its usual level after a quiet period', () => {
    assert.equal(forecast(key, queue([10, 11, 10, 9, 10, 11], [20, 20, 20, 20, 20, 20]), NOW, 'queue', 20, o), undefined);
    // Two holiday days (hardly any arrivals, empty queue), then usual days again.
    assert.equal(forecast(key, queue([0, 0, 10, 10, 10, 10], [1, 1, 20, 20, 20, 20]), NOW, 'queue', 20, o), undefined);
  });

  it('forecasts nothing when the crossing lies beyond the horizon', () => {
    assert.equal(forecast(key, queue([2, 4, 6, 8, 10, 12], [20, 20, 20, 20, 20, 20]), NOW, 'queue', 60, o), undefined);
  });
});

describe('stuck changes', () => {
  it("names the change waiting longer than the margin × p99 of its area's history, and only that one", () => {
    const rnd = mulberry32(5);
    const done: Passage[] = Array.from({ length: 300 }, (_, i) => {
      const entered = NOW - 10 * DAY + i * HOUR * 0.5;
      return {
        change: `d${i}`,
        segment: 'test',
        area: 'payments',
        site: 'a',
        repository: 'r',
        entered,
        left: entered + 3600_000 * Math.exp(0.3 * (rnd() - 0.5)),
        stoppedAt: null,
      };
    });
    const open = (change: string, ageH: number, stoppedAt: number | null = null): Passage => ({
      change,
      segment: 'test',
      area: 'payments',
      site: 'a',
      repository: 'r',
      entered: NOW - ageH * HOUR,
      left: null,
      stoppedAt,
    });
    const found = stuck(
      KEY,
      [...done, open('late', 10), open('fresh', 1.2), open('failed', 10, NOW - 9 * HOUR), open('abandoned', 20 * 24)],
      NOW,
      O,
    );
    assert.deepEqual(
      found.map((f) => f.evidence.kind === 'stuck' && f.evidence.change),
      ['late'],
    );
    const e = found[0]!.evidence;
    if (e.kind !== 'stuck') return;
    // Every completed wait is between e^-0.15 h and e^0.15 h: so is their p99.
    assert.ok(e.quantileSeconds > 3600 * Math.exp(-0.15) && e.quantileSeconds < 3600 * Math.exp(0.15));
  });
});

describe('objectives and ranking', () => {
  const objectives = [
    { segment: 'test' as const, waitSeconds: 7200 },
    { segment: 'test' as const, area: 'payments', waitSeconds: 3600 },
    { segment: 'test' as const, site: 'b', queue: 5 },
  ];
  it('takes the objective of the group first, then the one for the whole segment', () => {
    assert.equal(objectiveFor(objectives, KEY)?.waitSeconds, 3600);
    assert.equal(objectiveFor(objectives, { ...KEY, group: 'search' })?.waitSeconds, 7200);
    assert.equal(objectiveFor(objectives, { segment: 'test', dimension: 'site', group: 'b' })?.queue, 5);
    assert.equal(objectiveFor(objectives, { segment: 'test', dimension: 'all', group: 'all' })?.waitSeconds, 7200);
    assert.equal(objectiveFor(objectives, { segment: 'build', dimension: 'all', group: 'all' }), undefined);
  });

  it('ranks the most severe first, ties by id', () => {
    const f = (id: string, severity: number) => ({ id, severity }) as Finding;
    assert.deepEqual(
      rank([f('b', 0.5), f('a', 0.5), f('c', 0.9)]).map((x) => x.id),
      ['c', 'a', 'b'],
    );
  });
});
