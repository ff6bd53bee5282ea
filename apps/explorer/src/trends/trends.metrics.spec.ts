import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { Finding } from './trends.detect.js';
import { TrendsGauges } from './trends.metrics.js';

const base = { severity: 0.5, summary: '', since: 0 };

describe('trend gauges', () => {
  it('export findings by stage, area and site — never by change — and replace them every round', async () => {
    const registry = new Registry();
    const g = new TrendsGauges(registry);
    const inAnHour = Date.now() + 3_600_000;
    const findings = [
      {
        ...base,
        id: 'f',
        type: 'forecast',
        metric: 'queue',
        segment: 'waiting-for-build',
        dimension: 'site',
        group: 'c',
        evidence: { kind: 'forecast', crossing: inAnHour },
      },
      {
        ...base,
        id: 'b',
        type: 'breach',
        metric: 'wait',
        segment: 'test',
        dimension: 'area',
        group: 'payments',
        evidence: { kind: 'breach' },
      },
      {
        ...base,
        id: 'a',
        type: 'anomaly',
        metric: 'failure-rate',
        segment: 'build',
        dimension: 'all',
        group: 'all',
        evidence: { kind: 'failure-anomaly', score: 6.5 },
      },
      {
        ...base,
        id: 's1',
        type: 'stuck',
        metric: 'wait',
        segment: 'test',
        dimension: 'area',
        group: 'payments',
        evidence: { kind: 'stuck', change: 'repo@1' },
      },
      {
        ...base,
        id: 's2',
        type: 'stuck',
        metric: 'wait',
        segment: 'test',
        dimension: 'area',
        group: 'payments',
        evidence: { kind: 'stuck', change: 'repo@2' },
      },
    ] as unknown as Finding[];
    g.apply(findings, 42);
    const text = await registry.metrics();
    const ttl =
      /traces_explorer_trend_time_to_objective_seconds\{stage="waiting-for-build",area="all",site="c",metric="queue"\} (\S+)/.exec(text);
    assert.ok(ttl && Math.abs(Number(ttl[1]) - 3600) < 5, text);
    assert.match(text, /traces_explorer_trend_time_to_objective_seconds\{stage="test",area="payments",site="all",metric="wait"\} 0\n/);
    assert.match(text, /traces_explorer_trend_anomaly_score\{stage="build",area="all",site="all",metric="failure-rate"\} 6.5\n/);
    assert.match(text, /traces_explorer_trend_stuck_changes\{stage="test",area="payments"\} 2\n/);
    assert.match(text, /traces_explorer_trend_findings\{type="stuck"\} 2\n/);
    assert.match(text, /traces_explorer_trend_journeys 42\n/);
    assert.doesNotMatch(text, /repo@/);
    g.apply([], 0);
    const after = await registry.metrics();
    assert.doesNotMatch(after, /traces_explorer_trend_anomaly_score\{/);
    assert.match(after, /traces_explorer_trend_findings\{type="forecast"\} 0\n/);
  });
});
