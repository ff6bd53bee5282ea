import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { allPanels, dashboards, metricNames, type Dashboard } from './support/ops.js';

// Grafana's current dashboard schema (Grafana 10.4+ writes 39; later versions migrate it on load).
const MIN_SCHEMA_VERSION = 39;
const PANEL_TYPES = new Set([
  'row',
  'timeseries',
  'stat',
  'gauge',
  'bargauge',
  'table',
  'state-timeline',
  'status-history',
  'text',
  'heatmap',
  'piechart',
]);
const PROVISIONING = join(process.cwd(), 'deploy', 'grafana', 'provisioning');

function variablesUsed(d: Dashboard): Set<string> {
  const used = new Set<string>();
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? [])
      for (const m of t.expr.matchAll(/\$\{?([A-Za-z_]\w*)\}?/g)) if (!m[1]!.startsWith('__')) used.add(m[1]!);
    if (p.datasource?.uid) for (const m of p.datasource.uid.matchAll(/\$\{?(\w+)\}?/g)) used.add(m[1]!);
  }
  return used;
}

describe('Grafana dashboards', () => {
  const all = dashboards();

  it('exist for the mesh overview, the correlator and delivery', () => {
    assert.deepEqual(all.map((d) => d.uid).sort(), ['not-correlator', 'not-delivery', 'not-mesh-overview']);
  });

  it(`use Grafana's current schema (schemaVersion >= ${MIN_SCHEMA_VERSION}) with unique uids and titles`, () => {
    assert.equal(new Set(all.map((d) => d.uid)).size, all.length);
    assert.equal(new Set(all.map((d) => d.title)).size, all.length);
    for (const d of all) {
      assert.ok(d.schemaVersion >= MIN_SCHEMA_VERSION, `${d.file}: schemaVersion ${d.schemaVersion}`);
      assert.match(d.uid, /^[a-zA-Z0-9_-]{1,40}$/, `${d.file}: uid`);
      assert.ok(d.time.from && d.time.to, `${d.file}: time range`);
      const raw = JSON.parse(readFileSync(join(process.cwd(), 'deploy', 'grafana', 'dashboards', d.file), 'utf8')) as Record<
        string,
        unknown
      >;
      assert.equal(raw.id, null, `${d.file}: a provisioned dashboard has id null`);
    }
  });

  it('lay out panels on the 24-column grid without overlaps, with unique ids', () => {
    for (const d of all) {
      const panels = allPanels(d);
      assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, `${d.file}: duplicate panel id`);
      const cells = new Map<string, string>();
      for (const p of panels) {
        const { x, y, w, h } = p.gridPos;
        assert.ok(PANEL_TYPES.has(p.type), `${d.file} "${p.title}": panel type ${p.type}`);
        assert.ok(w >= 1 && h >= 1 && x >= 0 && y >= 0 && x + w <= 24, `${d.file} "${p.title}": gridPos ${JSON.stringify(p.gridPos)}`);
        for (let i = x; i < x + w; i++) {
          for (let j = y; j < y + h; j++) {
            const other = cells.get(`${i},${j}`);
            assert.equal(other, undefined, `${d.file}: "${p.title}" overlaps "${other}"`);
            cells.set(`${i},${j}`, p.title);
          }
        }
      }
    }
  });

  it('query Prometheus through the datasource variable, with valid-looking PromQL and defined variables', () => {
    for (const d of all) {
      const vars = new Map(d.templating.list.map((v) => [v.name, v]));
      assert.equal(vars.get('datasource')?.type, 'datasource', `${d.file}: a "datasource" variable`);
      for (const used of variablesUsed(d)) assert.ok(vars.has(used), `${d.file}: variable $${used} is not defined`);
      for (const p of allPanels(d).filter((p) => p.type !== 'row')) {
        assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, `${d.file} "${p.title}": datasource`);
        assert.ok(p.targets && p.targets.length > 0, `${d.file} "${p.title}": no query`);
        assert.equal(new Set(p.targets.map((t) => t.refId)).size, p.targets.length, `${d.file} "${p.title}": duplicate refId`);
        for (const t of p.targets) {
          assert.ok(t.expr.trim(), `${d.file} "${p.title}" ${t.refId}: empty expr`);
          assert.equal(t.expr.split('(').length, t.expr.split(')').length, `${d.file} "${p.title}" ${t.refId}: unbalanced parentheses`);
          assert.ok(metricNames(t.expr).length > 0, `${d.file} "${p.title}" ${t.refId}: reads no metric`);
        }
      }
    }
  });

  it('are provisioned: a Prometheus data source and a file provider', () => {
    const ds = parse(readFileSync(join(PROVISIONING, 'datasources', 'prometheus.yaml'), 'utf8')) as {
      apiVersion: number;
      datasources: Array<{ type: string; uid: string; url: string }>;
    };
    assert.equal(ds.apiVersion, 1);
    assert.equal(ds.datasources[0]?.type, 'prometheus');
    const prov = parse(readFileSync(join(PROVISIONING, 'dashboards', 'network-of-traces.yaml'), 'utf8')) as {
      apiVersion: number;
      providers: Array<{ type: string; options: { path: string } }>;
    };
    assert.equal(prov.apiVersion, 1);
    assert.equal(prov.providers[0]?.type, 'file');
    assert.match(prov.providers[0]?.options.path ?? '', /^\/var\/lib\/grafana\/dashboards\//);
  });
});

describe('PromQL metric name extraction', () => {
  it('reads metric names, not functions, labels, strings or variables', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (le, from) (rate(traces_x_bucket{job="a", site=~"$site"}[$__rate_interval]))) / on (site) group_left up or vector(0) > 1e3',
      ),
      ['traces_x_bucket', 'up'],
    );
    assert.deepEqual(metricNames('label_replace(rate(m_total{q=~"a\\\\..+"}[5m]), "site", "$1", "queue", "x")'), ['m_total']);
    assert.deepEqual(metricNames('time() - max by (site) (ts_seconds)'), ['ts_seconds']);
  });
});
