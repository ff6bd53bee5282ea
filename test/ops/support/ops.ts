import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** Paths of the operations files, relative to the repository root (the tests run from it). */
export const PROMETHEUS_DIR = join(process.cwd(), 'deploy', 'prometheus');
export const RULES_DIR = join(PROMETHEUS_DIR, 'rules');
export const RULE_TESTS_DIR = join(PROMETHEUS_DIR, 'tests');
const DASHBOARDS_DIR = join(process.cwd(), 'deploy', 'grafana', 'dashboards');
export const OPERATIONS_DOC = join(process.cwd(), 'docs', 'operations.md');

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export interface RuleGroup {
  readonly file: string;
  readonly name: string;
  readonly rules: AlertRule[];
}

export function ruleFiles(): string[] {
  return readdirSync(RULES_DIR)
    .filter((f) => f.endsWith('.rules.yml'))
    .sort();
}

export function ruleGroups(): RuleGroup[] {
  return ruleFiles().flatMap((file) => {
    const doc = parse(readFileSync(join(RULES_DIR, file), 'utf8')) as { groups: Array<{ name: string; rules: AlertRule[] }> };
    return doc.groups.map((g) => ({ file, name: g.name, rules: g.rules }));
  });
}

export function alertRules(): AlertRule[] {
  return ruleGroups().flatMap((g) => g.rules.filter((r) => r.alert));
}

export interface RunResult {
  readonly status: number | null;
  readonly output: string;
}

export function run(command: string, args: readonly string[], cwd = process.cwd()): RunResult {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Renders the rules for an environment file into `out` (deploy/prometheus/render-rules.mjs). */
export function renderRules(out: string, envFile?: string): RunResult {
  return run(process.execPath, [join(PROMETHEUS_DIR, 'render-rules.mjs'), ...(envFile ? ['--env', envFile] : []), '--out', out]);
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: identifiers that are not functions,
 * aggregation modifiers, label names or matchers, strings, durations or Grafana variables.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/'(?:[^'\\]|\\.)*'/g, "''")
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = stripped.slice(m.index + m[0].length);
    if (/^\s*\(/.test(rest)) continue; // a function or aggregation
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    const before = stripped.slice(0, m.index);
    if (/\d$/.test(before)) continue; // part of a number like 1e3
    names.add(m[0]);
  }
  return [...names].sort();
}

interface DashboardTarget {
  readonly refId: string;
  readonly expr: string;
  readonly datasource?: { type: string; uid: string };
}

export interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly datasource?: { type: string; uid: string };
  readonly targets?: DashboardTarget[];
  readonly panels?: DashboardPanel[];
}

export interface DashboardVariable {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { query: string };
  readonly definition?: string;
}

export interface Dashboard {
  readonly file: string;
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: DashboardPanel[];
  readonly templating: { list: DashboardVariable[] };
  readonly time: { from: string; to: string };
}

export function dashboards(): Dashboard[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ ...(JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Omit<Dashboard, 'file'>), file }));
}

/** Every panel, with the panels nested in collapsed rows. */
export function allPanels(d: Dashboard): DashboardPanel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** The PromQL of a `label_values(metric, label)` variable as an instant query. */
export function variableQuery(v: DashboardVariable): string | undefined {
  const q = typeof v.query === 'string' ? v.query : v.query?.query;
  const m = q ? /^label_values\((.+),\s*(\w+)\)$/.exec(q.trim()) : null;
  return m ? `count by (${m[2]}) (${m[1]})` : undefined;
}

/** Grafana's built-in and dashboard variables, as a test substitutes them (all sites, a 5-minute rate window). */
export function substituteVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '5m')
    .replace(/\$__interval|\$\{__interval\}/g, '1m')
    .replace(/\$__range|\$\{__range\}/g, '1h')
    .replace(/=~"\$\{?(\w+)\}?"/g, '=~".*"');
}

/** Which alert names each rule-test file has a firing and a quiet case for. */
export function ruleTestCoverage(): { firing: Map<string, string[]>; quiet: Map<string, string[]>; files: string[] } {
  const firing = new Map<string, string[]>();
  const quiet = new Map<string, string[]>();
  const files = readdirSync(RULE_TESTS_DIR)
    .filter((f) => f.endsWith('.test.yml'))
    .sort();
  for (const file of files) {
    const doc = parse(readFileSync(join(RULE_TESTS_DIR, file), 'utf8')) as {
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
    };
    for (const t of doc.tests) {
      for (const a of t.alert_rule_test ?? []) {
        const into = a.exp_alerts && a.exp_alerts.length > 0 ? firing : quiet;
        into.set(a.alertname, [...(into.get(a.alertname) ?? []), file]);
      }
    }
  }
  return { firing, quiet, files };
}

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value?: [number, string];
}

async function promGet<T>(base: string, path: string, params: Record<string, string> = {}): Promise<T> {
  const url = new URL(path, base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error ?? res.status}`);
  return body.data;
}

/** An instant query; throws with Prometheus's message when the expression is invalid. */
export async function promQuery(base: string, expr: string): Promise<PromSample[]> {
  const data = await promGet<{ resultType: string; result: PromSample[] | [number, string] }>(base, '/api/v1/query', { query: expr });
  if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
  return data.result as PromSample[];
}

export interface PromAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing';
}

export async function promAlerts(base: string): Promise<PromAlert[]> {
  return (await promGet<{ alerts: PromAlert[] }>(base, '/api/v1/alerts')).alerts;
}

export async function promRules(
  base: string,
): Promise<Array<{ name: string; rules: Array<{ name: string; type: string; duration?: number }> }>> {
  return (
    await promGet<{ groups: Array<{ name: string; rules: Array<{ name: string; type: string; duration?: number }> }> }>(
      base,
      '/api/v1/rules',
    )
  ).groups;
}

/** Asks Prometheus (started with --web.enable-lifecycle) to reload its config and rules. */
export async function reloadPrometheus(base: string): Promise<void> {
  const res = await fetch(new URL('/-/reload', base), { method: 'POST' });
  if (!res.ok) throw new Error(`Prometheus reload failed: ${res.status} ${await res.text()}`);
}

/** Metric names an exporter declares (its `# TYPE` lines), with the series names of histograms and summaries. */
export async function exportedNames(metricsUrl: string): Promise<Set<string>> {
  const text = await (await fetch(metricsUrl)).text();
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}
