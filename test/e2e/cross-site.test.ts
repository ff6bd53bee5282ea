import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publishToSite, type MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { neo4jDriver, testStatus, waitUntil } from '../support/mesh.js';

/**
 * One change across two sites, each tool speaking its own format over its own path, arriving in the
 * reverse of the order it happened: the promotion at site-b first, then the Nexus publication at site-a,
 * then the Jenkins build at site-b (mq-notifier over AMQP), and the git push at site-a last. The graph
 * must still be one connected path from the commit to the promotion.
 *
 * The test mesh's correlator has the rule that says which build produced a com.acme.traces artifact
 * (its patch version is the Jenkins build number at site-b; test/mesh.test.yaml).
 */
describe('cross-site correlation: commit at site-a, build at site-b, publication at site-a, promotion at site-b', () => {
  let status: MeshStatus;
  let driver: Driver;
  const marker = randomBytes(4).toString('hex');
  const app = `app-${marker}`;
  const number = randomInt(100, 100_000);
  const version = `1.0.${number}`;
  const repoUrl = `https://git.site-a.example.com/acme/${app}.git`;
  const repository = `git.site-a.example.com/acme/${app}`;
  const buildKey = `jenkins.site-b.example.com/acme/${app}#${number}`;
  const digest = randomBytes(32).toString('hex');
  const purl = `purl:pkg:maven/com.acme.traces/${app}@${version}`;
  const dir = mkdtempSync(join(tmpdir(), 'cross-site-'));
  let sha = '';

  const site = (id: string) => status.sites.find((s) => s.id === id)!;

  async function webhook(siteId: string, endpoint: string, body: string, headers: Record<string, string>): Promise<void> {
    const res = await fetch(`${site(siteId).relay.webhooks}/${endpoint}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
    assert.equal(res.status, 202, `${endpoint} at ${siteId}: ${res.status} ${await res.text()}`);
  }

  function git(cwd: string, ...args: string[]) {
    const r = spawnSync('git', args, {
      cwd,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Ada',
        GIT_AUTHOR_EMAIL: 'ada@example.com',
        GIT_COMMITTER_NAME: 'Ada',
        GIT_COMMITTER_EMAIL: 'ada@example.com',
      },
    });
    assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
    return r;
  }

  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
    // Jenkins publishes to its own exchange on site-b's broker, which the relay declares for the source.
    const b = site('site-b');
    const auth = `Basic ${Buffer.from(`${b.user}:${b.password}`).toString('base64')}`;
    await waitUntil('the relay at site-b to declare the jenkins source exchange', () =>
      fetch(new URL('/api/exchanges/%2F/jenkins.mq', b.management), { headers: { authorization: auth } }).then(
        (r) => r.ok,
        () => false,
      ),
    );
    // The commit exists before anything refers to it; its push is reported last.
    const bare = join(dir, 'origin.git');
    const work = join(dir, 'work');
    git(dir, 'init', '--bare', '-q', bare);
    copyFileSync(join(process.cwd(), 'deploy', 'git', 'post-receive'), join(bare, 'hooks', 'post-receive'));
    spawnSync('chmod', ['+x', join(bare, 'hooks', 'post-receive')]);
    git(bare, 'config', 'not-traces.url', `${site('site-a').relay.webhooks}/git-hook`);
    git(bare, 'config', 'not-traces.token', site('site-a').relay.webhookSecret);
    git(bare, 'config', 'not-traces.repository', repoUrl);
    git(dir, 'init', '-q', '-b', 'main', work);
    writeFileSync(join(work, 'pom.xml'), `<project><artifactId>${app}</artifactId></project>\n`);
    git(work, 'add', '.');
    git(work, 'commit', '-q', '-m', `TRC-${number} add the ${app} module`);
    sha = git(work, 'rev-parse', 'HEAD').stdout.trim();

    // 1. Promotion at site-b: Artifactory copies the jar from staging to release.
    const jar = `com/acme/traces/${app}/${version}/${app}-${version}.jar`;
    await webhook(
      'site-b',
      'artifactory',
      JSON.stringify({
        domain: 'artifact',
        event_type: 'copied',
        data: {
          repo_key: 'libs-release-local',
          path: jar,
          name: `${app}-${version}.jar`,
          sha256: digest,
          size: 4242,
          source_repo_path: `libs-staging-local/${jar}`,
          target_repo_path: `libs-release-local/${jar}`,
        },
        subscription_key: 'not-relay',
        jpd_origin: 'https://artifacts.site-b.example.com',
        source: 'jfrog/release-manager',
      }),
      { 'x-jfrog-event-auth': site('site-b').relay.webhookSecret, 'x-delivery-id': `copy-${marker}` },
    );

    // 2. Publication at site-a: Nexus reports the deployed component (no checksum, no build).
    const nexus = JSON.stringify({
      timestamp: '2026-11-02T10:14:03.120+0000',
      nodeId: '52905B51-085CCABB-CEBBEAAD-16795588-FC927D93',
      initiator: 'jenkins/10.2.0.7',
      repositoryName: 'maven-releases',
      action: 'CREATED',
      component: { id: marker, componentId: randomUUID(), format: 'maven2', name: app, group: 'com.acme.traces', version },
    });
    await webhook('site-a', 'nexus', nexus, {
      'x-nexus-webhook-id': 'rm:repository:component',
      'x-nexus-webhook-delivery': randomUUID(),
      'x-nexus-webhook-signature': createHmac('sha1', site('site-a').relay.webhookSecret).update(nexus).digest('hex'),
    });

    // 3. The build at site-b: Jenkins' mq-notifier on the site's own broker, with the Git plugin's parameters.
    const url = `https://jenkins.site-b.example.com/job/acme/job/${app}/${number}/`;
    const params = [`GIT_URL=${repoUrl}`, `GIT_COMMIT=${sha}`, 'GIT_BRANCH=origin/main'];
    await publishToSite(status, 'site-b', 'jenkins', [
      Buffer.from(
        JSON.stringify({
          state: 'STARTED',
          url,
          build_job_name: `acme/${app}`,
          build_number: number,
          jenkins_master_fqdn: 'jenkins.site-b.example.com',
          parameters: params,
        }),
      ),
      Buffer.from(
        JSON.stringify({
          state: 'COMPLETED',
          url,
          build_job_name: `acme/${app}`,
          build_number: number,
          jenkins_master_fqdn: 'jenkins.site-b.example.com',
          status: 'SUCCESS',
          build_duration: 61_000,
          parameters: params,
        }),
      ),
    ]);

    // 4. The push at site-a, through the post-receive hook installed unchanged.
    const push = git(work, 'push', '-q', bare, 'main');
    assert.match(push.stderr, /not-traces: reported refs\/heads\/main \(1 commit\(s\)\)/);
  });

  after(async () => {
    await driver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('joins commit, build, artifact and promotion into one path, with every event at its own site', async () => {
    const commitKey = `${repository}@${sha}`;
    const path = async () =>
      (
        await driver.executeQuery(
          `MATCH (c:Commit {key: $commitKey})<-[:BUILT]-(b:Build)-[:PRODUCED]->(a:Artifact)<-[:ABOUT]-(p:Event {stage: 'promotion'})
           RETURN b.key AS build, a.key AS artifact, a.aliases AS aliases, p.site AS promotedAt, p.format AS promotedBy,
                  [(c)<-[:ABOUT]-(e:Event) | e.format + '@' + e.site] AS commitEvents,
                  [(b)<-[:ABOUT]-(e:Event) | e.type + '@' + e.site] AS buildEvents,
                  [(a)<-[:ABOUT]-(e:Event) | e.format + '@' + e.site] AS artifactEvents,
                  [(b)-[:AT_SITE]->(s:Site) | s.key] AS buildSites,
                  [(a)-[:AT_SITE]->(s:Site) | s.key] AS artifactSites`,
          { commitKey },
          { database: 'neo4j' },
        )
      ).records.map((r) => r.toObject());
    await waitUntil(
      'the commit to be joined to the promotion',
      async () => {
        const rows = await path();
        return (
          rows.length > 0 &&
          (rows[0]!.commitEvents as string[]).some((e) => e.startsWith('git-hook')) &&
          new Set(rows[0]!.buildEvents as string[]).size === 2
        );
      },
      90_000,
    );
    const rows = await path();
    assert.equal(rows.length, 1, 'exactly one path');
    const r = rows[0]!;
    assert.equal(r.build, buildKey);
    assert.equal(r.artifact, `sha256:${digest}`, 'the artifact is keyed by the digest site-b reported');
    assert.ok((r.aliases as string[]).includes(purl), 'and still found by the purl site-a reported');
    assert.equal(r.promotedAt, 'site-b');
    assert.equal(r.promotedBy, 'artifactory');
    const distinct = (xs: unknown) => [...new Set(xs as string[])].sort();
    assert.deepEqual(distinct(r.commitEvents), ['git-hook@site-a', 'jenkins@site-b'], 'pushed at site-a, built at site-b');
    assert.deepEqual(distinct(r.buildEvents), ['jenkins.completed@site-b', 'jenkins.started@site-b']);
    assert.deepEqual(distinct(r.artifactEvents), ['artifactory@site-b', 'nexus@site-a']);
    assert.deepEqual(r.buildSites, ['site-b']);
    assert.deepEqual(distinct(r.artifactSites), ['site-a', 'site-b']);
  });

  it('keeps one node per commit, build and artifact, whichever site or tool named them', async () => {
    const res = await driver.executeQuery(
      `RETURN COUNT { MATCH (c:Commit) WHERE c.key = $commitKey } AS commits,
              COUNT { MATCH (b:Build) WHERE b.key = $buildKey OR $buildKey IN coalesce(b.aliases, []) } AS builds,
              COUNT { MATCH (a:Artifact) WHERE a.key IN $artifactKeys OR any(k IN $artifactKeys WHERE k IN coalesce(a.aliases, [])) } AS artifacts`,
      { commitKey: `${repository}@${sha}`, buildKey, artifactKeys: [`sha256:${digest}`, purl, `gav:com.acme.traces:${app}:${version}`] },
      { database: 'neo4j' },
    );
    assert.deepEqual(res.records[0]!.toObject(), { commits: 1, builds: 1, artifacts: 1 });
  });

  it('lets the explorer trace the commit to the promotion at the other site', async () => {
    const token = status.explorer.token;
    const res = await fetch(`${status.explorer.url}/api/v1/trace/commit/${sha}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { furthestStage?: string; events?: Array<{ site: string; stage: string }> };
    assert.equal(body.furthestStage, 'promotion');
    const seen = new Set((body.events ?? []).map((e) => `${e.stage}@${e.site}`));
    for (const want of ['commit@site-a', 'build@site-b', 'publication@site-a', 'promotion@site-b'])
      assert.ok(seen.has(want), `journey has ${want}: ${[...seen].join(', ')}`);
  });
});
