import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { publishToSite, type MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { eiffelPipeline, expectedSegments, type Pipeline } from '../../apps/explorer/src/testing/eiffel-pipeline.js';
import { countEvents, neo4jDriver, publishIncident, testStatus, waitForIncident, waitUntil } from '../support/mesh.js';

const SEGMENTS = ['coding', 'waiting-for-build', 'build', 'test', 'waiting-for-promotion', 'promotion-to-release'];

/** Nearest-rank percentile, as the explorer documents it. */
function pct(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)]!;
}

describe('explorer on the mesh: a multi-site pipeline, traced, released, measured', () => {
  let status: MeshStatus;
  /** The token the mesh generated for its explorer (or the EXPLORER_TOKEN it was started with). */
  let TOKEN: string;
  let driver: Driver;
  let p: Pipeline;
  let run: string;
  let api: <T = Record<string, unknown>>(
    path: string,
    init?: RequestInit & { token?: string | null },
  ) => Promise<{ status: number; body: T }>;

  before(async () => {
    status = await testStatus();
    TOKEN = status.explorer.token;
    driver = neo4jDriver(status);
    run = `e${randomBytes(3).toString('hex')}`;
    // A day of its own, far from other tests' events, so the lead-time window holds only this pipeline.
    p = eiffelPipeline(run, Date.UTC(2031, 0, 1) + randomInt(0, 3000) * 86_400_000);
    api = async (path, init = {}) => {
      const token = init.token === undefined ? TOKEN : init.token;
      const res = await fetch(`${status.explorer.url}${path}`, {
        ...init,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as never };
    };
    const at = (s: 'a' | 'b') => p.events.filter((e) => e.site === s).map((e) => Buffer.from(JSON.stringify(e.event)));
    await publishToSite(status, 'site-a', 'ci', at('a'));
    await publishToSite(status, 'site-b', 'ci', at('b'));
    const ids = p.events.map((e) => e.event.meta.id);
    await waitUntil('the pipeline in Neo4j', async () => [...(await countEvents(driver, ids)).values()].every((n) => n === 1), 120_000);
  });
  after(async () => driver?.close());

  it('traces a commit by short sha through every stage and site to its release', async () => {
    const c1 = p.commits.C1;
    const { status: code, body } = await api<Record<string, any>>(`/api/v1/trace/commit/${c1.sha.slice(0, 12)}`);
    assert.equal(code, 200, JSON.stringify(body));
    assert.equal(body.subject.key, `${p.repository}@${c1.sha}`);
    assert.deepEqual(body.events.map((e: { id: string }) => e.id).sort(), [...c1.journey].sort());
    assert.equal(body.furthestStage, 'release');
    assert.equal(body.stoppedAt, null);
    assert.deepEqual(body.sites, ['site-a', 'site-b']);
    assert.deepEqual(
      body.stages
        .filter((s: { reached: boolean }) => s.reached)
        .map((s: { stage: string; sites: string[] }) => `${s.stage}@${s.sites.join('+')}`),
      ['commit@site-a', 'merge@site-a', 'build@site-a', 'artifact@site-a', 'test@site-b', 'promotion@site-b', 'release@site-b'],
    );
    assert.equal(body.builds.length, 1);
    assert.deepEqual(
      {
        site: body.builds[0].site,
        result: body.builds[0].result,
        job: body.builds[0].job,
        number: body.builds[0].number,
        queue: body.builds[0].queueSeconds,
        run: body.builds[0].runSeconds,
      },
      { site: 'site-a', result: 'success', job: p.product, number: '1', queue: 300, run: 720 },
    );
    assert.deepEqual(
      body.testRuns.map((t: { result: string; site: string; seconds: number }) => [t.result, t.site, t.seconds]),
      [['success', 'site-b', 1800]],
    );
    assert.deepEqual(
      body.artifacts.map((a: { key: string }) => a.key),
      [p.artifacts.A1],
    );
    assert.deepEqual(body.artifacts[0].digests, [p.artifacts.A1]);
    assert.deepEqual(
      body.promotions.map((x: { site: string; outcome: string }) => [x.site, x.outcome]),
      [['site-b', 'success']],
    );
    assert.deepEqual(
      body.releases.map((r: { key: string }) => r.key),
      [`${p.product}@1.0`],
    );
    assert.deepEqual(
      body.workItems.map((w: { key: string }) => w.key),
      [c1.workItem],
    );
  });

  it('says where a change stopped: the failing build, the failing test', async () => {
    const c3 = (await api<Record<string, any>>(`/api/v1/trace/commit/${p.commits.C3.sha}`)).body;
    assert.deepEqual(c3.events.map((e: { id: string }) => e.id).sort(), [...p.commits.C3.journey].sort());
    assert.equal(c3.furthestStage, 'build');
    assert.equal(c3.stoppedAt.stage, 'build');
    assert.equal(c3.stoppedAt.build, c3.builds[0].key);
    assert.equal(c3.builds[0].result, 'failure');
    const c5 = (await api<Record<string, any>>(`/api/v1/trace/commit/${p.commits.C5.sha}`)).body;
    assert.equal(c5.furthestStage, 'test');
    assert.equal(c5.stoppedAt.stage, 'test');
    assert.equal(c5.stoppedAt.testRun, c5.testRuns[0].key);
    assert.match(c5.stoppedAt.reason, /failure at site-b/);
  });

  it('follows a library commit through a composition into the product release', async () => {
    const c4 = (await api<Record<string, any>>(`/api/v1/trace/commit/${p.commits.C4.sha}`)).body;
    assert.deepEqual(c4.events.map((e: { id: string }) => e.id).sort(), [...p.commits.C4.journey].sort());
    assert.deepEqual(
      c4.releases.map((r: { key: string }) => r.key),
      [`${p.product}-lib@1`, `${p.product}@1.1`],
    );
  });

  it('traces a work item to its commit, and an artifact down to releases and up to its commits', async () => {
    const wi = (await api<Record<string, any>>(`/api/v1/trace/work-item/${p.commits.C2.workItem}`)).body;
    assert.deepEqual(
      wi.commits.map((c: { sha: string }) => c.sha),
      [p.commits.C2.sha],
    );
    assert.equal(wi.furthestStage, 'release');
    const a4 = (await api<Record<string, any>>(`/api/v1/trace/artifact/${p.artifacts.A4.slice('sha256:'.length)}`)).body;
    assert.equal(a4.subject.key, p.artifacts.A4);
    assert.deepEqual(
      a4.releases.map((r: { key: string }) => r.key),
      [`${p.product}-lib@1`, `${p.product}@1.1`],
    );
    assert.deepEqual(
      a4.upstream.commits.map((c: { sha: string }) => c.sha),
      [p.commits.C4.sha],
    );
    assert.deepEqual(a4.upstream.workItems, [p.commits.C4.workItem]);
    const byPurl = await api(`/api/v1/trace/artifact/${encodeURIComponent(p.artifacts.A4)}`);
    assert.equal(byPurl.status, 200);
  });

  it('lists what a release contains, through compositions, and the diff to the previous one', async () => {
    const { status: code, body } = await api<Record<string, any>>(`/api/v1/releases/${p.product}/1.1?diff=1.0`);
    assert.equal(code, 200, JSON.stringify(body));
    assert.deepEqual(body.artifacts, [p.artifacts.A2, p.artifacts.A3, p.artifacts.A4].sort());
    assert.deepEqual(
      body.commits.map((c: { key: string }) => c.key),
      [p.commits.C2.sha, p.commits.C4.sha].map((s) => `${p.repository}@${s}`).sort(),
    );
    assert.deepEqual(body.workItems, [p.commits.C2.workItem, p.commits.C4.workItem].sort());
    assert.deepEqual(body.diff.added.artifacts, [p.artifacts.A2, p.artifacts.A3, p.artifacts.A4].sort());
    assert.deepEqual(body.diff.removed.artifacts, [p.artifacts.A1]);
    assert.deepEqual(body.diff.added.workItems, [p.commits.C2.workItem, p.commits.C4.workItem].sort());
    assert.deepEqual(body.diff.removed.workItems, [p.commits.C1.workItem]);
    assert.deepEqual(body.diff.removed.commits, [`${p.repository}@${p.commits.C1.sha}`]);
  });

  it('measures lead time per stage, the bottleneck and the DORA figures as computed from the published events', async () => {
    const from = new Date(p.base).toISOString();
    const to = new Date(p.base + 86_400_000).toISOString();
    const { status: code, body } = await api<Record<string, any>>(`/api/v1/lead-time?from=${from}&to=${to}&until=release`);
    assert.equal(code, 200, JSON.stringify(body));
    const changes = (['C1', 'C2', 'C4'] as const).map((c) => expectedSegments(p.commits[c].times));
    assert.equal(body.changes, 3);
    const totals = changes.map((c) => c.total);
    assert.deepEqual(
      [body.overall.total.p50, body.overall.total.p90, body.overall.total.max, body.overall.total.count],
      [pct(totals, 0.5), pct(totals, 0.9), Math.max(...totals), 3],
    );
    const sum = totals.reduce((a, b) => a + b, 0);
    let best = { segment: '', share: 0 };
    for (const s of SEGMENTS) {
      const v = changes.map((c) => c.segments[s]!);
      const got = body.overall.segments[s];
      assert.deepEqual([got.p50, got.p90, got.max, got.count], [pct(v, 0.5), pct(v, 0.9), Math.max(...v), 3], s);
      const share = v.reduce((a, b) => a + b, 0) / sum;
      assert.ok(Math.abs(got.share - share) < 1e-9, s);
      if (share > best.share) best = { segment: s, share };
    }
    assert.equal(body.overall.bottleneck.overall.segment, best.segment);
    // Releases: P@1.0 and P@1.1; lib@1 is a part of P@1.1 (a nested composition), not a release.
    assert.deepEqual(body.dora, {
      deployments: 2,
      deploymentFrequencyPerDay: 2,
      leadTimeForChangesSeconds: pct(totals, 0.5),
      changeFailureRate: 0,
      timeToRestoreSeconds: null,
      rollbacks: 0,
    });
    const bySite = (await api<Record<string, any>>(`/api/v1/lead-time?from=${from}&to=${to}&groupBy=site`)).body;
    assert.deepEqual(
      bySite.groups.map((g: { name: string; total: { count: number } }) => [g.name, g.total.count]),
      [['site-a', 3]],
    );
  });

  it('counts a production incident on a released artifact as a failed deployment of its area, restored when resolved', async () => {
    // P@1.0 (artifact A1) was released at +130 min; the incident names A1 by its package URL.
    await publishIncident(status, 'site-a', run, p.purls.A1, p.base + 200 * 60_000, p.base + 230 * 60_000);
    await waitForIncident(driver, run, p.artifacts.A1);
    const from = new Date(p.base).toISOString();
    const to = new Date(p.base + 86_400_000).toISOString();
    const mine = (await api<Record<string, any>>(`/api/v1/lead-time?from=${from}&to=${to}&area=${encodeURIComponent(p.repository)}`)).body;
    const totals = (['C1', 'C2', 'C4'] as const).map((c) => expectedSegments(p.commits[c].times).total);
    assert.deepEqual(mine.dora, {
      deployments: 2,
      deploymentFrequencyPerDay: 2,
      leadTimeForChangesSeconds: pct(totals, 0.5),
      changeFailureRate: 1 / 2,
      timeToRestoreSeconds: 30 * 60,
      rollbacks: 0,
    });
    const other = (await api<Record<string, any>>(`/api/v1/lead-time?from=${from}&to=${to}&area=no-such-area`)).body;
    assert.deepEqual(
      other.dora,
      {
        deployments: 0,
        deploymentFrequencyPerDay: 0,
        leadTimeForChangesSeconds: null,
        changeFailureRate: null,
        timeToRestoreSeconds: null,
        rollbacks: 0,
      },
      'another area has none of these deployments',
    );
  });

  it('answers as an Eiffel event repository: events by type with paging, and upstream / downstream search', async () => {
    const from = new Date(p.base).toISOString();
    const to = new Date(p.base + 86_400_000).toISOString();
    const page = (await api<Record<string, any>>(`/api/v1/events?meta.type=EiffelCompositionDefinedEvent&from=${from}&to=${to}&pageSize=2`))
      .body;
    assert.equal(page.totalNumberItems, 3);
    assert.equal(page.items.length, 2);
    assert.equal(page.items[0].meta.id, p.releaseEvents[2]);
    const art1 = p.commits.C1.artifact!;
    const search = (
      await api<Record<string, any>>(`/api/v1/search/${art1}?levels=10`, {
        method: 'POST',
        body: JSON.stringify({ ult: ['ALL'], dlt: ['ALL'] }),
      })
    ).body;
    const [scc, scs, actT] = p.commits.C1.journey;
    assert.deepEqual(search.upstreamLinkObjects.map((e: { meta: { id: string } }) => e.meta.id).sort(), [scc, scs, actT].sort());
    const downstream = p.commits.C1.journey.slice(p.commits.C1.journey.indexOf(art1) + 1).filter((id) => id !== p.commits.C1.journey[5]);
    assert.deepEqual(search.downstreamLinkObjects.map((e: { meta: { id: string } }) => e.meta.id).sort(), downstream.sort());
    const one = (
      await api<Record<string, any>>(`/api/v1/search/${art1}?levels=1`, { method: 'POST', body: JSON.stringify({ ult: ['CONTEXT'] }) })
    ).body;
    assert.deepEqual(
      one.upstreamLinkObjects.map((e: { meta: { id: string } }) => e.meta.id),
      [actT],
    );
    assert.deepEqual(one.downstreamLinkObjects, []);
    const ev = (await api<Record<string, any>>(`/api/v1/events/${art1}`)).body;
    assert.equal(ev.meta.type, 'EiffelArtifactCreatedEvent');
    assert.deepEqual(ev.links, [{ type: 'CONTEXT', target: actT }]);
  });

  it('rejects bad input plainly: unknown sha 404 with a hint, malformed 400, no or wrong token 401', async () => {
    const unknown = await api<Record<string, string>>('/api/v1/trace/commit/0000000000000000000000000000000000000000');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.hint!, /sha/);
    const bad = await api<Record<string, unknown>>('/api/v1/trace/commit/not-a-sha');
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.message), /hexadecimal/);
    assert.equal((await api('/api/v1/lead-time?from=yesterday')).status, 400);
    assert.equal((await api('/api/v1/lead-time?groupBy=colour')).status, 400);
    assert.equal((await api('/api/v1/events?pageSize=0')).status, 400);
    assert.equal((await api('/api/v1/search/x', { method: 'POST', body: JSON.stringify({ dlt: ['cause; DROP'] }) })).status, 400);
    assert.equal((await api(`/api/v1/trace/commit/${p.commits.C1.sha}`, { token: null })).status, 401);
    assert.equal((await api(`/api/v1/trace/commit/${p.commits.C1.sha}`, { token: 'not-the-token-at-all' })).status, 401);
    const open = await fetch(`${status.explorer.url}/health/ready`);
    assert.equal(open.status, 200);
    const docs = await fetch(`${status.explorer.url}/api/docs`);
    assert.equal(((await docs.json()) as { openapi: string }).openapi, '3.1.0');
  });

  it('treats Cypher-looking strings in every parameter as plain data', async () => {
    const count = async (): Promise<number> =>
      (await driver.executeQuery('MATCH (n) RETURN count(n) AS n', {}, { database: 'neo4j' })).records[0]!.get('n') as number;
    const before = await count();
    const evil = ["x' OR 1=1 //", '"}) MATCH (n) DETACH DELETE n //', '`) DETACH DELETE n', 'a\u0000b', '${x}'];
    for (const s of evil) {
      const e = encodeURIComponent(s);
      const calls: Array<[string, RequestInit?]> = [
        [`/api/v1/trace/commit/${e}`],
        [`/api/v1/trace/commit/abcd?repo=${e}`],
        [`/api/v1/trace/work-item/${e}`],
        [`/api/v1/trace/change/${e}`],
        [`/api/v1/trace/artifact/${e}`],
        [`/api/v1/releases/${e}/${e}?diff=${e}`],
        [`/api/v1/lead-time?area=${e}&from=${e}`],
        [`/api/v1/lead-time?area=${e}`],
        [`/api/v1/events/${e}`],
        [`/api/v1/events?meta.type=${e}&site=${e}`],
        [`/api/v1/search/${e}`, { method: 'POST', body: JSON.stringify({ dlt: ['ALL'], ult: [s] }) }],
        [`/api/v1/search/${e}`, { method: 'POST', body: JSON.stringify({ dlt: ['ALL'] }) }],
      ];
      for (const [path, init] of calls) {
        const r = await api(path, init);
        assert.ok([200, 400, 404].includes(r.status), `${path}: ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
    assert.equal(await count(), before);
  });

  it('answers the same on the command line, as tables and as JSON, with clear errors', () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['bin/traces.js', ...args, '--url', status.explorer.url, '--token', TOKEN], {
        encoding: 'utf8',
        env: { ...process.env },
      });
    const table = cli('trace', 'commit', p.commits.C3.sha.slice(0, 10));
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /STOPPED at build/);
    assert.match(table.stdout, /^build\s+\S+\s+\S+\s+3\s+site-a\s+failure$/m);
    const json = cli('trace', 'work-item', p.commits.C1.workItem, '--json');
    assert.equal(JSON.parse(json.stdout).furthestStage, 'release');
    const rel = cli('release', p.product, '1.1', '--diff', '1.0');
    assert.equal(rel.status, 0, rel.stderr);
    assert.match(rel.stdout, new RegExp(`^-\\s+artifacts\\s+${p.artifacts.A1}$`, 'm'));
    const lt = cli('lead-time', '--from', new Date(p.base).toISOString(), '--to', new Date(p.base + 86_400_000).toISOString(), '--json');
    assert.equal(JSON.parse(lt.stdout).changes, 3);
    const wrong = spawnSync(
      process.execPath,
      ['bin/traces.js', 'trace', 'commit', p.commits.C1.sha, '--url', status.explorer.url, '--token', 'wrong-token-123456'],
      { encoding: 'utf8' },
    );
    assert.equal(wrong.status, 4);
    assert.match(wrong.stderr, /rejected the token/);
    const away = spawnSync(
      process.execPath,
      ['bin/traces.js', 'trace', 'commit', p.commits.C1.sha, '--url', 'http://127.0.0.1:9', '--token', TOKEN],
      { encoding: 'utf8' },
    );
    assert.equal(away.status, 3);
    assert.match(away.stderr, /unreachable/);
    const missing = cli('trace', 'commit', '0000000000000000000000000000000000000000');
    assert.equal(missing.status, 5);
    assert.match(missing.stderr, /no commit/);
  });

  it("finds the local mesh's explorer and its token without being told, and keeps that token from other explorers", () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['TRACES_TOKEN', 'EXPLORER_TOKEN', 'TRACES_EXPLORER_URL']) delete env[k];
    const meshFile = process.env.NOT_TEST_MESH ?? 'test/mesh.test.yaml';
    const plain = spawnSync(process.execPath, ['bin/traces.js', 'trace', 'commit', p.commits.C1.sha, '--config', meshFile, '--json'], {
      encoding: 'utf8',
      env,
    });
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(JSON.parse(plain.stdout).subject.key, `${p.repository}@${p.commits.C1.sha}`);
    // The same explorer by URL still gets the mesh's token; another one gets none, and the command says so.
    const byUrl = spawnSync(
      process.execPath,
      ['bin/traces.js', 'release', p.product, '1.0', '--config', meshFile, '--url', status.explorer.url],
      { encoding: 'utf8', env },
    );
    assert.equal(byUrl.status, 0, byUrl.stderr);
    const other = spawnSync(
      process.execPath,
      ['bin/traces.js', 'trace', 'commit', p.commits.C1.sha, '--config', meshFile, '--url', 'http://127.0.0.1:9'],
      { encoding: 'utf8', env },
    );
    assert.equal(other.status, 4);
    assert.match(other.stderr, /no token for the explorer at http:\/\/127\.0\.0\.1:9: pass --token or set TRACES_TOKEN/);
    // EXPLORER_TOKEN overrides the mesh's token: a wrong one is refused.
    const overridden = spawnSync(process.execPath, ['bin/traces.js', 'trace', 'commit', p.commits.C1.sha, '--config', meshFile], {
      encoding: 'utf8',
      env: { ...env, EXPLORER_TOKEN: 'not-the-mesh-token-0' },
    });
    assert.equal(overridden.status, 4);
    assert.match(overridden.stderr, /rejected the token/);
  });

  // Last: it adds an event to C1's journey.
  it('streams an event when it arrives, however long ago it is dated (a site backlog after an outage)', async () => {
    // The pipeline is dated years away from now; a new confidence level on C1's artifact arrives now.
    // Its own connection (no keep-alive pool): the CLI tests before this one block the event loop
    // for seconds, long enough for the server to close an idle pooled socket unnoticed.
    let text = '';
    const req = httpGet(`${status.explorer.url}/api/v1/stream?commit=${p.commits.C1.sha}`, {
      agent: false,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const res = await new Promise<IncomingMessage>((resolve, reject) => req.once('response', resolve).once('error', reject));
    assert.equal(res.statusCode, 200);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('error', () => undefined);
    try {
      // The explorer's first poll after a listener connects only learns what is already there (pollMs 1 s).
      await new Promise((r) => setTimeout(r, 3000));
      const id = randomUUID();
      const event = {
        meta: {
          id,
          type: 'EiffelConfidenceLevelModifiedEvent',
          version: '4.0.1',
          time: p.base + 200 * 60_000,
          source: { domainId: 'explorer.test' },
        },
        data: { name: 'late-arrival', value: 'SUCCESS' },
        links: [{ type: 'SUBJECT', target: p.commits.C1.artifact! }],
      };
      await publishToSite(status, 'site-b', 'ci', [Buffer.from(JSON.stringify(event))]);
      await waitUntil('the late event on the stream', async () => text.includes(id), 60_000, 250);
      const block = text.split('\n\n').find((b) => b.includes(id))!;
      const data = JSON.parse(
        block
          .split('\n')
          .find((l) => l.startsWith('data:'))!
          .slice(5),
      ) as { event: { time: string; site: string }; commits: string[] };
      assert.equal(data.event.site, 'site-b');
      assert.equal(Date.parse(data.event.time), p.base + 200 * 60_000, 'the event keeps its own time');
      assert.ok(data.commits.includes(`${p.repository}@${p.commits.C1.sha}`), `the commit found upstream: ${JSON.stringify(data.commits)}`);
    } finally {
      req.destroy();
    }
  });
});
