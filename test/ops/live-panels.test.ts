import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DEMO_PIPELINE, publishToSite, type MeshStatus } from '@not/mesh';
import { eiffelPipeline } from '../../apps/explorer/src/testing/eiffel-pipeline.js';
import { publishIncident, testStatus, waitUntil } from '../support/mesh.js';
import {
  alertRules,
  allPanels,
  dashboards,
  exportedNames,
  metricNames,
  promQuery,
  substituteVariables,
  variableQuery,
} from './support/ops.js';

/**
 * Metrics the dashboards and alert rules read that no app exports yet. The test
 * fails if this list differs in any way from what is really missing, so a
 * panel cannot hide here once its metric exists, and a typo cannot hide at all.
 */
const PENDING_METRICS: string[] = [];

/**
 * Exported metrics that have series only while the explorer has a finding of their kind (a forecast,
 * an anomaly, a trend, a stuck change): their panels may be empty on a healthy mesh.
 */
const ONLY_WITH_FINDINGS = new Set([
  'traces_explorer_trend_time_to_objective_seconds',
  'traces_explorer_trend_anomaly_score',
  'traces_explorer_trend_wait_change_ratio_per_day',
  'traces_explorer_trend_stuck_changes',
]);

/** Series Prometheus itself adds to every target. */
const PROMETHEUS_SERIES = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
];

let status: MeshStatus;

async function exported(): Promise<Set<string>> {
  const urls = [
    `${status.correlator.url}/metrics`,
    `${status.explorer.url}/metrics`,
    ...status.sites.map((s) => `${s.relay.url}/metrics`),
    status.central.prometheus,
    ...status.sites.map((s) => s.prometheus),
  ];
  const names = new Set(PROMETHEUS_SERIES);
  for (const url of urls) for (const n of await exportedNames(url)) names.add(n);
  return names;
}

interface Query {
  readonly where: string;
  readonly expr: string;
}

function panelQueries(): Query[] {
  return dashboards().flatMap((d) => [
    ...allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${d.file} "${p.title}" ${t.refId}`, expr: t.expr }))),
    ...d.templating.list.flatMap((v) => {
      const expr = variableQuery(v);
      return expr ? [{ where: `${d.file} variable $${v.name}`, expr }] : [];
    }),
  ]);
}

/** Active scrape targets that are not up, as `job instance: last error`. */
async function targetsDown(prom: string): Promise<string[]> {
  const res = (await (await fetch(new URL('/api/v1/targets?state=active', prom))).json()) as {
    data: { activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> };
  };
  return res.data.activeTargets
    .filter((t) => t.health !== 'up')
    .map((t) => `${t.labels['job']} ${t.labels['instance']}: ${t.health} ${t.lastError}`);
}

async function scalar(prom: string, expr: string): Promise<number> {
  const r = await promQuery(prom, expr);
  return r.length ? Number(r[0]!.value![1]) : 0;
}

/**
 * Why the traffic runs for the whole test: a rate needs two scrapes of the same
 * series that differ. One burst is not enough on a mesh that earlier tests have
 * used: a site's shovel restarted by them (a new channel: new series) can carry
 * the whole burst before its series is first scraped, and a counter born with
 * the burst in it never shows an increase. A round every few seconds, until the
 * last query has run, gives every series several scrapes with traffic between them.
 */
class Traffic {
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  rounds = 0;
  error?: unknown;

  constructor(private readonly status: MeshStatus) {}

  start(everyMs: number): void {
    const tick = (): void => {
      this.round = this.publishRound().then(
        () => void this.rounds++,
        (err: unknown) => void (this.error = err),
      );
      void this.round.finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, everyMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** The demo pipeline at both sites, plus one message no parser accepts (a dead letter). */
  private async publishRound(): Promise<void> {
    const status = this.status;
    for (const [i, which] of (['first', 'second'] as const).entries()) {
      const site = status.sites[i % status.sites.length]!;
      const bodies = DEMO_PIPELINE.filter((d) => d.site === which).map((d) => Buffer.from(JSON.stringify(d.event)));
      await publishToSite(status, site.id, site.sources[0]!.name, bodies);
    }
    await publishToSite(status, status.sites[0]!.id, status.sites[0]!.sources[0]!.name, [Buffer.from('{"not": "an eiffel event"')]);
  }
}

describe('dashboard panels against the mesh Prometheus', { timeout: 1_200_000 }, () => {
  let traffic: Traffic | undefined;

  before(async () => {
    status = await testStatus();
    assert.ok(status.prometheus.up, 'the mesh Prometheus is not running');
    const prom = status.prometheus.url;
    // Nodes and apps that earlier tests stopped and started must be scraped again before any query counts.
    let down: string[] = [];
    await waitUntil('every Prometheus target to be up', async () => (down = await targetsDown(prom)).length === 0, 120_000, 2000).catch(
      (err: Error) => {
        throw new Error(`${err.message}; still down: ${down.join('; ')}`);
      },
    );
    // Delivery panels: a pipeline that reaches releases, timed within the explorer's window (which ends now),
    // and an incident on its first release's artifact, resolved (the change-failure and time-to-restore panels).
    const run = `p${randomBytes(3).toString('hex')}`;
    const p = eiffelPipeline(run, Date.now() - 390 * 60_000);
    for (const s of ['a', 'b'] as const) {
      await publishToSite(
        status,
        `site-${s}`,
        'ci',
        p.events.filter((e) => e.site === s).map((e) => Buffer.from(JSON.stringify(e.event))),
      );
    }
    await publishIncident(status, 'site-a', run, p.purls.A1, p.base + 200 * 60_000, p.base + 230 * 60_000);
    // This test's own traffic must reach the scraped correlator: counters above where they are now.
    const accepted = 'sum(traces_correlator_events_total{job="correlator", result="accepted"})';
    const dead = 'sum(traces_correlator_dead_letters_total{job="correlator", reason="parse"})';
    const [accepted0, dead0] = [await scalar(prom, accepted), await scalar(prom, dead)];
    traffic = new Traffic(status);
    traffic.start(3000);
    await waitUntil(
      "this test's events and dead letters to be counted by the correlator in Prometheus",
      async () => {
        if (traffic!.error) throw traffic!.error;
        return (await scalar(prom, accepted)) > accepted0 && (await scalar(prom, dead)) > dead0;
      },
      180_000,
      2000,
    );
    await waitUntil(
      'the traffic to show as a rate at the correlator and at the site shovels',
      async () =>
        (await promQuery(prom, 'sum(rate(traces_correlator_end_to_end_latency_seconds_count[5m])) > 0')).length > 0 &&
        (await promQuery(prom, 'sum(rate(rabbitmq_channel_messages_delivered_ack_total{queue=~"not-relay[.].+"}[5m])) > 0')).length > 0,
      120_000,
      2000,
    );
    // The explorer recomputes its delivery figures in the background (deliveryMetrics.intervalSeconds,
    // plus however long a computation takes on the graph the earlier tests left).
    await waitUntil(
      "the explorer's delivery figures for the published pipeline in Prometheus",
      async () =>
        (await promQuery(prom, `traces_explorer_dora_time_to_restore_seconds{job="explorer", area="${p.repository}"}`)).length > 0,
      720_000,
      5000,
    );
  });

  after(async () => {
    await traffic?.stop();
    if (traffic) assert.ok(traffic.rounds > 0, 'no round of traffic was published');
  });

  it('read only metrics that are exported, apart from the pending list, which is exactly what is missing', async () => {
    const have = await exported();
    const referenced = new Set(
      [...panelQueries(), ...alertRules().map((r) => ({ where: r.alert, expr: r.expr }))].flatMap((q) => metricNames(q.expr)),
    );
    const missing = [...referenced].filter((n) => !have.has(n)).sort();
    assert.deepEqual(
      missing,
      [...PENDING_METRICS].sort(),
      'metrics read by dashboards or alerts but not exported (left) vs the pending list (right)',
    );
  });

  it('return series for every panel and variable query', async () => {
    const pending = new Set(PENDING_METRICS);
    const empty: string[] = [];
    let executed = 0;
    for (const q of panelQueries()) {
      if (metricNames(q.expr).some((n) => pending.has(n) || ONLY_WITH_FINDINGS.has(n))) continue;
      const expr = substituteVariables(q.expr);
      let result = await promQuery(status.prometheus.url, expr);
      // Rates need two scrapes after the traffic: give a query a little time before calling it empty.
      const deadline = Date.now() + 30_000;
      while (result.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2000));
        result = await promQuery(status.prometheus.url, expr);
      }
      executed++;
      if (result.length === 0) empty.push(`${q.where}: ${expr}`);
    }
    assert.deepEqual(empty, [], 'queries that returned no series');
    assert.ok(executed >= 20, `only ${executed} queries executed`);
  });
});
