import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEMO_EVENT_IDS, DEMO_PIPELINE, publishToSite, type MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { eiffelPipeline, type Pipeline } from '../../apps/explorer/src/testing/eiffel-pipeline.js';
import { countEvents, neo4jDriver, testStatus, waitUntil } from '../support/mesh.js';

const SHOTS = join(process.cwd(), 'test-results', 'explorer');

describe('explorer web page in headless Chromium', () => {
  let status: MeshStatus;
  let driver: Driver;
  let p: Pipeline;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let release: Buffer;

  const publish = async (ids: readonly string[]): Promise<void> => {
    for (const site of ['a', 'b'] as const) {
      const bodies = p.events
        .filter((e) => e.site === site && ids.includes(e.event.meta.id))
        .map((e) => Buffer.from(JSON.stringify(e.event)));
      if (bodies.length) await publishToSite(status, `site-${site}`, 'ci', bodies);
    }
    await waitUntil('published events in Neo4j', async () => [...(await countEvents(driver, ids)).values()].every((n) => n === 1), 120_000);
  };

  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
    // Dated now, so that the release published last is live news for the stream.
    p = eiffelPipeline(`w${randomBytes(3).toString('hex')}`, Date.now() - 130 * 60_000);
    const cd10 = p.releaseEvents[0]!;
    release = Buffer.from(cd10);
    await publish(p.events.map((e) => e.event.meta.id).filter((id) => id !== cd10));
    mkdirSync(SHOTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'explorer-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    // The page must work without any outside network: fail every request that leaves the explorer.
    const origin = new URL(status.explorer.url).origin;
    await context.route('**/*', (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await driver?.close();
  });

  it('searches a commit and shows its stages as a pipeline graph', async () => {
    await page.goto(status.explorer.url);
    await page.fill('#token', status.explorer.token);
    await page.dispatchEvent('#token', 'change');
    await page.fill('#q', p.commits.C1.sha.slice(0, 10));
    await page.click('#go');
    await page.waitForSelector('#stages li[data-stage="promotion"]', { timeout: 30_000 });
    const stages = await page.$$eval('#stages li[data-stage]', (els) => els.map((e) => e.getAttribute('data-stage')));
    assert.deepEqual(stages, ['commit', 'merge', 'build', 'artifact', 'test', 'promotion']);
    assert.equal(await page.textContent('[data-testid="furthest"]'), 'promotion');
    assert.equal(await page.getAttribute('#graph', 'data-nodes'), String(p.commits.C1.journey.length - 1));
    assert.ok(await page.$('#graph canvas'), 'the graph is drawn by the layout library');
    await page.waitForSelector('#live.on', { timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'trace.png'), fullPage: true });
  });

  it('shows a newly published release without a reload', async () => {
    await publish([release.toString()]);
    await page.waitForSelector('#stages li[data-stage="release"]', { timeout: 60_000 });
    assert.equal(await page.textContent('[data-testid="furthest"]'), 'release');
    assert.ok(await page.$(`#feed li[data-event="${release.toString()}"]`), 'the live feed lists the new event');
    // The release is the first release event of C1's journey: the feed says it took C1 there.
    assert.match(
      (await page.textContent(`#feed li[data-event="${release.toString()}"]`)) ?? '',
      new RegExp(`${p.commits.C1.sha.slice(0, 8)} reached release`),
    );
    await page.screenshot({ path: join(SHOTS, 'trace-live.png'), fullPage: true });
  });

  it('shows a failing build in red', async () => {
    await page.fill('#q', p.commits.C3.sha);
    await page.click('#go');
    await page.waitForSelector('#stages li.failure[data-stage="build"]', { timeout: 30_000 });
    assert.match((await page.textContent('[data-testid="stopped"]')) ?? '', /stopped at build/);
    await page.screenshot({ path: join(SHOTS, 'trace-failed.png'), fullPage: true });
  });

  it('shows release contents and the diff', async () => {
    await page.fill('#q', `${p.product}@1.1`);
    await page.click('#go');
    await page.waitForSelector('#release-view:not([hidden])', { timeout: 30_000 });
    await page.fill('#diff', '1.0');
    await page.click('#diff-form button');
    await page.waitForSelector('[data-testid="diff"]', { timeout: 30_000 });
    const artifacts = await page.$$eval('#release-artifacts li', (els) => els.map((e) => e.textContent));
    assert.deepEqual(artifacts, [p.artifacts.A2, p.artifacts.A3, p.artifacts.A4].sort());
    assert.match((await page.textContent('[data-testid="diff"]')) ?? '', new RegExp(p.artifacts.A1));
    // Per component: A2 and A4 (built from C2 and C4) are new in 1.1, A1 (C1) left; A3 is a composite, not a component.
    const statuses = await page.$$eval('[data-testid="diff-components"] li', (els) =>
      els.map((e) => [e.getAttribute('data-status'), e.textContent?.split(': ')[0]]),
    );
    const name = (a: 'A1' | 'A2' | 'A4'): string => p.purls[a].slice(0, p.purls[a].lastIndexOf('@'));
    assert.deepEqual(
      statuses.sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      [
        ['removed', name('A1')],
        ['added', name('A2')],
        ['added', name('A4')],
      ].sort((a, b) => a[1]!.localeCompare(b[1]!)),
    );
    assert.equal((await page.$$('[data-testid="components"] tr')).length, 3, 'a header and two components');
    await page.screenshot({ path: join(SHOTS, 'release.png'), fullPage: true });
  });

  it('charts lead time per stage with the bottleneck highlighted', async () => {
    await page.click('#lead-time-go');
    const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
    await page.fill('#lt-from', day(p.base - 86_400_000));
    await page.fill('#lt-to', day(Date.now() + 2 * 86_400_000));
    await page.click('#lead-form button');
    await page.waitForSelector('[data-testid="bottleneck"]', { timeout: 30_000 });
    assert.ok(await page.$('#lead-chart'), 'a chart canvas');
    assert.ok(((await page.textContent('#lead-table')) ?? '').includes('waiting-for-build'));
    await page.screenshot({ path: join(SHOTS, 'lead-time.png'), fullPage: true });
  });

  it("shows npm start's demo in the default lead-time window, with a deployment frequency above zero", async () => {
    // What `npm start` publishes (traces demo): dated yesterday, with a release and a production deployment.
    for (const [site, which] of [
      ['site-a', 'first'],
      ['site-b', 'second'],
    ] as const) {
      await publishToSite(
        status,
        site,
        'ci',
        DEMO_PIPELINE.filter((d) => d.site === which).map((d) => Buffer.from(JSON.stringify(d.event))),
      );
    }
    await waitUntil(
      'the demo in Neo4j',
      async () => [...(await countEvents(driver, DEMO_EVENT_IDS)).values()].every((n) => n === 1),
      120_000,
    );
    await page.goto(status.explorer.url);
    await page.click('#lead-time-go');
    // The window a newcomer gets: no dates typed, until release.
    assert.equal(await page.inputValue('#lt-from'), '');
    assert.equal(await page.inputValue('#lt-to'), '');
    await page.click('#lead-form button');
    await page.locator('#lead-summary', { hasText: /DORA: \d+ deployments/ }).waitFor({ timeout: 60_000 });
    const summary = (await page.textContent('#lead-summary')) ?? '';
    const changes = Number(/^(\d+) changes/.exec(summary)?.[1]);
    const dora = /DORA: (\d+) deployments \(([\d.]+)\/day\)/.exec(summary);
    assert.ok(changes >= 1, `the demo's change is counted: ${summary}`);
    assert.ok(Number(dora?.[1]) >= 1 && Number(dora?.[2]) > 0, `a deployment frequency above zero: ${summary}`);
    // Until deployment: the demo's Eiffel deployment to "production" (its EnvironmentDefined event), figures per environment.
    await page.selectOption('#lt-until', 'deployment');
    await page.click('#lead-form button');
    await page.locator('#lead-summary', { hasText: /production environments/ }).waitFor({ timeout: 60_000 });
    assert.match((await page.textContent('[data-testid="environments"]')) ?? '', /production \(production\)/);
    assert.ok(await page.$('#lt-env option[value=""]'), 'the selector offers the production environments');
    await page.screenshot({ path: join(SHOTS, 'demo-environments.png'), fullPage: true });
    await page.fill('#q', '3f786850');
    await page.click('#go');
    await page.waitForSelector('#stages li[data-stage="release"]', { timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'demo-lead-time.png'), fullPage: true });
  });

  it('subscribes from the page, lists the firings a new pipeline causes, and deletes the subscription', async () => {
    // A receiver that takes every delivery.
    let received = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received++;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const q = eiffelPipeline(`v${randomBytes(3).toString('hex')}`, Date.UTC(2033, 0, 1));
      await page.goto(status.explorer.url);
      await page.fill('#token', status.explorer.token);
      await page.dispatchEvent('#token', 'change');
      await page.click('#subscriptions-go');
      // A name of this run's own: a subscription left by an earlier run on the same mesh is another row.
      const name = `page promoted ${q.run}`;
      await page.fill('#sub-name', name);
      await page.fill('#sub-repo', q.repository);
      await page.selectOption('#sub-stage', 'promotion');
      await page.fill('#sub-url', `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
      await page.click('#sub-form button');
      await page.locator('#sub-secret', { hasText: /Signing secret \(shown once\): [0-9a-f]{48}/ }).waitFor({ timeout: 30_000 });
      const row = page.locator('#sub-table tr', { hasText: name });
      await row.waitFor({ timeout: 30_000 });
      assert.match((await row.textContent()) ?? '', new RegExp(`stage promotion repository=${q.repository.replace(/[.]/g, '\\.')}`));
      // The plan: C1 and C2 reach promotion.
      for (const site of ['a', 'b'] as const) {
        await publishToSite(
          status,
          `site-${site}`,
          'ci',
          q.events.filter((e) => e.site === site).map((e) => Buffer.from(JSON.stringify(e.event))),
        );
      }
      await waitUntil('two deliveries', async () => received >= 2, 120_000);
      // The dispatcher records a delivery once the receiver has answered: the page shows it when it reads
      // the firings after that, so the list is opened again until it does.
      let statuses: Array<string | null> = [];
      await waitUntil(
        'both firings listed as delivered',
        async () => {
          await row.locator('button', { hasText: 'Firings' }).click();
          await page.locator('#sub-firings-title', { hasText: `Firings of ${name} (2)` }).waitFor({ timeout: 30_000 });
          statuses = await page.$$eval('#sub-firings tr td:nth-child(2)', (els) => els.map((e) => e.textContent));
          return statuses.every((x) => x === 'delivered');
        },
        30_000,
        500,
      );
      assert.deepEqual(statuses, ['delivered', 'delivered']);
      await page.screenshot({ path: join(SHOTS, 'subscriptions.png'), fullPage: true });
      await row.locator('button', { hasText: 'Delete' }).click();
      await page.locator('#sub-table tr', { hasText: name }).waitFor({ state: 'detached', timeout: 30_000 });
    } finally {
      server.close();
    }
  });

  it("subscribes from the page to the trends' findings, and shows the API's reason for a refused one", async () => {
    await page.goto(status.explorer.url);
    await page.fill('#token', status.explorer.token);
    await page.dispatchEvent('#token', 'change');
    await page.click('#subscriptions-go');
    const name = `page forecasts ${randomBytes(3).toString('hex')}`;
    await page.fill('#sub-name', name);
    await page.selectOption('#sub-on', 'insight');
    assert.equal(await page.isHidden('#sub-stage-fields'), true, 'the stage fields give way to the finding fields');
    await page.selectOption('#sub-in-type', 'forecast');
    await page.selectOption('#sub-in-segment', 'waiting-for-build');
    await page.fill('#sub-in-site', 'site-b');
    await page.fill('#sub-url', 'http://127.0.0.1:9/hook');
    await page.click('#sub-form button');
    const row = page.locator('#sub-table tr', { hasText: name });
    await row.waitFor({ timeout: 30_000 });
    assert.match((await row.textContent()) ?? '', /insight forecast waiting-for-build at site-b/);
    // What the page sent is the API's insight condition (libs/graph/src/subscription.ts): one value per list
    // given, no list for a field left empty (the area).
    const res = await fetch(`${status.explorer.url}/api/v1/subscriptions`, {
      headers: { authorization: `Bearer ${status.explorer.token}` },
    });
    const mine = ((await res.json()) as Array<{ id: string; name: string; condition: unknown }>).find((x) => x.name === name);
    assert.deepEqual(mine?.condition, { on: 'insight', types: ['forecast'], segments: ['waiting-for-build'], sites: ['site-b'] });
    await row.locator('button', { hasText: 'Delete' }).click();
    await row.waitFor({ state: 'detached', timeout: 30_000 });

    // A site id the API refuses: the page says why, and nothing is created.
    await page.fill('#sub-name', `${name} refused`);
    await page.fill('#sub-in-site', 'Site B');
    await page.click('#sub-form button');
    await page.locator('#message', { hasText: /must be a site id/ }).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#sub-table tr', { hasText: `${name} refused` }).count(), 0);
  });
});
