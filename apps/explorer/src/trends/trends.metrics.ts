import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { FINDING_TYPES, type Finding } from './trends.detect.js';

/**
 * The trend gauges: labels are the segment (`stage`), the area and the site (`all` for the whole
 * segment or the other dimension) and the metric — never a change. Every round replaces all series.
 */
export class TrendsGauges {
  readonly timeToObjective: Gauge<'stage' | 'area' | 'site' | 'metric'>;
  readonly anomalyScore: Gauge<'stage' | 'area' | 'site' | 'metric'>;
  readonly trendRatio: Gauge<'stage' | 'area' | 'site'>;
  readonly stuckChanges: Gauge<'stage' | 'area'>;
  readonly findings: Gauge<'type'>;
  readonly journeys: Gauge;
  readonly lastSuccess: Gauge;
  readonly failures: Counter;
  readonly reused: Counter;
  readonly backlog: Counter;
  readonly read: Counter<'result'>;
  readonly dropped: Counter<'reason'>;
  readonly duration: Histogram;
  readonly leader: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    const key = ['stage', 'area', 'site'] as const;
    this.timeToObjective = new Gauge({
      name: 'traces_explorer_trend_time_to_objective_seconds',
      help: "Forecast time until the segment's queue or p90 wait crosses its configured objective (0: over it now); absent when no crossing is forecast within the horizon",
      labelNames: [...key, 'metric'],
      registers,
    });
    this.anomalyScore = new Gauge({
      name: 'traces_explorer_trend_anomaly_score',
      help: 'Score (standard normal units) of a current anomaly of the wait or failure rate against its baseline; absent without an anomaly',
      labelNames: [...key, 'metric'],
      registers,
    });
    this.trendRatio = new Gauge({
      name: 'traces_explorer_trend_wait_change_ratio_per_day',
      help: "Relative change per day of the segment's wait in a significant rising trend (0.1 = +10 %/day); absent without a trend",
      labelNames: [...key],
      registers,
    });
    this.stuckChanges = new Gauge({
      name: 'traces_explorer_trend_stuck_changes',
      help: 'Changes waiting in the segment longer than the configured quantile of its history for their area (times the margin)',
      labelNames: ['stage', 'area'],
      registers,
    });
    this.findings = new Gauge({
      name: 'traces_explorer_trend_findings',
      help: 'Current findings by type',
      labelNames: ['type'],
      registers,
    });
    this.journeys = new Gauge({
      name: 'traces_explorer_trend_journeys',
      help: 'Journeys the trends are computed from (held in memory)',
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'traces_explorer_trends_last_success_timestamp_seconds',
      help: 'When the trends were last computed and exported (Unix time); 0 until the first time',
      registers,
    });
    this.failures = new Counter({
      name: 'traces_explorer_trends_failures_total',
      help: 'Rounds of the trend computation that failed (the previous findings stay)',
      registers,
    });
    this.duration = new Histogram({
      name: 'traces_explorer_trends_duration_seconds',
      help: 'How long one round of the trend computation took',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.reused = new Counter({
      name: 'traces_explorer_trends_reused_total',
      help: 'Rounds that found no journey written since the last one and kept the findings (judged again every trends.refreshSeconds)',
      registers,
    });
    this.backlog = new Counter({
      name: 'traces_explorer_trends_backlog_rounds_total',
      help: 'Rounds that read full pages (a backlog: the window after a start, a burst of ingest) and left judging to the round that reads the rest',
      registers,
    });
    this.read = new Counter({
      name: 'traces_explorer_trends_journeys_read_total',
      help:
        'Journeys the rounds read, by what became of them: new, changed (their series are split again), unchanged ' +
        '(read again at the cursor), not_taken (older than every one kept while trends.maxJourneys are kept), removed (no passage: not kept)',
      labelNames: ['result'],
      registers,
    });
    this.dropped = new Counter({
      name: 'traces_explorer_trends_journeys_dropped_total',
      help: 'Journeys let go from memory: aged (their first commit left the window), excess (the oldest beyond trends.maxJourneys)',
      labelNames: ['reason'],
      registers,
    });
    this.leader = new Gauge({
      name: 'traces_explorer_trends_leader',
      help: 'Whether this explorer replica exports the trend gauges (1) or leaves them to another (0)',
      registers,
    });
  }

  /** Replaces every trend series with those of `findings` (none on a replica that does not lead). */
  apply(findings: readonly Finding[], journeys: number): void {
    for (const g of [this.timeToObjective, this.anomalyScore, this.trendRatio, this.stuckChanges, this.findings]) g.reset();
    const now = Date.now();
    const stuck = new Map<string, { stage: string; area: string; n: number }>();
    for (const f of findings) {
      const labels = { stage: f.segment, area: f.dimension === 'area' ? f.group : 'all', site: f.dimension === 'site' ? f.group : 'all' };
      const e = f.evidence;
      switch (e.kind) {
        case 'breach':
          this.timeToObjective.set({ ...labels, metric: f.metric }, 0);
          break;
        case 'forecast':
          this.timeToObjective.set({ ...labels, metric: f.metric }, Math.max(0, (e.crossing - now) / 1000));
          break;
        case 'wait-anomaly':
        case 'failure-anomaly':
          this.anomalyScore.set({ ...labels, metric: f.metric }, e.score);
          break;
        case 'trend':
          this.trendRatio.set(labels, e.ratioPerDay);
          break;
        case 'stuck': {
          const k = `${f.segment}\u0000${f.group}`;
          const s = stuck.get(k) ?? { stage: f.segment, area: f.group, n: 0 };
          s.n++;
          stuck.set(k, s);
          break;
        }
      }
    }
    for (const s of stuck.values()) this.stuckChanges.set({ stage: s.stage, area: s.area }, s.n);
    for (const t of FINDING_TYPES) this.findings.set({ type: t }, findings.filter((f) => f.type === t).length);
    this.journeys.set(journeys);
  }
}
