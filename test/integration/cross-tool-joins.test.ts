import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseMessage, type ArtifactBuildRule, type TraceEvent } from '@not/events';
import { GraphRepository, Journeys, WalkReads } from '@not/graph';
import { JsonLogger } from '@not/observability';
import { explorerConfigSchema } from '../../apps/explorer/src/explorer.config.js';
import { ExplorerModule } from '../../apps/explorer/src/explorer.module.js';
import { testStatus } from '../support/mesh.js';

const TOKEN = 'integration-token-joins-0123456789';

type Json = Record<string, any>;
const sample = (format: string, file: string): Json => JSON.parse(readFileSync(`libs/events/fixtures/${format}/${file}`, 'utf8')) as Json;

/**
 * A pipeline of GitHub -> Jenkins -> CDEvents deploy and tests, read by the real parsers from the tools'
 * sample payloads (given this run's repository and shas) and written to a real Neo4j: a commit on a
 * feature branch, merged through a pull request, continues through the merge commit's build,
 * deployment and tests, and its journey stops where its tests failed after the staging deployment.
 * Then a Jenkins build that JFrog's build-info and a test tool's CDEvents name in their own ways.
 */
describe('joins across tools: a feature-branch commit through its merge', () => {
  let graph: GraphRepository;
  let journeys: Journeys;
  let app: INestApplication;
  let url: string;
  const run = randomBytes(4).toString('hex');
  const sha = (what: string): string => createHash('sha1').update(`${run}${what}`).digest('hex');
  const [branchSha, mergeSha, otherSha] = [sha('branch'), sha('merge'), sha('other')];
  const repoUrl = `https://github.com/acme/joins-${run}.git`;
  const repo = `github.com/acme/joins-${run}`;
  const rules: ArtifactBuildRule[] = [
    {
      match: `^purl:pkg:maven/com\\.acme\\.${run}/(?<job>[^@]+)@1\\.0\\.(?<number>\\d+)$`,
      ci: 'ci.lund.example.com/jenkins',
      job: `platform/$<job>`,
      number: '$<number>',
    },
  ];
  const parse = (routingKey: string, body: Json, headers: Record<string, string> = {}): TraceEvent[] => {
    const r = parseMessage({ body: Buffer.from(JSON.stringify(body)), headers, routingKey }, { artifactBuilds: rules });
    assert.ok(r.ok, JSON.stringify(r));
    return [...r.events];
  };
  const github = (event: string, body: Json, delivery: string): TraceEvent[] =>
    parse('site.site-a.webhooks.github', body, { 'x-not-event': event, 'x-not-delivery-id': `${run}-${delivery}` });

  const push = (ref: string, shas: string[], pushedAt: number, delivery: string): TraceEvent[] => {
    const p = sample('github', 'push.json');
    const commits = shas.map((id, i) => ({ ...p['commits'][0], id, message: `change ${i} of ${run}` }));
    return github(
      'push',
      {
        ...p,
        ref,
        before: '0'.repeat(40),
        after: shas[shas.length - 1],
        commits,
        head_commit: commits[commits.length - 1],
        repository: { ...p['repository'], clone_url: repoUrl, pushed_at: pushedAt },
      },
      delivery,
    );
  };
  const pr = sample('github', 'pull-request-closed-merged.json');
  const pullRequest = {
    ...pr,
    repository: { ...pr['repository'], clone_url: repoUrl },
    pull_request: {
      ...pr['pull_request'],
      title: `Retry uploads ${run}`,
      body: '',
      merge_commit_sha: mergeSha,
      merged_at: '2031-03-01T10:10:00Z',
      head: { ...pr['pull_request']['head'], sha: branchSha, repo: { ...pr['pull_request']['head']['repo'], clone_url: repoUrl } },
      base: { ...pr['pull_request']['base'], repo: { ...pr['pull_request']['base']['repo'], clone_url: repoUrl } },
    },
  };
  const jenkinsBuild = (commit: string, number: number): TraceEvent[] => {
    const j = sample('jenkins', 'completed-success.json');
    // mq-notifier sends no time: the relay's receipt time stands for it.
    const headers = { 'x-not-received-at': `2031-03-01T10:2${number}:00Z` };
    return parse(
      'site.site-b.jenkins.jenkins',
      {
        ...j,
        url: `https://ci.lund.example.com/jenkins/job/platform/job/app-${run}/${number}/`,
        build_job_name: `platform/app-${run}`,
        build_number: number,
        parameters: [`GIT_URL=${repoUrl}`, `GIT_COMMIT=${commit}`, 'GIT_BRANCH=origin/main'],
      },
      headers,
    );
  };
  // One delivery pipeline (its own CDEvents source) deploys to staging, then runs the tests there.
  const deployId = `deploy-${run}`;
  const deploy = (): TraceEvent[] => {
    const d = sample('cdevents', 'structured-service-deployed.json');
    const context = { ...d['data']['context'], id: deployId, source: '/tekton/staging', timestamp: '2031-03-01T10:30:00Z' };
    const content = {
      environment: { id: `staging-${run}`, source: '/tekton/staging' },
      artifactId: `pkg:maven/com.acme.${run}/app-${run}@1.0.7`,
    };
    return parse('site.site-b.delivery.cdevents', {
      ...d,
      id: deployId,
      source: '/tekton/staging',
      time: context.timestamp,
      data: { context, subject: { ...d['data']['subject'], source: '/tekton/staging', content } },
    });
  };
  const tests = (): TraceEvent[] => {
    const t = sample('cdevents', 'binary-testcaserun-finished-fail.json');
    return parse('site.site-b.delivery.cdevents', {
      ...t,
      context: {
        ...t['context'],
        id: `tests-${run}`,
        source: '/tekton/staging',
        timestamp: '2031-03-01T10:45:00Z',
        links: [{ linkType: 'PATH', from: { contextId: deployId } }],
      },
      // This run's own suite run and environment: a suite run shared with an earlier run of this test on the same
      // mesh would join the two runs' journeys.
      subject: {
        ...t['subject'],
        id: `tests-${run}`,
        source: '/tekton/staging',
        content: {
          ...t['subject']['content'],
          environment: { id: `staging-${run}`, source: '/tekton/staging' },
          testSuiteRun: { ...t['subject']['content']['testSuiteRun'], id: `suite-${run}`, source: '/tekton/staging' },
        },
      },
    });
  };

  const branchPush = push(`refs/heads/retry-uploads-${run}`, [branchSha], 1930125600, 'push-branch');
  const merged = github('pull_request', pullRequest, 'pr-merged');
  const mainPush = push('refs/heads/main', [otherSha, mergeSha], 1930126320, 'push-main');
  const otherBuild = jenkinsBuild(otherSha, 6);
  const mergeBuild = jenkinsBuild(mergeSha, 7);
  const deployment = deploy();
  const testRun = tests();
  const ids = (evs: TraceEvent[]): string[] => evs.map((e) => e.id);

  before(async () => {
    const status = await testStatus();
    const neo4j = { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' };
    graph = new GraphRepository(neo4j);
    await graph.ensureSchema();
    const config = explorerConfigSchema.parse({ neo4j, http: { port: 1 }, auth: { tokens: [TOKEN] }, logLevel: 'error' });
    journeys = new Journeys(graph, new WalkReads(graph), () => config.limits);
    // In an order the tools do not keep: the tests first, the pull request last.
    await graph.writeEvents([...testRun, ...deployment, ...mergeBuild, ...otherBuild]);
    await graph.writeEvents([...mainPush, ...branchPush]);
    await graph.writeEvents(merged);
    await journeys.drain();
    // The mesh's correlator runs the same journey step on these events: wait until neither has any left.
    assert.ok(await journeys.settled(60_000), 'the journey model took in every event written');
    app = await NestFactory.create(ExplorerModule.forConfig(config), { logger: new JsonLogger('explorer', 'error') });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  after(async () => {
    await app?.close();
    await graph?.onModuleDestroy();
  });

  const get = async (path: string): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Json };
  };

  it('carries the branch commit on through the merge commit, marking what it reached that way', async () => {
    const r = await get(`/api/v1/trace/commit/${branchSha}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const reached = new Set(r.body['events'].map((e: { id: string }) => e.id));
    for (const id of [...branchPush, ...merged, ...mergeBuild, ...deployment, ...testRun].map((e) => e.id)) assert.ok(reached.has(id), id);
    assert.deepEqual(r.body['merges'], [{ change: `${repo}!42`, commit: `${repo}@${mergeSha}` }]);
    const through = new Set(r.body['throughMerge']);
    for (const id of ids([...mergeBuild, ...deployment, ...testRun])) assert.ok(through.has(id), `${id} is reached through the merge`);
    for (const id of ids([...branchPush, ...merged])) assert.ok(!through.has(id), `${id} is the branch's own`);
    assert.deepEqual(
      r.body['builds'].map((b: { key: string }) => b.key),
      [`ci.lund.example.com/jenkins/platform/app-${run}#7`],
    );
  });

  it('does not pull in the other commits of the target branch, nor go back from the merge to the branch', async () => {
    const branch = await get(`/api/v1/trace/commit/${branchSha}`);
    const reached = new Set(branch.body['events'].map((e: { id: string }) => e.id));
    for (const id of ids(otherBuild)) assert.ok(!reached.has(id), `the build of another commit pushed with the merge: ${id}`);
    const merge = await get(`/api/v1/trace/commit/${mergeSha}`);
    assert.equal(merge.status, 200);
    const fromMerge = new Set(merge.body['events'].map((e: { id: string }) => e.id));
    for (const id of ids(branchPush)) assert.ok(!fromMerge.has(id), 'the feature branch push is upstream of the merge');
    assert.deepEqual(merge.body['merges'], []);
    assert.deepEqual(merge.body['throughMerge'], []);
  });

  it('stops the journey at the tests that failed after the staging deployment', async () => {
    const r = await get(`/api/v1/trace/commit/${branchSha}`);
    assert.equal(r.body['stages'].find((s: { stage: string }) => s.stage === 'deployment').reached, true);
    assert.equal(r.body['furthestStage'], 'test');
    assert.equal(r.body['stoppedAt']?.stage, 'test');
    assert.equal(r.body['stoppedAt']?.event.event, testRun[0]!.id);
    // The journey model (lead time, DORA, subscriptions) says the same, for the branch commit and the merge.
    for (const key of [`${repo}@${branchSha}`, `${repo}@${mergeSha}`]) {
      const j = (await journeys.byKey(key))!.journey;
      assert.deepEqual([j.furthestStage, j.stoppedStage], ['test', 'test'], key);
    }
    const j = (await journeys.byKey(`${repo}@${branchSha}`))!.journey;
    for (const id of ids([...mergeBuild, ...deployment, ...testRun]))
      assert.ok(
        j.events.some((e) => e.id === id),
        id,
      );
  });
});

/**
 * A Jenkins build of a commit, the build-info JFrog recorded for it (by build name and number, no CI server)
 * and the CI's CDEvents pipeline run, which test runs of a test tool (another CDEvents source) link to by
 * context id, before and after the pipeline run arrives. The JFrog event joins the Jenkins build through a
 * `buildInfoBuilds` rule; the test runs' links join the CI's event instead of waiting on placeholders.
 */
describe('joins across tools: a JFrog build-info and CDEvents links into another tool', () => {
  let graph: GraphRepository;
  let journeys: Journeys;
  let app: INestApplication;
  let url: string;
  const run = randomBytes(4).toString('hex');
  const commit = createHash('sha1').update(`${run}build-info`).digest('hex');
  const repoUrl = `https://github.com/acme/build-info-${run}.git`;
  const job = `platform/app-${run}`;
  const jenkinsKey = `ci.lund.example.com/jenkins/${job}#3`;
  const rules: ArtifactBuildRule[] = [
    {
      match: '^artifacts\\.lund\\.example\\.com/(?<job>[^#]+)#(?<number>\\d+)$',
      ci: 'ci.lund.example.com/jenkins',
      job: '$<job>',
      number: '$<number>',
    },
  ];
  const parse = (routingKey: string, body: Json, headers: Record<string, string> = {}): TraceEvent[] => {
    const r = parseMessage({ body: Buffer.from(JSON.stringify(body)), headers, routingKey }, { buildInfoBuilds: rules });
    assert.ok(r.ok, JSON.stringify(r));
    return [...r.events];
  };

  const j = sample('jenkins', 'completed-success.json');
  const jenkins = parse(
    'site.site-b.jenkins.jenkins',
    {
      ...j,
      url: `https://ci.lund.example.com/jenkins/job/platform/job/app-${run}/3/`,
      build_job_name: job,
      build_number: 3,
      parameters: [`GIT_URL=${repoUrl}`, `GIT_COMMIT=${commit}`, 'GIT_BRANCH=origin/main'],
    },
    { 'x-not-received-at': '2031-04-01T10:05:00Z' },
  );
  // JFrog's documented build-info upload, for this run's build name and number (Jenkins JFrog plugin: JOB_NAME, BUILD_NUMBER).
  const b = sample('artifactory', 'build-uploaded.json');
  const buildInfo = parse(
    'site.site-b.artifacts.artifactory',
    { ...b, data: { ...b['data'], build_name: job, build_number: '3', build_started: '2031-04-01T10:01:00.000+0000' } },
    { 'x-not-delivery-id': `build-info-${run}`, 'x-not-received-at': '2031-04-01T10:06:00Z' },
  );

  // The spec's conformance examples, given this run's sources and context ids. The CI's pipeline run names the
  // Jenkins build by its URL; its started event has a context id that is not a UUID (unique in its source only).
  const ciSource = `/ci/lund-${run}`;
  const testSource = `/testkube/lund-${run}`;
  const chain = randomUUID();
  const finishedId = randomUUID();
  const startedId = `pipeline-${run}-started`;
  const pr = sample('cdevents', 'conformance-v0.5-pipelinerun-finished.json');
  const pipelineRun = (id: string, timestamp: string): TraceEvent[] =>
    parse('site.site-b.ci.cdevents', {
      context: { ...pr['context'], id, source: ciSource, chainId: chain, timestamp, links: [] },
      subject: {
        ...pr['subject'],
        id: `app-${run}-3`,
        source: ciSource,
        content: {
          ...pr['subject']['content'],
          uri: `https://ci.lund.example.com/jenkins/job/platform/job/app-${run}/3/`,
          outcome: 'success',
        },
      },
    });
  const ts = sample('cdevents', 'conformance-v0.5-testsuiterun-finished.json');
  const suiteRun = (name: string, links: Json[], chainId: string, timestamp: string): TraceEvent[] =>
    parse('site.site-b.tests.cdevents', {
      context: { ...ts['context'], id: randomUUID(), source: testSource, chainId, timestamp, links },
      subject: { ...ts['subject'], id: `${name}-${run}`, source: testSource },
    });
  // The test tool links as the spec's sample does (TRIGGER, PATH, END), to the CI's event instead.
  const toFinished = (ts['context']['links'] as Json[]).map((l) =>
    l['target'] ? { ...l, target: { contextId: finishedId } } : { ...l, from: { contextId: finishedId } },
  );
  const finished = pipelineRun(finishedId, '2031-04-01T10:06:30Z');
  const started = pipelineRun(startedId, '2031-04-01T10:02:00Z');
  const suiteBefore = suiteRun('suite-before', toFinished, chain, '2031-04-01T10:07:00Z');
  const suiteAfter = suiteRun('suite-after', toFinished, randomUUID(), '2031-04-01T10:08:00Z');
  const sameChain = suiteRun('same-chain', [{ linkType: 'PATH', from: { contextId: startedId } }], chain, '2031-04-01T10:09:00Z');
  const otherChain = suiteRun('other-chain', [{ linkType: 'PATH', from: { contextId: startedId } }], randomUUID(), '2031-04-01T10:09:30Z');

  const linked = async (from: string, type: string): Promise<Array<{ id: string; placeholder: boolean }>> =>
    graph.read<{ id: string; placeholder: boolean }>(
      'MATCH (:Event {id: $from})-[l]->(t:Event) WHERE type(l) = $type RETURN t.id AS id, t:Placeholder AS placeholder',
      { from, type },
    );

  before(async () => {
    const status = await testStatus();
    const neo4j = { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' };
    graph = new GraphRepository(neo4j);
    await graph.ensureSchema();
    const config = explorerConfigSchema.parse({ neo4j, http: { port: 1 }, auth: { tokens: [TOKEN] }, logLevel: 'error' });
    journeys = new Journeys(graph, new WalkReads(graph), () => config.limits);
    // The test runs first (their links wait), then the CI, the build-info and the build, then another test run;
    // then the first test runs again (a redelivery: their links land on placeholders once more).
    await graph.writeEvents([...suiteBefore, ...sameChain, ...otherChain]);
    await graph.writeEvents([...finished, ...started, ...buildInfo, ...jenkins]);
    await graph.writeEvents(suiteAfter);
    await graph.writeEvents([...suiteBefore, ...sameChain, ...otherChain]);
    await journeys.drain();
    assert.ok(await journeys.settled(60_000), 'the journey model took in every event written');
    app = await NestFactory.create(ExplorerModule.forConfig(config), { logger: new JsonLogger('explorer', 'error') });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  after(async () => {
    await app?.close();
    await graph?.onModuleDestroy();
  });

  it('makes the JFrog build-info event about the Jenkins build its build name and number name', async () => {
    assert.equal(buildInfo[0]!.props['ciBuild'], jenkinsKey);
    const rows = await graph.read<{ key: string; events: string[] }>(
      `MATCH (:Alias {id: $alias})-[:ALIAS_OF]->(b:Build) MATCH (e:Event)-[:ABOUT]->(b) RETURN b.key AS key, collect(e.id) AS events`,
      { alias: `Build|${jenkinsKey}` },
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.key, jenkinsKey);
    for (const id of [...jenkins, ...buildInfo, ...finished].map((e) => e.id)) assert.ok(rows[0]!.events.includes(id), id);
  });

  it("points a test tool's links at the CI's event, whichever arrived first, and leaves no placeholder for them", async () => {
    for (const ev of [...suiteBefore, ...suiteAfter]) {
      for (const type of ['TRIGGER', 'PATH', 'END']) {
        assert.deepEqual(await linked(ev.id, type), [{ id: finished[0]!.id, placeholder: false }], `${ev.id} ${type}`);
      }
    }
    const left = await graph.read<{ n: number }>('MATCH (p:Placeholder) WHERE p.id STARTS WITH $prefix RETURN count(p) AS n', {
      prefix: `cdevents:${testSource}|${finishedId}`,
    });
    assert.equal(left[0]!.n, 0);
  });

  it('joins a context id that is not a UUID only within the chain of the linking event', async () => {
    assert.deepEqual(await linked(sameChain[0]!.id, 'PATH'), [{ id: started[0]!.id, placeholder: false }]);
    assert.deepEqual(await linked(otherChain[0]!.id, 'PATH'), [{ id: `cdevents:${testSource}|${startedId}`, placeholder: true }]);
  });

  it("carries the commit's journey through the Jenkins build to the build-info and the test tool's runs", async () => {
    const res = await fetch(`${url}/api/v1/trace/commit/${commit}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Json;
    const reached = new Set(body['events'].map((e: { id: string }) => e.id));
    for (const ev of [...jenkins, ...buildInfo, ...finished, ...suiteBefore, ...suiteAfter]) assert.ok(reached.has(ev.id), ev.id);
    assert.deepEqual(
      body['builds'].map((x: { key: string }) => x.key),
      [jenkinsKey],
    );
  });
});
