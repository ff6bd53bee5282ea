import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';
import { DEMO_PIPELINE, publishToSite, type MeshStatus } from '@not/mesh';
import { testStatus, waitUntil } from '../support/mesh.js';
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
const PENDING_METRICS = [
  'not_explorer_bottleneck_share_ratio',
  'not_explorer_dora_change_failure_ratio',
  'not_explorer_dora_deployments_per_day',
  'not_explorer_dora_lead_time_seconds',
  'not_explorer_dora_time_to_restore_seconds',
  'not_explorer_lead_time_seconds',
  'not_explorer_stage_changes',
  'not_explorer_stage_oldest_seconds',
];

/** Series Prometheus itself adds to every target. */
const PROMETHEUS_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added'];

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

describe('dashboard panels against the mesh Prometheus', { timeout: 600_000 }, () => {
  before(async () => {
    status = await testStatus();
    assert.ok(status.prometheus.up, 'the mesh Prometheus is not running');
    // Traffic for every panel: the demo pipeline at both sites, plus one message no parser accepts (a dead letter).
    // Sent twice: a counter born with the first round has no rate yet, the second round gives it one.
    const prom = status.prometheus.url;
    const publishRound = async (): Promise<void> => {
      for (const [i, which] of (['first', 'second'] as const).entries()) {
        const site = status.sites[i % status.sites.length]!;
        const bodies = DEMO_PIPELINE.filter((d) => d.site === which).map((d) => Buffer.from(JSON.stringify(d.event)));
        await publishToSite(status, site.id, site.sources[0]!.name, bodies);
      }
      await publishToSite(status, status.sites[0]!.id, status.sites[0]!.sources[0]!.name, [Buffer.from('{"not": "an eiffel event"')]);
    };
    await publishRound();
    await waitUntil(
      'the first round of events and the dead letter in Prometheus',
      async () =>
        (await promQuery(prom, 'sum(not_correlator_dead_letters_total{reason="parse"}) > 0')).length > 0 &&
        (await promQuery(prom, 'sum(not_correlator_end_to_end_latency_seconds_count) > 0')).length > 0,
      180_000,
      2000,
    );
    await publishRound();
    await waitUntil(
      'the second round of events to show as a rate',
      async () =>
        (await promQuery(prom, 'sum(rate(not_correlator_end_to_end_latency_seconds_count[5m])) > 0')).length > 0 &&
        (await promQuery(prom, 'sum(rate(rabbitmq_channel_messages_delivered_ack_total{queue=~"not-relay[.].+"}[5m])) > 0')).length > 0,
      180_000,
      2000,
    );
  });

  it('read only metrics that are exported, apart from the pending list, which is exactly what is missing', async () => {
    const have = await exported();
    const referenced = new Set([...panelQueries(), ...alertRules().map((r) => ({ where: r.alert, expr: r.expr }))].flatMap((q) => metricNames(q.expr)));
    const missing = [...referenced].filter((n) => !have.has(n)).sort();
    assert.deepEqual(missing, [...PENDING_METRICS].sort(), 'metrics read by dashboards or alerts but not exported (left) vs the pending list (right)');
  });

  it('return series for every panel and variable query', async () => {
    const pending = new Set(PENDING_METRICS);
    const empty: string[] = [];
    let executed = 0;
    for (const q of panelQueries()) {
      if (metricNames(q.expr).some((n) => pending.has(n))) continue;
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
