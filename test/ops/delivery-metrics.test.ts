import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { publishToSite, type MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { eiffelPipeline, expectedSegments, type Pipeline } from '../../apps/explorer/src/testing/eiffel-pipeline.js';
import { countEvents, neo4jDriver, publishIncident, testStatus, waitForIncident, waitUntil } from '../support/mesh.js';
import { promQuery } from './support/ops.js';

// The explorer's delivery figures, as Prometheus scrapes them from the mesh explorer, for a
// multi-site pipeline published now (its own repository, so its own area): every value is
// computed here from the published events, by the definitions in docs/explorer.md.
// A production incident (CDEvents, through the site relay's webhook) names the artifact of the
// first release: that release failed, and the incident's resolution is the time to restore.

const SEGMENTS = ['coding', 'waiting-for-build', 'build', 'test', 'waiting-for-promotion', 'promotion-to-release'] as const;
const M = 60_000;
/** The mesh explorer's defaults (deliveryMetrics in docs/explorer.md). */
const WINDOW_DAYS = 30;
/** When the incident on the first release's artifact (P@1.0, released at +130 min) was detected and resolved, after the pipeline's start. */
const INCIDENT = { detected: 200 * M, resolved: 230 * M };

/** Nearest-rank percentile, as the explorer documents it. */
function pct(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)]!;
}

function close(actual: number | undefined, expected: number, what: string, tolerance = 1e-6): void {
  assert.ok(actual !== undefined, `${what}: no series`);
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected}`);
}

describe('delivery figures on the explorer /metrics, through the mesh Prometheus', { timeout: 900_000 }, () => {
  let status: MeshStatus;
  let driver: Driver;
  let p: Pipeline;
  let area: string;
  const series = new Map<string, number>();

  const key = (name: string, labels: Record<string, string>): string =>
    `${name}{${Object.entries(labels)
      .filter(([k]) => k === 'stage' || k === 'quantile')
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}}`;

  before(async () => {
    status = await testStatus();
    assert.ok(status.prometheus.up, 'the mesh Prometheus is not running');
    driver = neo4jDriver(status);
    const run = `d${randomBytes(3).toString('hex')}`;
    // The pipeline ends (release 1.1) an hour ago, so it lies inside the 30-day window that ends now.
    p = eiffelPipeline(run, Date.now() - 390 * M);
    area = p.repository;
    const at = (s: 'a' | 'b') => p.events.filter((e) => e.site === s).map((e) => Buffer.from(JSON.stringify(e.event)));
    await publishToSite(status, 'site-a', 'ci', at('a'));
    await publishToSite(status, 'site-b', 'ci', at('b'));
    await publishIncident(status, 'site-a', run, p.purls.A1, p.base + INCIDENT.detected, p.base + INCIDENT.resolved);
    const ids = p.events.map((e) => e.event.meta.id);
    await waitUntil(
      'the pipeline in Neo4j',
      async () => [...(await countEvents(driver, ids)).values()].every((n) => n === 1),
      120_000,
      1000,
    );
    await waitForIncident(driver, run, p.artifacts.A1);
    const stored = Date.now() / 1000;
    // Wait for figures computed from a window that ended after every event was stored (a computation
    // that started earlier may have seen part of the pipeline), scraped by Prometheus.
    const prom = status.prometheus.url;
    await waitUntil(
      'delivery figures computed after the pipeline was stored, in Prometheus',
      async () => {
        const end = await promQuery(prom, 'max(traces_explorer_delivery_metrics_window_end_timestamp_seconds{job="explorer"})');
        if (!(Number(end[0]?.value?.[1] ?? 0) > stored)) return false;
        const all = await promQuery(prom, `{job="explorer", area="${area}", __name__=~"traces_explorer_.+"}`);
        return all.some((s) => s.metric['__name__'] === 'traces_explorer_lead_time_seconds');
      },
      720_000,
      2000,
    );
    const windowEnd = Number(
      (await promQuery(prom, 'max(traces_explorer_delivery_metrics_window_end_timestamp_seconds{job="explorer"})'))[0]!.value![1],
    );
    series.set('windowEnd', windowEnd);
    for (const s of await promQuery(prom, `{job="explorer", area="${area}", __name__=~"traces_explorer_.+"}`)) {
      series.set(key(s.metric['__name__']!, s.metric), Number(s.value![1]));
    }
  });
  after(async () => driver?.close());

  const changes = (): Array<{ total: number; segments: Record<string, number> }> =>
    (['C1', 'C2', 'C4'] as const).map((c) => expectedSegments(p.commits[c].times));

  it('exports lead time p50 and p90 per stage, and for the total, of the changes that reached a release', () => {
    const cs = changes();
    for (const q of [0.5, 0.9]) {
      close(
        series.get(key('traces_explorer_lead_time_seconds', { stage: 'total', quantile: String(q) })),
        pct(
          cs.map((c) => c.total),
          q,
        ),
        `total p${q * 100}`,
      );
      for (const s of SEGMENTS) {
        close(
          series.get(key('traces_explorer_lead_time_seconds', { stage: s, quantile: String(q) })),
          pct(
            cs.map((c) => c.segments[s]!),
            q,
          ),
          `${s} p${q * 100}`,
        );
      }
    }
  });

  it("exports each stage's share of the summed lead time", () => {
    const cs = changes();
    const sum = cs.reduce((a, c) => a + c.total, 0);
    for (const s of SEGMENTS) {
      close(
        series.get(key('traces_explorer_bottleneck_share_ratio', { stage: s })),
        cs.reduce((a, c) => a + c.segments[s]!, 0) / sum,
        `${s} share`,
      );
    }
  });

  it('exports the changes that stopped (a failed build, failed tests) at their stage, with how long they have waited', () => {
    const windowEnd = series.get('windowEnd')! * 1000;
    // C3's build failed: it waits at build since its build was triggered; C5's tests failed: at test since its build finished.
    const c3Since = p.commits.C3.times.buildTriggered;
    const c5Since = p.commits.C5.times.buildFinished;
    assert.equal(series.get(key('traces_explorer_stage_changes', { stage: 'build' })), 1);
    assert.equal(series.get(key('traces_explorer_stage_changes', { stage: 'test' })), 1);
    close(
      series.get(key('traces_explorer_stage_oldest_seconds', { stage: 'build' })),
      (windowEnd - c3Since) / 1000,
      'oldest at build',
      0.01,
    );
    close(series.get(key('traces_explorer_stage_oldest_seconds', { stage: 'test' })), (windowEnd - c5Since) / 1000, 'oldest at test', 0.01);
    const stages = [...series.keys()].filter((k) => k.startsWith('traces_explorer_stage_changes{'));
    assert.deepEqual(
      stages.sort(),
      [key('traces_explorer_stage_changes', { stage: 'build' }), key('traces_explorer_stage_changes', { stage: 'test' })].sort(),
      'no other change of the area waits',
    );
  });

  it('exports the DORA figures of the area: two releases, the median lead time, one failed by the incident, its time to restore', () => {
    const totals = changes().map((c) => c.total);
    close(series.get(key('traces_explorer_dora_deployments_per_day', {})), 2 / WINDOW_DAYS, 'deployments per day');
    close(series.get(key('traces_explorer_dora_lead_time_seconds', {})), pct(totals, 0.5), 'lead time for changes');
    // Releases: P@1.0 {A1}, P@1.1 {A2, A3} (lib@1 {A4} is a part of P@1.1); the incident names A1, so P@1.0 failed.
    close(series.get(key('traces_explorer_dora_change_failure_ratio', {})), 1 / 2, 'change failure ratio');
    close(
      series.get(key('traces_explorer_dora_time_to_restore_seconds', {})),
      (INCIDENT.resolved - INCIDENT.detected) / 1000,
      'time to restore',
    );
  });

  it('reports when the figures were last computed, and counts failed computations', async () => {
    const prom = status.prometheus.url;
    const last = Number(
      (await promQuery(prom, 'max(traces_explorer_delivery_metrics_last_success_timestamp_seconds{job="explorer"})'))[0]!.value![1],
    );
    assert.ok(last >= series.get('windowEnd')!, 'the last success is at or after the window end it exported');
    const failures = await promQuery(prom, 'sum(traces_explorer_delivery_metrics_failures_total{job="explorer"})');
    // Earlier tests may have stopped Neo4j under the explorer: only that the counter is there.
    assert.equal(failures.length, 1, 'traces_explorer_delivery_metrics_failures_total is exported');
  });
});
