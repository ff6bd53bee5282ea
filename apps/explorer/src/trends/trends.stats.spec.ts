import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../testing/trends-history.js';
import { hingeFit, mannKendall, normalCdf, robust, seasonalBaseline, seasonOf, t95, theilSen } from './trends.stats.js';

function gaussian(rnd: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

describe('Mann–Kendall', () => {
  it('scores a strictly rising series by its pairs: S = n(n−1)/2, z = (S − 1)/√Var(S)', () => {
    const r = mannKendall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(r.s, 45);
    // Var(S) = n(n−1)(2n+5)/18 = 125 for n = 10.
    assert.ok(Math.abs(r.z - 44 / Math.sqrt(125)) < 1e-12);
    assert.ok(r.p < 1e-4 && r.p > 1e-5, `p = ${r.p}`);
    assert.ok(mannKendall([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]).p > 0.9999);
  });

  it('sees no trend in a constant series (all ties) or in fewer than three values', () => {
    const flat = mannKendall([5, 5, 5, 5, 5]);
    assert.deepEqual([flat.s, flat.z], [0, 0]);
    assert.ok(Math.abs(flat.p - 0.5) < 1e-6);
    assert.equal(mannKendall([1, 2]).p, 1);
  });

  it('raises a false alarm at α = 0.05 about 5 % of the time on white noise', () => {
    const noise = gaussian(mulberry32(7));
    let alarms = 0;
    const trials = 600;
    for (let i = 0; i < trials; i++) if (mannKendall(Array.from({ length: 20 }, noise)).p < 0.05) alarms++;
    const rate = alarms / trials;
    assert.ok(rate > 0.025 && rate < 0.08, `false-alarm rate ${rate}`);
  });
});

describe('Theil–Sen', () => {
  it('finds the exact line, and is not moved by one wild point', () => {
    const x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const y = x.map((v) => 2 * v + 1);
    const exact = theilSen(x, y);
    assert.equal(exact.slope, 2);
    assert.equal(exact.intercept, 1);
    assert.deepEqual([exact.low, exact.high], [2, 2]);
    y[3] = 1000;
    assert.equal(theilSen(x, y).slope, 2);
  });

  it("covers the true slope with Sen's 90 % interval about 90 % of the time", () => {
    const noise = gaussian(mulberry32(11));
    let covered = 0;
    const trials = 300;
    for (let i = 0; i < trials; i++) {
      const x = Array.from({ length: 15 }, (_, k) => k);
      const r = theilSen(
        x,
        x.map((v) => 0.5 * v + 3 * noise()),
        0.9,
      );
      if (r.low <= 0.5 && 0.5 <= r.high) covered++;
    }
    const rate = covered / trials;
    assert.ok(rate > 0.84 && rate < 0.96, `coverage ${rate}`);
  });

  it('refuses inputs it cannot fit, saying why', () => {
    assert.throws(() => theilSen([1, 2], [1]), /2 x values but 1 y values/);
    assert.throws(() => theilSen([1], [1]), /at least two points/);
    assert.throws(() => theilSen([1, 1, 1], [1, 2, 3]), /all x values are equal/);
  });
});

describe('robust baseline and seasons', () => {
  it('estimates a normal sample’s standard deviation from its MAD', () => {
    const noise = gaussian(mulberry32(3));
    const r = robust(
      Array.from({ length: 4000 }, () => 10 + 2 * noise()),
      0.01,
    );
    assert.ok(Math.abs(r.median - 10) < 0.15, `median ${r.median}`);
    assert.ok(Math.abs(r.scale - 2) < 0.15, `scale ${r.scale}`);
    assert.equal(robust([5, 5, 5], 0.5).scale, 0.5);
  });

  it('names the season by weekday or weekend and the hour on the teams’ clock', () => {
    const saturday10 = Date.parse('2026-10-03T10:30:00Z');
    assert.equal(seasonOf(saturday10), 'weekend-10');
    assert.equal(seasonOf(saturday10, 2), 'weekend-12');
    assert.equal(seasonOf(Date.parse('2026-10-02T23:00:00Z'), 2), 'weekend-01'); // Friday 23:00 UTC is Saturday 01:00 at UTC+2
    assert.equal(seasonOf(Date.parse('2026-10-05T08:00:00Z')), 'weekday-08');
  });

  it('keeps a baseline per season, and a sparse season borrows its kind’s', () => {
    const samples: Array<{ t: number; v: number }> = [];
    const monday = Date.parse('2026-10-05T00:00:00Z');
    for (let d = 0; d < 14; d++) {
      const day = monday + d * 86_400_000;
      const weekend = d % 7 >= 5;
      for (let k = 0; k < 5; k++) samples.push({ t: day + 9 * 3_600_000 + k * 60_000, v: weekend ? 10 + k : 100 + k });
      if (!weekend) samples.push({ t: day + 15 * 3_600_000, v: 300 });
    }
    const base = seasonalBaseline(samples, 8, 0.1)!;
    assert.equal(base(monday + 9.5 * 3_600_000).median, 102);
    assert.equal(base(monday + 5 * 86_400_000 + 9.5 * 3_600_000).median, 12);
    // weekday 15:00 has 10 samples (300 each): its own; weekday 20:00 has none: all weekday samples pooled.
    assert.equal(base(monday + 15 * 3_600_000).median, 300);
    assert.equal(base(monday + 20 * 3_600_000).median, 102.5);
    assert.equal(seasonalBaseline(samples.slice(0, 3), 8, 0.1), undefined);
  });

  it('computes the normal distribution function (simple-statistics’ error function: about 1e-7 off at most)', () => {
    assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-6);
    assert.ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);
  });
});

describe('hinge fit', () => {
  it('finds where a flat series starts to rise, and the slope of the rise alone', () => {
    const x = [-6, -5, -4, -3, -2, -1, 0];
    const f = hingeFit(x, [4, 4, 4, 4, 7, 10, 13])!;
    assert.equal(f.knot, -3);
    assert.ok(Math.abs(f.slope - 3) < 1e-9 && f.se < 1e-9, JSON.stringify(f));
    assert.ok(Math.abs(f.level - 13) < 1e-9);
    assert.equal(f.df, 4, 'n − 2, less one for the chosen knot');
  });

  it('keeps one straight line when the series rises throughout', () => {
    const f = hingeFit([-4, -3, -2, -1, 0], [2, 4, 6, 8, 10])!;
    assert.deepEqual([f.knot, f.slope, f.df, f.level], [-4, 2, 3, 10]);
  });

  it('with a knot step, starts a rise inside a gap of the data (days left out) rather than at the point before it', () => {
    // Flat at 4 until day −4, rising 3 a day from there; days −5 and −4 are missing (a weekend).
    const x = [-8, -7, -6, -3, -2, -1, 0];
    const y = x.map((v) => 4 + 3 * Math.max(0, v + 4));
    const at = hingeFit(x, y, 3, 1)!;
    assert.deepEqual([at.knot, at.df], [-4, 4]);
    assert.ok(Math.abs(at.slope - 3) < 1e-9 && Math.abs(at.level - 16) < 1e-9 && at.se < 1e-9, JSON.stringify(at));
    // Without it the knot can only be a point of the data: the line bends at −6 or −3 and fits worse.
    const only = hingeFit(x, y)!;
    assert.ok([-6, -3].includes(only.knot) && only.se > 0, JSON.stringify(only));
    assert.throws(() => hingeFit(x, y, 3, 0), /knotStep must be > 0/);
  });

  it('gives a slope whose 90 % t-interval holds the true one about 90 % of the time (noise around a rise)', () => {
    const noise = gaussian(mulberry32(11));
    const x = Array.from({ length: 10 }, (_, i) => i - 9);
    let held = 0;
    const trials = 400;
    for (let k = 0; k < trials; k++) {
      const f = hingeFit(
        x,
        x.map((v) => 5 + 2 * (v + 9) + noise()),
      )!;
      if (Math.abs(f.slope - 2) <= t95(f.df) * f.se) held++;
    }
    assert.ok(held / trials > 0.84 && held / trials < 0.96, `${held} of ${trials}`);
  });
});

describe('hinge prediction band', () => {
  it('holds a new value from the same line about 90 % of the time, wider the further ahead', () => {
    const noise = gaussian(mulberry32(13));
    const x = [-6, -5, -4, -3, -2, -1, 0];
    let held = 0;
    const trials = 400;
    for (let k = 0; k < trials; k++) {
      const y = x.map((v) => 3 + (v > -4 ? 2 * (v + 4) : 0) + noise());
      const f = hingeFit(x, y)!;
      const next = f.predict(1);
      const truth = 3 + 2 * 5 + noise();
      if (next.low <= truth && truth <= next.high) held++;
      assert.ok(f.predict(3).high - f.predict(3).low > next.high - next.low);
    }
    assert.ok(held / trials > 0.84 && held / trials < 0.97, `${held} of ${trials}`);
  });
});

describe("Student's t quantile", () => {
  it('matches the table at 1, 4 and 20 degrees of freedom and tends to the normal one', () => {
    assert.equal(t95(1), 6.314);
    assert.equal(t95(4), 2.132);
    assert.equal(t95(20), 1.725);
    assert.ok(Math.abs(t95(30) - 1.697) < 0.002 && Math.abs(t95(120) - 1.658) < 0.002);
    assert.throws(() => t95(0), /whole number/);
  });
});
