import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JOURNEY_ORDER } from '@not/graph';
import { publishToSite, type MeshStatus } from '@not/mesh';
import type { Core } from 'cytoscape';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { testStatus, waitUntil } from '../support/mesh.js';

/**
 * A journey across four tools, each sending what it really sends (the tools' own samples in
 * libs/events/fixtures, re-keyed for this run): a GitHub push of a commit, the Jenkins build of that
 * commit (mq-notifier, over AMQP), the jar the build uploaded to Artifactory (its webhook), and a
 * CDEvents deployment of that jar with the tests run against the deployment (CloudEvents over HTTP).
 * On the web page the journey must read as one flow: the events joined through the commit, the build
 * and the artifact they share drawn as edges labelled with that identity, laid out left to right by
 * stage, with labels that do not overlap.
 */

type Json = Record<string, unknown>;
const sample = (tool: string, file: string): Json =>
  JSON.parse(readFileSync(join(process.cwd(), 'libs', 'events', 'fixtures', tool, file), 'utf8')) as Json;
const obj = (o: Json, key: string): Json => o[key] as Json;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const SHOTS = join(process.cwd(), 'test-results', 'explorer');

/** What the page's graph shows, read from the cytoscape instance it draws. */
interface Drawn {
  zoom: number;
  nodes: Array<{
    id: string;
    stage: string;
    format: string;
    type: string;
    x: number;
    box: Box;
    label: Box;
    fontSize: number;
  }>;
  joins: Array<{ source: string; target: string; label: string; identity: string; box: Box }>;
}
interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}
const overlap = (a: Box, b: Box): boolean => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;

describe('a cross-tool journey on the web page: GitHub -> Jenkins -> Artifactory -> CDEvents', () => {
  let status: MeshStatus;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const run = randomBytes(4).toString('hex');
  const sha = randomBytes(20).toString('hex');
  const repoUrl = `https://github.com/acme/flow-${run}.git`;
  // The test mesh's correlator says which Jenkins build made a com.acme.traces jar: job acme/<name>, number = patch version.
  const job = `app-${run}`;
  const number = randomInt(100, 999);
  const version = `1.0.${number}`;
  const digest = randomBytes(32).toString('hex');
  const deployId = randomUUID();
  const t0 = Math.floor((Date.now() - 20 * 60_000) / 1000) * 1000;

  const site = (id: string) => status.sites.find((s) => s.id === id)!;
  async function post(siteId: string, endpoint: string, body: string, headers: Record<string, string>): Promise<void> {
    const res = await fetch(`${site(siteId).relay.webhooks}/${endpoint}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
    assert.equal(res.status, 202, `${endpoint} at ${siteId}: ${res.status} ${await res.text()}`);
  }

  before(async () => {
    status = await testStatus();

    // GitHub: the push of the commit, to site-a's relay.
    const push = sample('github', 'push.json');
    const commit = { ...(push['commits'] as Json[])[0]!, id: sha, timestamp: iso(t0), message: `Retry uploads ${run}` };
    const pushBody = JSON.stringify({
      ...push,
      ref: 'refs/heads/main',
      before: '0'.repeat(40),
      after: sha,
      commits: [commit],
      head_commit: commit,
      repository: { ...obj(push, 'repository'), clone_url: repoUrl, pushed_at: Math.floor(t0 / 1000) },
    });
    await post('site-a', 'github', pushBody, {
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', site('site-a').relay.webhookSecret).update(pushBody).digest('hex')}`,
    });

    // Jenkins at site-b: the build of that commit, started and completed (mq-notifier on the site broker).
    const jenkins = (file: string): Buffer => {
      const j = sample('jenkins', file);
      return Buffer.from(
        JSON.stringify({
          ...j,
          url: `https://jenkins.site-b.example.com/job/acme/job/${job}/${number}/`,
          build_job_name: `acme/${job}`,
          build_number: number,
          jenkins_master_fqdn: 'jenkins.site-b.example.com',
          parameters: [`GIT_URL=${repoUrl}`, `GIT_COMMIT=${sha}`, 'GIT_BRANCH=origin/main'],
        }),
      );
    };
    // mq-notifier sends no time: the time of receipt (to the second) stands for it, so the build takes a second.
    await publishToSite(status, 'site-b', 'jenkins', [jenkins('started.json')]);
    await new Promise((r) => setTimeout(r, 1100));
    await publishToSite(status, 'site-b', 'jenkins', [jenkins('completed-success.json')]);

    // Artifactory: the jar the build deployed, to site-b's relay.
    const art = sample('artifactory', 'artifact-deployed-maven.json');
    const artBody = JSON.stringify({
      ...art,
      data: {
        ...obj(art, 'data'),
        repo_key: 'libs-staging-local',
        path: `com/acme/traces/${job}/${version}/${job}-${version}.jar`,
        name: `${job}-${version}.jar`,
        sha256: digest,
      },
    });
    await post('site-b', 'artifactory', artBody, { 'x-jfrog-event-auth': site('site-b').relay.webhookSecret });

    // CDEvents: the deployment of that jar to staging (structured mode), then the tests run against it (binary mode).
    const dep = sample('cdevents', 'structured-service-deployed.json');
    const depData = obj(dep, 'data');
    const depTime = new Date(Date.now() + 1000).toISOString();
    const deployed = {
      ...dep,
      id: deployId,
      time: depTime,
      data: {
        ...depData,
        context: { ...obj(depData, 'context'), id: deployId, timestamp: depTime },
        subject: {
          ...obj(depData, 'subject'),
          content: {
            environment: { id: `staging-${run}`, source: '/argocd/gbg' },
            artifactId: `pkg:maven/com.acme.traces/${job}@${version}`,
          },
        },
      },
    };
    await post('site-b', 'cloudevents', JSON.stringify(deployed), {
      'content-type': 'application/cloudevents+json',
      authorization: `Bearer ${site('site-b').relay.webhookSecret}`,
    });
    const tc = sample('cdevents', 'binary-testcaserun-finished-fail.json');
    const tcContext = obj(tc, 'context');
    const tcSubject = obj(tc, 'subject');
    const tested = {
      ...tc,
      context: {
        ...tcContext,
        id: randomUUID(),
        source: '/argocd/gbg',
        timestamp: new Date(Date.now() + 60_000).toISOString(),
        links: [{ linkType: 'PATH', from: { contextId: deployId } }],
      },
      subject: {
        ...tcSubject,
        id: `login-e2e-${run}`,
        source: '/argocd/gbg',
        content: {
          ...obj(tcSubject, 'content'),
          environment: { id: `staging-${run}`, source: '/argocd/gbg' },
          testSuiteRun: { id: `suite-${run}`, source: '/argocd/gbg' },
        },
      },
    };
    const ctx = tested.context;
    await post('site-b', 'cloudevents', JSON.stringify(tested), {
      authorization: `Bearer ${site('site-b').relay.webhookSecret}`,
      'ce-specversion': '1.0',
      'ce-id': ctx.id,
      'ce-source': ctx.source,
      'ce-type': String(tcContext['type']),
    });

    // Until the trace of the commit has all six events.
    await waitUntil(
      'the trace of the commit to reach the deployment and its tests',
      async () => {
        const res = await fetch(`${status.explorer.url}/api/v1/trace/commit/${sha}`, {
          headers: { authorization: `Bearer ${status.explorer.token}` },
        });
        if (!res.ok) return false;
        const t = (await res.json()) as { events: Array<{ format: string }> };
        const n = (f: string): number => t.events.filter((e) => e.format === f).length;
        return n('github') === 1 && n('jenkins') === 2 && n('artifactory') === 1 && n('cdevents') === 2;
      },
      180_000,
      1000,
    );

    mkdirSync(SHOTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'journey-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    const origin = new URL(status.explorer.url).origin;
    await context.route('**/*', (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
    await page.goto(status.explorer.url);
    await page.fill('#token', status.explorer.token);
    await page.dispatchEvent('#token', 'change');
    await page.fill('#q', sha);
    await page.click('#go');
    await page.waitForSelector('#graph[data-nodes="6"] canvas', { timeout: 30_000 });
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const drawn = (): Promise<Drawn> =>
    page.evaluate(() => {
      // The page keeps the graph it drew as `traceGraph`.
      const cy = (globalThis as unknown as { traceGraph: Core }).traceGraph;
      const bb = (b: { x1: number; y1: number; x2: number; y2: number }): Box => ({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 });
      return {
        zoom: cy.zoom(),
        nodes: cy.nodes('.event').map((n) => ({
          id: n.id(),
          stage: n.data('stage') as string,
          format: n.data('format') as string,
          type: n.data('type') as string,
          x: n.position('x'),
          box: bb(n.boundingBox({ includeLabels: false })),
          label: bb(n.boundingBox({ includeNodes: false, includeLabels: true } as never)),
          fontSize: parseFloat(String(n.style('font-size'))),
        })),
        joins: cy.edges('.join').map((e) => ({
          source: e.source().id(),
          target: e.target().id(),
          label: e.data('label') as string,
          identity: e.data('identity') as string,
          box: bb(e.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true } as never)),
        })),
      };
    });

  it('draws the joins through the shared commit, build and artifact as edges labelled with the identity', async () => {
    const g = await drawn();
    const one = (format: string, type?: RegExp) => g.nodes.filter((n) => n.format === format && (!type || type.test(n.type)));
    const [push] = one('github');
    const builds = one('jenkins').map((n) => n.id);
    const [upload] = one('artifactory');
    const [deployment] = one('cdevents', /service\.deployed/);
    assert.ok(push && upload && deployment && builds.length === 2, JSON.stringify(g.nodes));
    const joined = (from: string[], to: string[]) => g.joins.filter((j) => from.includes(j.source) && to.includes(j.target));

    // The push and the build name the same commit: joined by its short sha.
    const byCommit = joined([push.id], builds);
    assert.ok(
      byCommit.some((j) => j.label.includes(`commit ${sha.slice(0, 7)}`)),
      `push -> build by commit ${sha.slice(0, 7)}: ${JSON.stringify(g.joins)}`,
    );
    // The jar is the build's (its Maven version's patch number is the build number): joined by the build.
    const byBuild = joined(builds, [upload.id]);
    assert.ok(
      byBuild.some((j) => j.label.includes(`build ${job}#${number}`)),
      `build -> upload by build ${job}#${number}: ${JSON.stringify(g.joins)}`,
    );
    // The deployment names the jar by purl, Artifactory by digest: one artifact, shown by name and version.
    const byArtifact = joined([upload.id], [deployment.id]);
    assert.equal(byArtifact.length, 1, `upload -> deployment: ${JSON.stringify(g.joins)}`);
    assert.match(byArtifact[0]!.label, new RegExp(`${job}@${version.replace(/\./g, '\\.')}`));
    assert.match(byArtifact[0]!.identity, new RegExp(`Artifact sha256:${digest}`));
    await page.screenshot({ path: join(SHOTS, 'journey.png'), fullPage: true });
  });

  it('lays the journey out left to right by stage, tool after tool', async () => {
    const g = await drawn();
    const rank = (s: string): number => (JOURNEY_ORDER as readonly string[]).indexOf(s);
    for (const a of g.nodes)
      for (const b of g.nodes) {
        if (rank(a.stage) < rank(b.stage)) assert.ok(a.x < b.x, `${a.stage} (${a.format}) left of ${b.stage} (${b.format})`);
        if (a.stage === b.stage) assert.equal(a.x, b.x, `one column for ${a.stage}`);
      }
    const x = (format: string, type?: RegExp): number => g.nodes.find((n) => n.format === format && (!type || type.test(n.type)))!.x;
    assert.ok(x('github') < x('jenkins') && x('jenkins') < x('artifactory') && x('artifactory') < x('cdevents', /service\.deployed/));
  });

  it('keeps labels readable: full size, inside their boxes, and overlapping nothing', async () => {
    const g = await drawn();
    assert.ok(g.zoom >= 0.9, `drawn at zoom ${g.zoom}`);
    for (const n of g.nodes) {
      assert.ok(n.fontSize * g.zoom >= 9, `font ${n.fontSize}px at zoom ${g.zoom}`);
      const inside = n.label.x1 >= n.box.x1 && n.label.x2 <= n.box.x2 && n.label.y1 >= n.box.y1 && n.label.y2 <= n.box.y2;
      assert.ok(inside, `the label of ${n.format} ${n.type} stays in its box: ${JSON.stringify(n)}`);
    }
    for (const [i, a] of g.nodes.entries())
      for (const b of g.nodes.slice(i + 1)) assert.ok(!overlap(a.box, b.box), `${a.type} and ${b.type} overlap`);
    for (const [i, j] of g.joins.entries()) {
      for (const n of g.nodes) assert.ok(!overlap(j.box, n.box), `the label "${j.label}" lies on ${n.format} ${n.type}`);
      for (const k of g.joins.slice(i + 1)) assert.ok(!overlap(j.box, k.box), `the labels "${j.label}" and "${k.label}" overlap`);
    }
  });
});
