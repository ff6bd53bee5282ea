import assert from 'node:assert/strict';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadMesh, publishToSite, type MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { eiffelBuildUp, type BuildUp } from '../../apps/explorer/src/testing/eiffel-build-up.js';
import { countEvents, neo4jDriver, testStatus, waitUntil } from '../support/mesh.js';
import { PROMETHEUS_DIR, promAlerts, promQuery, promRules, reloadPrometheus, renderRules, type PromAlert } from '../ops/support/ops.js';

// A queue build-up in waiting for build at site-a, published through the mesh as Eiffel events with
// their own past times: five days of merges every 6 minutes, each waiting 5 minutes for its build
// until three days ago and then longer by 76 minutes for every day later it was merged. The queue
// grows by 12 changes a day (a step every two hours, so that counting whole changes hardly moves
// the crossing) and, continued as planned, reaches the mesh's objective (48 changes waiting,
// test/mesh.test.yaml) about a day from now. The explorer must forecast it in /insights and /trends,
// its gauge must raise TracesBottleneckForecast in the mesh's Prometheus (the rules rendered with the
// e2e environment's short `for:`), and the page's trends view must show it. A webhook subscription on
// forecasts for that area, made before the publication, must be delivered the forecast once (however
// many rounds keep finding it); subscriptions for another site or another segment nothing.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SITE = 'site-a';
const SHOTS = join(process.cwd(), 'test-results', 'explorer');

interface ForecastFinding {
  id: string;
  type: string;
  metric: string;
  segment: string;
  dimension: string;
  group: string;
  severity: number;
  summary: string;
  evidence: { kind: string; objective: number; current: number; crossing: number; interval: [number, number | null] };
}

/** A delivery as the webhook receiver saw it: its path (one per subscription) and its body. */
interface Delivery {
  readonly path: string;
  readonly firing: string;
  readonly finding: ForecastFinding;
}

const SECRET = `secret-${randomBytes(12).toString('hex')}`;

/** A webhook endpoint: checks each body's HMAC-SHA256 on its own (node:crypto) and keeps the deliveries. */
async function receiver(got: Delivery[], refused: string[]): Promise<Server> {
  const server = createServer((req, res) => {
    void body(req).then((raw) => {
      const want = 'sha256=' + createHmac('sha256', SECRET).update(raw).digest('hex');
      const header = String(req.headers['x-traces-signature-256'] ?? '');
      if (header.length !== want.length || !timingSafeEqual(Buffer.from(header), Buffer.from(want))) {
        refused.push(header);
        res.writeHead(401).end();
        return;
      }
      const f = JSON.parse(raw) as { firing: string; finding: ForecastFinding };
      got.push({ path: req.url ?? '', firing: f.firing, finding: f.finding });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

describe('a queue build-up at one site, forecast end to end', { timeout: 600_000 }, () => {
  let status: MeshStatus;
  let driver: Driver;
  let b: BuildUp;
  let objective: number;
  let published: number;
  let rulesDir: string;
  let context: BrowserContext | undefined;
  let profile: string | undefined;
  let hook: Server | undefined;
  const deliveries: Delivery[] = [];
  const refused: string[] = [];
  /** Subscription ids by the receiver path they deliver to. */
  const subs = new Map<string, string>();

  const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(new URL(`/api/v1/${path}`, status.explorer.url), {
      headers: { authorization: `Bearer ${status.explorer.token}` },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const send = async <T>(method: string, path: string, json?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(new URL(`/api/v1/${path}`, status.explorer.url), {
      method,
      headers: { authorization: `Bearer ${status.explorer.token}`, 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  const forecastOf = async (): Promise<ForecastFinding | undefined> => {
    const r = await api<{ findings: ForecastFinding[] }>(
      `insights?type=forecast&segment=waiting-for-build&area=${encodeURIComponent(b.repository)}&limit=50`,
    );
    return r.status === 200 ? r.body.findings.find((f) => f.dimension === 'area' && f.group === b.repository) : undefined;
  };

  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
    const configured = (loadMesh(process.env.NOT_TEST_MESH ?? 'test/mesh.test.yaml').config.explorer.trends?.objectives ?? []) as Array<{
      segment: string;
      queue?: number;
      area?: string;
      site?: string;
    }>;
    const o = configured.find((x) => x.segment === 'waiting-for-build' && x.queue !== undefined && !x.area && !x.site);
    assert.ok(o?.queue, 'the test mesh configures a queue objective for waiting-for-build (explorer.trends.objectives)');
    objective = o.queue;
    published = Date.now();
    b = eiffelBuildUp(`t${randomBytes(4).toString('hex')}`, {
      now: published,
      historyMs: 5 * DAY,
      onsetAgoMs: 3 * DAY,
      everyMs: 6 * 60_000,
      baseWaitMs: 5 * 60_000,
      growth: 1 / 19,
      objective,
    });
    // Subscriptions on findings, before anything is published: forecasts of waiting for build in the
    // build-up's area (its repository, which no configured area names), forecasts or breaches at its site,
    // and two that must stay silent —
    // the same for the other site, and forecasts of another segment in that area.
    hook = await receiver(deliveries, refused);
    const port = (hook.address() as AddressInfo).port;
    const conditions: Record<string, unknown> = {
      area: { on: 'insight', types: ['forecast'], segments: ['waiting-for-build'], areas: [b.repository] },
      site: { on: 'insight', types: ['forecast', 'breach'], segments: ['waiting-for-build'], sites: [SITE] },
      'other-site': { on: 'insight', types: ['forecast'], segments: ['waiting-for-build'], sites: ['site-b'] },
      'other-segment': { on: 'insight', types: ['forecast'], segments: ['test'], areas: [b.repository] },
    };
    for (const [path, condition] of Object.entries(conditions)) {
      const r = await send<{ id: string }>('POST', 'subscriptions', {
        name: `build-up ${path}`,
        condition,
        delivery: { type: 'webhook', url: `http://127.0.0.1:${port}/${path}`, secret: SECRET },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      subs.set(`/${path}`, r.body.id);
    }
    await publishToSite(
      status,
      SITE,
      'ci',
      b.events.map((e) => Buffer.from(JSON.stringify(e))),
    );
    const ids = b.events.map((e) => e.meta.id);
    await waitUntil(
      'the build-up in Neo4j',
      async () => [...(await countEvents(driver, ids)).values()].every((n) => n === 1),
      180_000,
      1000,
    );

    rulesDir = join(status.stateDir, 'prometheus', 'rules');
    const r = renderRules(rulesDir, join(PROMETHEUS_DIR, 'environments', 'e2e.yaml'));
    assert.equal(r.status, 0, r.output);
    await reloadPrometheus(status.prometheus.url);
  });

  after(async () => {
    // End the build-up: the waiting changes get their builds, so the queue is empty again for other tests.
    if (b && status)
      await publishToSite(
        status,
        SITE,
        'ci',
        b.triggersAt(Date.now()).map((e) => Buffer.from(JSON.stringify(e))),
      ).catch(() => 0);
    for (const id of subs.values()) await send('DELETE', `subscriptions/${id}`).catch(() => undefined);
    hook?.closeAllConnections();
    await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
    if (rulesDir) {
      renderRules(rulesDir);
      await reloadPrometheus(status.prometheus.url).catch(() => undefined);
    }
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await driver?.close();
  });

  it('lists the forecast in /api/v1/insights, crossing the objective when the planned queue does', async () => {
    // First the explorer must hold the whole build-up: a round computed while the correlator was still
    // taking the events in would judge part of the history. Its series counts every published merge.
    const merges = b.events.filter((e) => e.meta.type === 'EiffelSourceChangeSubmittedEvent').length;
    const iso = (t: number): string => new Date(t).toISOString();
    let seen = 0;
    await waitUntil(
      `the explorer to count all ${merges} merges of the build-up`,
      async () => {
        const r = await api<{ series: Array<{ group: string; points: Array<{ arrivals: number }> }> }>(
          `trends?segment=waiting-for-build&groupBy=area&group=${encodeURIComponent(b.repository)}&bucket=hour` +
            `&from=${iso(published - 7 * DAY)}&to=${iso(Date.now() + HOUR)}`,
        );
        const s = r.status === 200 ? r.body.series.find((x) => x.group === b.repository) : undefined;
        seen = s ? s.points.reduce((n, p) => n + p.arrivals, 0) : 0;
        return seen === merges;
      },
      240_000,
      2000,
    ).catch((err: unknown) => assert.fail(`${String(err)} (last seen: ${seen})`));
    let f: ForecastFinding | undefined;
    await waitUntil('a forecast for the build-up in /insights', async () => (f = await forecastOf()) !== undefined, 240_000, 2000);
    const e = f!.evidence;
    assert.equal(f!.metric, 'queue');
    assert.equal(e.objective, objective);
    // The queue now, and when it crosses: from the plan (see apps/explorer/src/testing/eiffel-build-up.ts).
    const truthNow = b.queueAt(published);
    assert.ok(Math.abs(e.current - truthNow) <= 2, `current level ${e.current} against a queue of ${truthNow} at publication`);
    assert.ok(e.crossing > published, 'the crossing is ahead');
    assert.ok(
      Math.abs(e.crossing - b.crossing) <= 6 * HOUR,
      `forecast crossing ${new Date(e.crossing).toISOString()} against the planned ${new Date(b.crossing).toISOString()}`,
    );
    assert.ok(e.interval[0] <= e.crossing && (e.interval[1] === null || e.crossing <= e.interval[1]), 'the interval holds the forecast');
    assert.match(f!.summary, new RegExp(`objective of ${objective} changes`));
    // The same build-up shows in the site's series (it is the only site these changes pass).
    const site = await api<{ findings: ForecastFinding[] }>(`insights?segment=waiting-for-build&site=${SITE}&limit=50`);
    assert.ok(
      site.body.findings.some((x) => x.dimension === 'site' && x.group === SITE && ['forecast', 'breach'].includes(x.type)),
      `site ${SITE} has a forecast or breach too`,
    );
    // And the series carries the band toward the objective.
    const tr = await api<{ series: Array<{ group: string; forecast: { metric: string; objective: number; points: unknown[] } | null }> }>(
      `trends?segment=waiting-for-build&groupBy=area&group=${encodeURIComponent(b.repository)}&bucket=hour`,
    );
    assert.equal(tr.status, 200);
    const s = tr.body.series.find((x) => x.group === b.repository);
    assert.equal(s?.forecast?.metric, 'queue');
    assert.equal(s?.forecast?.objective, objective);
    assert.ok((s?.forecast?.points.length ?? 0) >= 2, 'the band has points');
  });

  it('delivers the forecast once to the subscription on forecasts in that area, and nothing to the others', async () => {
    // The forecast is in /insights (the test before); its firing is recorded by the round that found it.
    await waitUntil(
      'the forecast delivered to the area subscription',
      async () => deliveries.some((d) => d.path === '/area'),
      120_000,
      1000,
    );
    // Three more rounds (every 10 s in the test mesh) keep finding it: still one delivery.
    await new Promise((resolve) => setTimeout(resolve, 35_000));
    assert.deepEqual(refused, [], 'every delivery carried a valid signature');
    const area = deliveries.filter((d) => d.path === '/area');
    assert.equal(new Set(area.map((d) => d.firing)).size, 1, `one firing: ${JSON.stringify(area.map((d) => d.finding.id))}`);
    assert.equal(area.length, 1, 'delivered once');
    const f = area[0]!.finding;
    assert.equal(f.type, 'forecast');
    assert.equal(f.segment, 'waiting-for-build');
    assert.equal(f.dimension, 'area');
    assert.equal(f.group, b.repository);
    assert.equal(f.metric, 'queue');
    assert.equal(f.evidence.kind, 'forecast');
    assert.equal(f.evidence.objective, objective);
    assert.ok(Math.abs(f.evidence.crossing - b.crossing) <= 12 * HOUR, 'the forecast delivered crosses about when the plan does');
    // At the site: a forecast or breach of waiting for build there, each finding once. Whether it fires
    // at all depends on what the mesh held before: an episode at the site already under way (an earlier
    // run's build-up, within trends.episodeGapHours) does not fire for a subscription made after it began.
    const site = deliveries.filter((d) => d.path === '/site');
    for (const d of site) {
      assert.ok(['forecast', 'breach'].includes(d.finding.type), d.finding.id);
      assert.deepEqual([d.finding.segment, d.finding.dimension, d.finding.group], ['waiting-for-build', 'site', SITE]);
    }
    assert.equal(new Set(site.map((d) => d.finding.id)).size, site.length, 'each finding of the site once');
    assert.deepEqual(
      deliveries.filter((d) => d.path !== '/area' && d.path !== '/site').map((d) => `${d.path} ${d.finding.id}`),
      [],
      'nothing for another site or another segment',
    );
    // And the explorer records it so: one delivered firing, none for the others.
    const firings = async (path: string) =>
      (await send<Array<{ status: string; subject: string }>>('GET', `subscriptions/${subs.get(path)}/firings?limit=10`)).body;
    const [mine, ...more] = await firings('/area');
    assert.equal(more.length, 0);
    assert.equal(mine?.status, 'delivered');
    assert.ok(mine?.subject.startsWith(`insight:${f.id}@`), mine?.subject);
    assert.deepEqual(await firings('/other-site'), []);
    assert.deepEqual(await firings('/other-segment'), []);
  });

  it('raises TracesBottleneckForecast in Prometheus for that area, with the time left on the gauge', async () => {
    const prom = status.prometheus.url;
    await waitUntil(
      'the e2e rules loaded',
      async () => (await promRules(prom)).flatMap((g) => g.rules).find((r) => r.name === 'TracesBottleneckForecast')?.duration === 10,
      60_000,
    );
    const gauge = `traces_explorer_trend_time_to_objective_seconds{stage="waiting-for-build",area="${b.repository}",site="all",metric="queue"}`;
    let firing: PromAlert | undefined;
    await waitUntil(
      'TracesBottleneckForecast firing for the build-up',
      async () => {
        firing = (await promAlerts(prom)).find(
          (a) => a.labels.alertname === 'TracesBottleneckForecast' && a.labels.area === b.repository && a.state === 'firing',
        );
        return firing !== undefined;
      },
      180_000,
      2000,
    );
    assert.equal(firing!.labels.stage, 'waiting-for-build');
    assert.equal(firing!.labels.metric, 'queue');
    assert.equal(firing!.labels.severity, 'warning');
    const [sample] = await promQuery(prom, gauge);
    const left = Number(sample?.value?.[1]);
    const planned = (b.crossing - Date.now()) / 1000;
    assert.ok(left > 0 && left < 2 * 86_400, `time to objective ${left} s is under the alert's two days`);
    assert.ok(Math.abs(left - planned) <= 6 * 3600, `time to objective ${left} s against the planned ${planned.toFixed(0)} s`);
  });

  it('shows the forecast on the trends page of the web UI', async () => {
    mkdirSync(SHOTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'trends-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
      viewport: { width: 1400, height: 1000 },
    });
    const page: Page = context.pages()[0] ?? (await context.newPage());
    const origin = new URL(status.explorer.url).origin;
    await context.route('**/*', (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
    await page.goto(status.explorer.url);
    await page.fill('#token', status.explorer.token);
    await page.dispatchEvent('#token', 'change');
    await page.click('#trends-go');
    await page.selectOption('#tr-segment', 'waiting-for-build');
    await page.selectOption('#tr-group-by', 'area');
    await page.fill('#tr-group', b.repository);
    await page.click('#trends-form button[type="submit"]');
    // The area's forecast row (on a mesh holding nothing but the build-up, the forecast for all changes is listed too).
    const forecastRow = page.locator('#insights-table tr.finding-forecast', { hasText: `area ${b.repository}` }).first();
    await forecastRow.waitFor({ timeout: 30_000 });
    const row = (await forecastRow.textContent()) ?? '';
    assert.match(row, new RegExp(`area ${b.repository.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.match(row, new RegExp(`objective of ${objective} changes`));
    await page.waitForSelector('[data-testid="forecast"]:not([hidden])', { timeout: 30_000 });
    const crossing = Date.parse((await page.getAttribute('[data-testid="forecast"]', 'data-crossing')) ?? '');
    assert.ok(Math.abs(crossing - b.crossing) <= 6 * HOUR, `the page's crossing ${new Date(crossing).toISOString()}`);
    // The chart the page drew (Chart.js keeps it by its canvas): its data sets by label.
    const labels = (await page.evaluate(
      "(window.Chart?.getChart(document.getElementById('trends-chart'))?.data.datasets ?? []).map((d) => d.label ?? '')",
    )) as string[];
    assert.ok(
      labels.includes('forecast') && labels.includes('objective'),
      `the chart draws the forecast and the objective: ${labels.join(', ')}`,
    );
    await page.screenshot({ path: join(SHOTS, 'trends-forecast.png'), fullPage: true });
  });
});
