/**
 * Trend computation benchmark (`npm run bench:trends`): the in-memory part of the explorer's trend
 * round — passages and trials from journeys, then every finding for every segment as a whole, per
 * area and per site — on generated histories of growing size, with the time and the heap it takes.
 * The graph read is not in it: a round reads only the journeys written since the previous one,
 * through the index on their first commit (see docs/explorer.md, "Trends and insights").
 *
 *   --rates=2,6,20      changes per working hour per area and site (three of each): the sizes
 *   --days=42           history length (the default window: historyDays 28 + openLimitDays 14)
 */
import { generateHistory } from '../apps/explorer/src/testing/trends-history.js';
import { DEFAULT_DETECT, detect, objectiveFor, rank } from '../apps/explorer/src/trends/trends.detect.js';
import { byKey, passagesOf, type Passage, type Trial } from '../apps/explorer/src/trends/trends.series.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const RATES = (args.get('rates') ?? '2,6,20').split(',').map(Number);
const DAYS = Number(args.get('days') ?? 42);
if (RATES.some((r) => !(r > 0)) || !(DAYS >= 7)) throw new Error('--rates takes numbers > 0, --days a number ≥ 7');

const DAY = 86_400_000;
const now = Date.parse('2026-11-02T14:00:00Z');
const OBJECTIVES = [{ segment: 'waiting-for-build' as const, queue: 15 }];
const mib = (b: number): string => (b / 1048576).toFixed(0);

process.stdout.write(
  '| changes | events | journeys → passages | findings (42 series) | heap after | findings |\n|---|---|---|---|---|---|\n',
);
for (const rate of RATES) {
  const { changes } = generateHistory({
    start: now - DAYS * DAY,
    days: DAYS,
    seed: 1,
    areas: ['payments', 'search', 'web'],
    sites: ['a', 'b', 'c'],
    workRate: rate,
    episodes: [],
  });
  const events = changes.reduce((n, c) => n + c.events.length, 0);
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const passages: Passage[] = [];
  const trials: Trial[] = [];
  for (const c of changes) {
    const r = passagesOf(c);
    passages.push(...r.passages);
    trials.push(...r.trials);
  }
  const t1 = performance.now();
  const findings = [];
  for (const { key, passages: ps, trials: ts } of byKey(passages, trials, ['all', 'area', 'site']).values())
    findings.push(...detect(key, ps, ts, now, DEFAULT_DETECT, objectiveFor(OBJECTIVES, key)));
  rank(findings);
  const t2 = performance.now();
  const heap = process.memoryUsage().heapUsed - heap0;
  process.stdout.write(
    `| ${changes.length} | ${events} | ${((t1 - t0) / 1000).toFixed(2)} s | ${((t2 - t1) / 1000).toFixed(2)} s | +${mib(heap)} MiB | ${findings.length} |\n`,
  );
}
