import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { MeshStatus } from '@not/mesh';
import { testStatus, waitUntil } from '../support/mesh.js';

/**
 * A site on GitHub Actions and a site on GitLab CI, each sending what its tool sends for one change
 * through the relay's webhook endpoint: the push, the workflow run / pipeline with its jobs, the tag and
 * release, and the deployment. The payloads are the tools' own published samples
 * (libs/events/fixtures/{github,gitlab}) with this change's repository, sha, ids and times put in.
 * `traces trace commit <sha>` must show the build, release and deployment stages with their outcomes
 * and times.
 */

type Json = Record<string, unknown>;
const sample = (tool: string, file: string): Json =>
  JSON.parse(readFileSync(join(process.cwd(), 'libs', 'events', 'fixtures', tool, file), 'utf8')) as Json;
const obj = (o: Json, key: string): Json => o[key] as Json;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** GitLab's hook time format, `2016-08-12 15:23:28 UTC`. */
const glTime = (ms: number): string => iso(ms).replace('T', ' ').replace('Z', ' UTC');

interface Stage {
  stage: string;
  reached: boolean;
  first: string | null;
  last: string | null;
  outcome: string | null;
}
interface Journey {
  furthestStage: string | null;
  stages: Stage[];
  builds: Array<{ key: string; result: string | null; triggered: string | null; started: string | null; finished: string | null }>;
  releases: Array<{ key: string }>;
  deployments: Array<{ type: string; outcome: string | null; time: string }>;
}

describe('sites on GitHub Actions and GitLab CI: push, run with jobs, release and deployment traced by commit', () => {
  let status: MeshStatus;
  const marker = randomBytes(4).toString('hex');
  // Whole seconds: the tools write times to the second.
  const base = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
  const at = (minutes: number): number => base + minutes * 60_000;

  before(async () => {
    status = await testStatus();
  });

  const site = (id: string) => status.sites.find((s) => s.id === id)!;

  async function send(siteId: string, endpoint: string, body: string, headers: Record<string, string>): Promise<void> {
    const res = await fetch(`${site(siteId).relay.webhooks}/${endpoint}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
    assert.equal(res.status, 202, `${endpoint} at ${siteId}: ${res.status} ${await res.text()}`);
  }

  function traceCommit(sha: string): Journey | undefined {
    const r = spawnSync(
      process.execPath,
      ['bin/traces.js', 'trace', 'commit', sha, '--json', '--url', status.explorer.url, '--token', status.explorer.token],
      { encoding: 'utf8' },
    );
    return r.status === 0 ? (JSON.parse(r.stdout) as Journey) : undefined;
  }

  async function journeyWith(sha: string, done: (j: Journey) => boolean): Promise<Journey> {
    let last: Journey | undefined;
    await waitUntil(
      `the trace of ${sha} to show build, release and deployment`,
      async () => {
        last = traceCommit(sha);
        return !!last && done(last);
      },
      90_000,
      1000,
    );
    return last!;
  }

  const stage = (j: Journey, name: string): Stage => j.stages.find((s) => s.stage === name)!;

  it('GitHub Actions: push (form-encoded), workflow run and jobs, tag and release, deployment', async () => {
    const secret = site('site-a').relay.webhookSecret;
    const sha = randomBytes(20).toString('hex');
    const repoUrl = `https://github.example.com/acme/app-${marker}.git`;
    const repository = `github.example.com/acme/app-${marker}`;
    const repo = (r: Json): Json => ({
      ...r,
      clone_url: repoUrl,
      html_url: repoUrl.replace(/\.git$/, ''),
      full_name: `acme/app-${marker}`,
    });
    const github = async (event: string, payload: Json, form = false): Promise<void> => {
      const json = JSON.stringify(payload);
      const body = form ? new URLSearchParams({ payload: json }).toString() : json;
      await send('site-a', 'github', body, {
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        'x-github-event': event,
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      });
    };

    // The push, sent with GitHub's default content type.
    const push = sample('github', 'push.json');
    const commit = { ...(push['commits'] as Json[])[0]!, id: sha, timestamp: iso(at(0)), message: `Retry uploads ${marker}` };
    await github(
      'push',
      {
        ...push,
        after: sha,
        commits: [commit],
        head_commit: commit,
        repository: { ...repo(obj(push, 'repository')), pushed_at: Math.floor(at(0) / 1000) },
      },
      true,
    );

    // The workflow run: requested, in progress, completed.
    const runId = randomInt(1e9, 2e9);
    const wr = sample('github', 'workflow-run.completed.json');
    const run = (status: string, conclusion: string | null): Json => ({
      ...wr,
      action: status === 'queued' ? 'requested' : status,
      repository: repo(obj(wr, 'repository')),
      workflow_run: {
        ...obj(wr, 'workflow_run'),
        id: runId,
        name: 'CI',
        head_sha: sha,
        head_branch: 'main',
        run_number: 7,
        run_attempt: 1,
        status,
        conclusion,
        created_at: iso(at(1)),
        run_started_at: iso(at(2)),
        updated_at: iso(status === 'completed' ? at(9) : at(2)),
      },
    });
    await github('workflow_run', run('queued', null));
    await github('workflow_run', run('in_progress', null));
    // Its two jobs, queued, started and completed.
    const wj = sample('github', 'workflow-job.completed-success.json');
    for (const [i, name] of ['build', 'test'].entries()) {
      const jobId = runId + 1 + i;
      for (const st of ['queued', 'in_progress', 'completed']) {
        await github('workflow_job', {
          ...wj,
          action: st,
          repository: repo(obj(wj, 'repository')),
          workflow_job: {
            ...obj(wj, 'workflow_job'),
            id: jobId,
            run_id: runId,
            name,
            workflow_name: 'CI',
            head_sha: sha,
            status: st,
            conclusion: st === 'completed' ? 'success' : null,
            created_at: iso(at(2)),
            started_at: iso(at(3 + i * 3)),
            completed_at: st === 'completed' ? iso(at(5 + i * 3)) : null,
          },
        });
      }
    }
    await github('workflow_run', run('completed', 'success'));

    // The tag pushed by the workflow and the release made from it.
    const tag = `v1.${randomInt(1000, 9999)}.0`;
    await github('push', {
      ...push,
      ref: `refs/tags/${tag}`,
      before: '0'.repeat(40),
      after: sha,
      commits: [],
      head_commit: commit,
      repository: { ...repo(obj(push, 'repository')), pushed_at: Math.floor(at(10) / 1000) },
    });
    const rel = sample('github', 'release.published.json');
    await github('release', {
      ...rel,
      repository: repo(obj(rel, 'repository')),
      release: { ...obj(rel, 'release'), tag_name: tag, target_commitish: 'main', published_at: iso(at(11)), created_at: iso(at(11)) },
    });

    // The deployment and its statuses.
    const dep = sample('github', 'deployment.created.json');
    const deploymentId = randomInt(1e8, 2e8);
    const deployment = { ...obj(dep, 'deployment'), id: deploymentId, sha, ref: tag, environment: 'production', created_at: iso(at(12)) };
    await github('deployment', { ...dep, repository: repo(obj(dep, 'repository')), deployment });
    const ds = sample('github', 'deployment-status.success.json');
    for (const [state, minute] of [
      ['in_progress', 13],
      ['success', 15],
    ] as const) {
      await github('deployment_status', {
        ...ds,
        repository: repo(obj(ds, 'repository')),
        deployment,
        deployment_status: {
          ...obj(ds, 'deployment_status'),
          state,
          environment: 'production',
          created_at: iso(at(minute)),
          updated_at: iso(at(minute)),
        },
      });
    }

    const j = await journeyWith(
      sha,
      (x) =>
        stage(x, 'deployment').outcome === 'success' &&
        stage(x, 'release').reached &&
        stage(x, 'build').outcome === 'success' &&
        x.builds.length >= 3 &&
        x.builds.every((b) => b.finished !== null),
    );
    assert.equal(stage(j, 'commit').first, new Date(at(0)).toISOString());
    const build = stage(j, 'build');
    assert.deepEqual([build.first, build.last, build.outcome], [new Date(at(1)).toISOString(), new Date(at(9)).toISOString(), 'success']);
    const runBuild = j.builds.find((b) => b.key === `${repository}/actions/run/${runId}`);
    assert.ok(runBuild, JSON.stringify(j.builds.map((b) => b.key)));
    assert.deepEqual(
      [runBuild.triggered, runBuild.started, runBuild.finished, runBuild.result],
      [new Date(at(1)).toISOString(), new Date(at(2)).toISOString(), new Date(at(9)).toISOString(), 'success'],
    );
    const testJob = j.builds.find((b) => b.key === `${repository}/actions/jobs/run/${runId + 2}`);
    assert.ok(testJob);
    assert.deepEqual([testJob.started, testJob.finished], [new Date(at(6)).toISOString(), new Date(at(8)).toISOString()]);
    assert.ok(stage(j, 'release').reached);
    assert.ok(j.releases.some((r) => r.key === `${repository}@${tag}`));
    const deploy = stage(j, 'deployment');
    assert.deepEqual(
      [deploy.first, deploy.last, deploy.outcome],
      [new Date(at(12)).toISOString(), new Date(at(15)).toISOString(), 'success'],
    );
    assert.equal(j.furthestStage, 'release');
  });

  it('GitLab CI: push, pipeline and job hooks, tag push and release, deployment', async () => {
    const secret = site('site-b').relay.webhookSecret;
    const sha = randomBytes(20).toString('hex');
    const web = `https://gitlab.example.com/acme/svc-${marker}`;
    const repository = `gitlab.example.com/acme/svc-${marker}`;
    const project = (p: Json): Json => ({ ...p, web_url: web, git_http_url: `${web}.git`, path_with_namespace: `acme/svc-${marker}` });
    const gitlab = async (event: string, payload: Json): Promise<void> => {
      await send('site-b', 'gitlab', JSON.stringify(payload), {
        'x-gitlab-event': event,
        'x-gitlab-token': secret,
        'x-gitlab-event-uuid': randomUUID(),
      });
    };

    const push = sample('gitlab', 'push.json');
    const commit = { ...(push['commits'] as Json[])[0]!, id: sha, timestamp: iso(at(0)), message: `Faster start ${marker}` };
    await gitlab('Push Hook', { ...push, after: sha, checkout_sha: sha, commits: [commit], project: project(obj(push, 'project')) });

    const pipelineId = randomInt(1e6, 2e6);
    const pl = sample('gitlab', 'pipeline.json');
    const jobs = [
      { id: pipelineId + 1, name: 'build', stage: 'build' },
      { id: pipelineId + 2, name: 'test', stage: 'test' },
    ];
    const pipeline = (st: string): Json => ({
      ...pl,
      project: project(obj(pl, 'project')),
      commit: { ...obj(pl, 'commit'), id: sha },
      object_attributes: {
        ...obj(pl, 'object_attributes'),
        id: pipelineId,
        iid: 12,
        sha,
        ref: 'main',
        status: st,
        created_at: glTime(at(1)),
        finished_at: st === 'success' ? glTime(at(9)) : null,
      },
      builds: jobs.map((x) => ({ ...(pl['builds'] as Json[])[0]!, ...x, status: st === 'success' ? 'success' : 'pending' })),
    });
    await gitlab('Pipeline Hook', pipeline('pending'));
    await gitlab('Pipeline Hook', pipeline('running'));
    const jh = sample('gitlab', 'job.json');
    for (const [i, x] of jobs.entries()) {
      for (const st of ['running', 'success']) {
        await gitlab('Job Hook', {
          ...jh,
          project: project(obj(jh, 'repository')),
          repository: { ...obj(jh, 'repository'), homepage: web, git_http_url: `${web}.git` },
          build_id: x.id,
          build_name: x.name,
          build_stage: x.stage,
          build_status: st,
          pipeline_id: pipelineId,
          sha,
          ref: 'main',
          build_created_at: glTime(at(1)),
          build_started_at: glTime(at(2 + i * 3)),
          build_finished_at: st === 'success' ? glTime(at(4 + i * 3)) : null,
        });
      }
    }
    await gitlab('Pipeline Hook', pipeline('success'));

    const tag = `2.${randomInt(1000, 9999)}.0`;
    const tp = sample('gitlab', 'tag-push.json');
    await gitlab('Tag Push Hook', {
      ...tp,
      ref: `refs/tags/${tag}`,
      after: randomBytes(20).toString('hex'), // an annotated tag: the tag object, not the commit
      checkout_sha: sha,
      commits: [],
      project: project(obj(tp, 'project')),
    });
    const rel = sample('gitlab', 'release.json');
    await gitlab('Release Hook', {
      ...rel,
      tag,
      name: tag,
      action: 'create',
      released_at: glTime(at(10)),
      created_at: glTime(at(10)),
      project: project(obj(rel, 'project')),
      commit: { ...obj(rel, 'commit'), id: sha },
    });

    const dh = sample('gitlab', 'deployment.json');
    const deploymentId = randomInt(1e5, 2e5);
    for (const [st, minute] of [
      ['running', 11],
      ['failed', 14],
    ] as const) {
      await gitlab('Deployment Hook', {
        ...dh,
        status: st,
        status_changed_at: glTime(at(minute)),
        deployment_id: deploymentId,
        environment: 'staging',
        project: project(obj(dh, 'project')),
        short_sha: sha.slice(0, 8),
        commit_url: `${web}/-/commit/${sha}`,
        ref: tag,
      });
    }

    const j = await journeyWith(
      sha,
      (x) =>
        stage(x, 'deployment').outcome === 'failure' &&
        stage(x, 'release').reached &&
        stage(x, 'build').outcome === 'success' &&
        x.builds.filter((b) => b.finished !== null).length >= 3,
    );
    const build = stage(j, 'build');
    assert.deepEqual([build.first, build.last, build.outcome], [new Date(at(1)).toISOString(), new Date(at(9)).toISOString(), 'success']);
    const pipelineBuild = j.builds.find((b) => b.key === `${repository}/pipelines/run/${pipelineId}`);
    assert.ok(pipelineBuild, JSON.stringify(j.builds.map((b) => b.key)));
    assert.deepEqual(
      [pipelineBuild.triggered, pipelineBuild.finished, pipelineBuild.result],
      [new Date(at(1)).toISOString(), new Date(at(9)).toISOString(), 'success'],
    );
    const testJob = j.builds.find((b) => b.key === `${repository}/jobs/run/${pipelineId + 2}`);
    assert.ok(testJob);
    assert.deepEqual([testJob.started, testJob.finished], [new Date(at(5)).toISOString(), new Date(at(7)).toISOString()]);
    assert.ok(j.releases.some((r) => r.key === `${repository}@${tag}`));
    const deploy = stage(j, 'deployment');
    assert.deepEqual(
      [deploy.first, deploy.last, deploy.outcome],
      [new Date(at(11)).toISOString(), new Date(at(14)).toISOString(), 'failure'],
    );
    assert.ok(j.deployments.some((d) => d.type === 'deployment.failed' && d.outcome === 'failure'));
  });
});
