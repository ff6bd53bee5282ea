/**
 * The git hosts' CI, deployment, release, package and work-item events, one test per real sample
 * (libs/events/fixtures/{github,gitlab,gitea}, see SOURCES.md there). Expected identities are the
 * payloads' own values (shas, ids, tags, environments) in the identity rules' key forms.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../parse.js';
import type { Format, TraceEvent } from '../model.js';
import { localSamples, message, single } from '../testing/fixtures.js';

const load = (f: string) => Object.fromEntries(localSamples(f).map((s) => [s.file, s.json]));
const samples: Record<string, Record<string, unknown>> = { github: load('github'), gitlab: load('gitlab'), gitea: load('gitea') };

function parse(format: Format, file: string, event?: string): TraceEvent {
  const body = samples[format]![file];
  assert.ok(body, `no sample ${format}/${file}`);
  const headers: Record<string, string> = { 'x-not-delivery-id': 'd-1', 'x-not-received-at': '2030-01-01T00:00:00.000Z' };
  if (event) headers['x-not-event'] = event;
  return single(parseMessage(message(format, body, { headers })));
}
const about = (ev: TraceEvent, role: string, label: string, key: string): void =>
  assert.ok(
    ev.about.some((a) => a.role === role && a.entity.label === label && a.entity.key === key),
    `expected ${role} → ${label} ${key}; got ${ev.about.map((a) => `${a.role}:${a.entity.label}:${a.entity.key}`).join(', ')}`,
  );
const related = (ev: TraceEvent, from: string, type: string, to: string): void =>
  assert.ok(
    ev.relations.some((r) => r.from.key === from && r.type === type && r.to.key === to),
    `expected ${from} -${type}-> ${to}; got ${ev.relations.map((r) => `${r.from.key} -${r.type}-> ${r.to.key}`).join(', ')}`,
  );
const entity = (ev: TraceEvent, label: string, key: string) => {
  const e = ev.entities.find((x) => x.label === label && x.key === key);
  assert.ok(e, `expected entity ${label} ${key}`);
  return e;
};

describe('GitHub Actions, checks and statuses', () => {
  const repo = 'github.com/octo-org/octo-repo';
  const sha = '3484a3fb816e0859fd6e1cea078d76385ff50625';

  it('reads a requested workflow run as a queued build of its head commit', () => {
    const ev = parse('github', 'workflow-run.requested.json', 'workflow_run');
    assert.deepEqual([ev.type, ev.stage, ev.phase, ev.outcome], ['workflow_run.requested', 'build', 'queued', undefined]);
    assert.equal(ev.time, '2020-10-05T16:33:24.000Z'); // workflow_run.created_at
    about(ev, 'run', 'Build', `${repo}/actions/run/289782451`);
    related(ev, `${repo}/actions/run/289782451`, 'BUILT', `${repo}@${sha}`);
    assert.equal(ev.props['runNumber'], '163');
    assert.equal(ev.props['runAttempt'], '1');
  });

  it('reads a completed workflow run with its conclusion, times and check suite alias', () => {
    const ev = parse('github', 'workflow-run.completed.json', 'workflow_run');
    assert.deepEqual([ev.stage, ev.phase, ev.outcome], ['build', 'finished', 'success']);
    assert.equal(ev.time, '2020-10-05T16:33:49.000Z'); // updated_at
    assert.equal(ev.props['queuedAt'], '2020-10-05T16:33:24Z');
    assert.equal(ev.props['startedAt'], '2020-10-05T16:33:49Z');
    assert.equal(ev.props['headBranch'], 'master');
    const run = entity(ev, 'Build', `${repo}/actions/run/289782451`);
    // The sample's workflow has no name, so GitHub calls it by its file (`github.workflow`).
    assert.deepEqual(run.aliases, [`${repo}/checks/suites/run/1291536064`, `${repo}/actions/workflows/.github/workflows/test.yml/run/163`]);
    assert.equal(run.props['url'], 'https://github.com/octo-org/octo-repo/actions/runs/289782451');
  });

  for (const [file, phase, time] of [
    ['workflow-job.queued.json', 'queued', '2021-09-13T02:21:13.000Z'],
    ['workflow-job.in-progress.json', 'started', '2021-09-13T02:21:13.000Z'],
  ] as const) {
    it(`reads ${file} as a ${phase} job of its run`, () => {
      const ev = parse('github', file, 'workflow_job');
      assert.equal(ev.phase, phase);
      assert.equal(ev.time, time);
      about(ev, 'job', 'Build', 'github.com/codertocat/hello-world/actions/jobs/run/289782451');
      assert.equal(
        entity(ev, 'Build', 'github.com/codertocat/hello-world/actions/jobs/run/289782451').props['run'],
        'github.com/codertocat/hello-world/actions/run/2202229078',
      );
      related(ev, 'github.com/codertocat/hello-world/actions/jobs/run/289782451', 'BUILT', `github.com/codertocat/hello-world@${sha}`);
    });
  }

  it('reads a failed job with its start and completion times and the check run it also is', () => {
    const ev = parse('github', 'workflow-job.completed-failure.json', 'workflow_job');
    assert.deepEqual([ev.phase, ev.outcome], ['finished', 'failure']);
    assert.equal(ev.time, '2021-08-05T10:38:16.000Z'); // completed_at
    assert.equal(ev.props['startedAt'], '2021-08-05T10:34:58Z');
    assert.equal(ev.props['workflow'], 'CodeQL');
    const job = entity(ev, 'Build', 'github.com/codertocat/hello-world/actions/jobs/run/289782451');
    assert.deepEqual(job.aliases, ['github.com/codertocat/hello-world/checks/run/289782451']);
    assert.equal(job.props['name'], 'linters');
  });

  it('reads a successful job', () => {
    const ev = parse('github', 'workflow-job.completed-success.json', 'workflow_job');
    assert.deepEqual([ev.phase, ev.outcome], ['finished', 'success']);
  });

  it('reads a completed check suite as a build of its head commit', () => {
    const ev = parse('github', 'check-suite.completed.json', 'check_suite');
    assert.deepEqual([ev.stage, ev.phase, ev.outcome], ['build', 'finished', 'success']);
    related(
      ev,
      'github.com/codertocat/hello-world/checks/suites/run/118578147',
      'BUILT',
      'github.com/codertocat/hello-world@ec26c3e57ca3a959ca5aad62de7213c562f8c821',
    );
  });

  it('reads a failed check run with its suite', () => {
    const ev = parse('github', 'check-run.completed.json', 'check_run');
    assert.deepEqual([ev.phase, ev.outcome], ['finished', 'failure']);
    about(ev, 'check', 'Build', 'github.com/codertocat/hello-world/checks/run/128620228');
    assert.equal(
      entity(ev, 'Build', 'github.com/codertocat/hello-world/checks/run/128620228').props['suite'],
      'github.com/codertocat/hello-world/checks/suites/run/118578147',
    );
    about(ev, 'head', 'Commit', 'github.com/codertocat/hello-world@ec26c3e57ca3a959ca5aad62de7213c562f8c821');
  });

  it('reads a commit status as the build of that commit in its context', () => {
    const ev = parse('github', 'status.success.json', 'status');
    assert.deepEqual([ev.stage, ev.phase, ev.outcome], ['build', 'finished', 'success']);
    const c = 'github.com/codertocat/hello-world@6113728f27ae82c7b1a177c8d03f9e96e0adf246';
    related(ev, 'github.com/codertocat/hello-world/statuses/run/default@6113728f27ae82c7b1a177c8d03f9e96e0adf246', 'BUILT', c);
  });

  it('keys a status whose target is a Jenkins build by that build', () => {
    const body = { ...samples['github']!['status.success.json']!, state: 'failure', target_url: 'https://ci.example.com/job/app/12/' };
    const ev = single(parseMessage(message('github', body, { headers: { 'x-not-event': 'status' } })));
    assert.equal(ev.outcome, 'failure');
    about(ev, 'status', 'Build', 'ci.example.com/app#12');
  });
});

describe('GitHub deployments, releases, tags, packages and issues', () => {
  const hw = 'github.com/codertocat/hello-world';

  it('reads a deployment to an environment of a commit', () => {
    const ev = parse('github', 'deployment.created.json', 'deployment');
    assert.deepEqual([ev.stage, ev.phase], ['deployment', 'triggered']);
    about(ev, 'environment', 'Environment', 'production');
    about(ev, 'deployed', 'Commit', `${hw}@f95f852bd8fca8fcc58a9a2d6c842781e32a215e`);
    assert.equal(ev.props['ref'], 'master');
    assert.equal(ev.time, '2019-05-15T15:20:53.000Z');
  });

  it('reads a successful deployment status as a finished deployment', () => {
    const ev = parse('github', 'deployment-status.success.json', 'deployment_status');
    assert.deepEqual([ev.stage, ev.phase, ev.outcome], ['deployment', 'finished', 'success']);
    about(ev, 'environment', 'Environment', 'production');
    about(ev, 'deployed', 'Commit', `${hw}@f95f852bd8fca8fcc58a9a2d6c842781e32a215e`);
  });

  it('reads an in-progress deployment status as started, and a failed or errored one as failed', () => {
    const ev = parse('github', 'deployment-status.in-progress.json', 'deployment_status');
    assert.deepEqual([ev.phase, ev.outcome], ['started', undefined]);
    about(ev, 'environment', 'Environment', 'github-pages');
    const body = samples['github']!['deployment-status.success.json'] as { deployment_status: Record<string, unknown> };
    for (const state of ['failure', 'error'] as const) {
      const failed = { ...body, deployment_status: { ...body.deployment_status, state } };
      const e = single(parseMessage(message('github', failed, { headers: { 'x-not-event': 'deployment_status' } })));
      assert.deepEqual([e.phase, e.outcome], ['finished', state]);
    }
  });

  it('reads a published release as the release of its tag', () => {
    const ev = parse('github', 'release.published.json', 'release');
    assert.deepEqual([ev.stage, ev.phase], ['release', 'created']);
    about(ev, 'release', 'Release', `${hw}@0.0.1`);
    assert.equal(ev.props['target'], 'master'); // a branch, so no commit is named
    assert.equal(ev.time, '2019-05-15T15:20:53.000Z'); // published_at
  });

  it('reads the creation and deletion of a tag', () => {
    const created = parse('github', 'create.tag.json', 'create');
    assert.deepEqual([created.type, created.stage, created.phase], ['create.tag', 'release', 'created']);
    about(created, 'release', 'Release', `${hw}@simple-tag`);
    const deleted = parse('github', 'delete.tag.json', 'delete');
    assert.deepEqual([deleted.type, deleted.phase], ['delete.tag', 'deleted']);
    about(deleted, 'release', 'Release', `${hw}@simple-tag`);
  });

  it('reads an npm package with its purl, file digest, integrity and source commit', () => {
    const ev = parse('github', 'package.published.json', 'package');
    assert.deepEqual([ev.stage, ev.phase], ['publication', 'created']);
    const key = 'sha256:ba703915435b6ca2ca666b5d8332db34bf9dc37a198ed70d3a5fa5d08b8415c8';
    about(ev, 'published', 'Artifact', key);
    const a = entity(ev, 'Artifact', key);
    assert.ok(a.aliases?.includes('purl:pkg:npm/%40codertocat/hello-world-npm@1.0.0'));
    assert.ok(a.aliases?.includes('sha1:a413c56a12997ca1b56715ebe81d8c6e0ffe6abb'));
    // dist.integrity sha512-CcChRwjJk+… in hex
    assert.ok(a.aliases?.some((x) => x.startsWith('sha512:09c0a14708c993ea')));
    about(ev, 'source', 'Commit', 'github.com/codertocat/hello-world-npm@6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b');
  });

  it('reads a container registry package by its digest, not mistaking the digest for a commit', () => {
    const ev = parse('github', 'registry-package.published-container.json', 'registry_package');
    const key = 'sha256:3da1996a8115d7616457760d9920b815241d0a03b34cf5f04e9a0e9d8de37498';
    about(ev, 'published', 'Artifact', key);
    assert.match(String(ev.props['purl']), /^pkg:oci\/hello-world-npm@sha256%3A3da1996a/);
    assert.equal(
      ev.entities.some((e) => e.label === 'Commit'),
      false,
    );
  });

  it('reads opened and labeled issues as the work item <repository>#<number>', () => {
    const opened = parse('github', 'issues.opened.json', 'issues');
    assert.deepEqual([opened.stage, opened.phase], ['work-item', 'created']);
    about(opened, 'work-item', 'WorkItem', `${hw}#1`);
    assert.equal(opened.time, '2019-05-15T15:20:18.000Z');
    const labeled = parse('github', 'issues.labeled.json', 'issues');
    assert.deepEqual([labeled.phase, labeled.props['label']], ['modified', 'bug']);
    about(labeled, 'work-item', 'WorkItem', `${hw}#1`);
  });

  it('keeps an event kind it does not model, with the repository, commit and ref it names, marked unmodelled', () => {
    const body = {
      action: 'created',
      ref: 'refs/heads/main',
      after: 'c'.repeat(40),
      repository: { clone_url: 'https://github.com/acme/app.git' },
    };
    const ev = single(parseMessage(message('github', body, { headers: { 'x-not-event': 'merge_group' } })));
    assert.deepEqual([ev.type, ev.stage, ev.props['unmodelled'], ev.props['ref']], ['merge_group', 'other', true, 'refs/heads/main']);
    about(ev, 'repository', 'Repository', 'github.com/acme/app');
    about(ev, 'mentioned', 'Commit', `github.com/acme/app@${'c'.repeat(40)}`);
  });

  it('keeps a pull request review (not modelled) with the pull request and head commit it names', () => {
    // pull-request-closed-merged.json under the kind pull_request_review: acme/app pull request 42, head sha 0d1a26e6…
    const ev = parse('github', 'pull-request-closed-merged.json', 'pull_request_review');
    assert.deepEqual([ev.type, ev.stage, ev.props['unmodelled']], ['pull_request_review', 'other', true]);
    const repo = 'github.com/acme/app';
    about(ev, 'repository', 'Repository', repo);
    about(ev, 'change', 'Change', `${repo}!42`);
    about(ev, 'mentioned', 'Commit', `${repo}@0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c`);
  });

  it('rejects a modelled event missing what identifies it, naming the field', () => {
    const body = { ...samples['github']!['workflow-run.completed.json']!, workflow_run: { status: 'completed' } };
    const r = parseMessage(message('github', body, { headers: { 'x-not-event': 'workflow_run' } }));
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.rejection.field, 'workflow_run.id');
  });
});

describe('GitLab pipeline, job, deployment, release, tag push, issue, note and system hooks', () => {
  it('reads a pipeline as a build of its commit with its jobs', () => {
    const ev = parse('gitlab', 'pipeline.json');
    const repo = '192.168.64.1/gitlab-org/gitlab-test';
    const c = `${repo}@bcbb5ec396a2c0f828686f14fac9b80b780504f2`;
    assert.deepEqual([ev.stage, ev.phase, ev.outcome], ['build', 'finished', 'success']);
    assert.equal(ev.time, '2016-08-12T15:26:29.000Z'); // finished_at "2016-08-12 15:26:29 UTC"
    related(ev, `${repo}/pipelines/run/31`, 'BUILT', c);
    for (const job of [376, 377, 378, 379, 380]) related(ev, `${repo}/jobs/run/${job}`, 'BUILT', c);
  });

  it('reads a job hook as a build of its commit within its pipeline, with its times', () => {
    const ev = parse('gitlab', 'job.json');
    const repo = 'gitlab.com/jsmithy2/release-tools-fake';
    assert.deepEqual([ev.stage, ev.phase, ev.outcome], ['build', 'finished', 'success']);
    assert.equal(ev.time, '2023-01-10T13:50:54.000Z');
    assert.equal(ev.props['startedAt'], '2023-01-10 13:50:05 UTC');
    related(ev, `${repo}/jobs/run/3580121225`, 'BUILT', `${repo}@95d49d1efbd941908580e79d65e4b5ecaf4a8305`);
    assert.equal(entity(ev, 'Build', `${repo}/jobs/run/3580121225`).props['pipeline'], `${repo}/pipelines/run/743121198`);
  });

  it('reads a deployment hook with the full sha from commit_url and the environment', () => {
    const ev = parse('gitlab', 'deployment.json');
    const repo = '10.126.0.2/root/test-deployment-webhooks';
    assert.deepEqual([ev.stage, ev.phase, ev.outcome], ['deployment', 'finished', 'success']);
    assert.equal(ev.time, '2021-04-28T19:50:00.000Z'); // "2021-04-28 21:50:00 +0200"
    about(ev, 'environment', 'Environment', 'staging');
    about(ev, 'deployed', 'Commit', `${repo}@279484c09fbe69ededfced8c1bb6e6d24616b468`);
    assert.equal(ev.props['job'], `${repo}/jobs/run/796`);
  });

  it('reads a failed deployment as failed', () => {
    const ev = single(parseMessage(message('gitlab', { ...samples['gitlab']!['deployment.json']!, status: 'failed' })));
    assert.deepEqual([ev.phase, ev.outcome], ['finished', 'failure']);
  });

  it('reads a release hook as the release of its tag containing its commit', () => {
    const ev = parse('gitlab', 'release.json');
    const repo = 'example.com/exm-namespace/example-project';
    assert.deepEqual([ev.stage, ev.phase], ['release', 'created']);
    related(ev, `${repo}@1.0.0`, 'CONTAINS', `${repo}@2626dbdb936782b5c54816b1c6d45b1279303c6d`);
    assert.equal(ev.time, '2021-02-25T21:23:34.000Z');
  });

  it('reads a tag push as the tag naming its checkout commit', () => {
    const ev = parse('gitlab', 'tag-push.json');
    related(ev, 'example.com/jsmith/example@v1.0.0', 'CONTAINS', 'example.com/jsmith/example@82b3d5ae55f7080f1e6022629cdb57bfae7cccc7');
  });

  it('reads an issue hook as the work item <project>#<iid>', () => {
    const ev = parse('gitlab', 'issue.json');
    assert.deepEqual([ev.stage, ev.phase], ['work-item', 'created']);
    about(ev, 'work-item', 'WorkItem', 'example.com/gitlabhq/gitlab-test#23');
  });

  it('reads notes on a commit, a merge request and an issue', () => {
    about(
      parse('gitlab', 'note-commit.json'),
      'commented',
      'Commit',
      'example.com/gitlabhq/gitlab-test@cfe32cf61b73a0d5e9f13e774abde7ff789b1660',
    );
    about(parse('gitlab', 'note-merge-request.json'), 'commented', 'Change', 'example.com/gitlab-org/gitlab-test!1');
    about(parse('gitlab', 'note-issue.json'), 'work-item', 'WorkItem', 'example.com/gitlab-org/gitlab-test#17');
  });

  it('reads system hooks (event_name): push, tag push, repository update, merge request', () => {
    const push = parse('gitlab', 'system-push.json');
    assert.equal(push.stage, 'commit');
    about(push, 'head', 'Commit', 'example.com/mike/diaspora@da1560886d4f094c3e6c9ef40349f7d38b5d27d7');
    const tag = parse('gitlab', 'system-tag-push.json');
    related(tag, 'example.com/jsmith/example@v1.0.0', 'CONTAINS', 'example.com/jsmith/example@5937ac0a7beb003549fc5fd26fc247adbce4a52e');
    const update = parse('gitlab', 'system-repository-update.json');
    about(update, 'head', 'Commit', 'example.com/jsmith/example@4045ea7a3df38697b3730a20fb73c8bed8a3e69e');
    assert.deepEqual(update.props['refs'], ['refs/heads/master']);
    about(parse('gitlab', 'system-merge-request.json'), 'change', 'Change', 'example.com/jsmith/example!1');
  });

  it('keeps system and project hooks it does not model as generic events, never rejecting them', () => {
    const created = parse('gitlab', 'system-project-create.json');
    assert.deepEqual([created.type, created.stage, created.props['unmodelled']], ['project_create', 'other', true]);
    const flag = parse('gitlab', 'feature-flag.json');
    assert.deepEqual([flag.type, flag.props['unmodelled']], ['feature_flag', true]);
    about(flag, 'repository', 'Repository', 'example.com/gitlabhq/gitlab-test');
  });

  it('rejects a hook with neither object_kind nor event_name, and a pipeline without its id, naming the field', () => {
    const r = parseMessage(message('gitlab', { project: {} }));
    assert.equal(!r.ok && r.rejection.field, 'object_kind');
    const p = samples['gitlab']!['pipeline.json'] as { object_attributes: Record<string, unknown> };
    const { id: _id, ...attrs } = p.object_attributes;
    const r2 = parseMessage(message('gitlab', { ...p, object_attributes: attrs }));
    assert.equal(!r2.ok && r2.rejection.field, 'object_attributes.id');
  });
});

describe('Gitea create, delete, release, issues and Actions', () => {
  const repo = 'gitea.gbg.example.org/platform/lib';
  const sha = 'bffeb74224043ba2feb48d137756c8a9331c449a';

  it('reads a tag creation with the commit Gitea names', () => {
    const ev = parse('gitea', 'create.tag.json', 'create');
    related(ev, `${repo}@v1.4.0`, 'CONTAINS', `${repo}@${sha}`);
  });

  it('reads a branch deletion', () => {
    const ev = parse('gitea', 'delete.branch.json', 'delete');
    assert.deepEqual([ev.type, ev.stage, ev.phase, ev.props['branch']], ['delete.branch', 'commit', 'deleted', 'feature/LIB-9']);
  });

  it('reads a published release', () => {
    const ev = parse('gitea', 'release.published.json', 'release');
    about(ev, 'release', 'Release', `${repo}@v1.4.0`);
    assert.equal(ev.time, '2024-05-03T08:10:00.000Z');
  });

  it('reads a closed issue as the finished work item', () => {
    const ev = parse('gitea', 'issues.closed.json', 'issues');
    assert.deepEqual([ev.stage, ev.phase], ['work-item', 'finished']);
    about(ev, 'work-item', 'WorkItem', `${repo}#12`);
    assert.equal(ev.time, '2024-05-03T08:00:00.000Z');
  });

  it('keeps a Gitea event kind it does not model through the same path as GitHub, with the repository, commit and ref', () => {
    // push.json under a kind Gitea sends and the project does not model: ref refs/heads/develop, after bffeb742…
    const ev = parse('gitea', 'push.json', 'fork');
    assert.deepEqual([ev.type, ev.stage, ev.props['unmodelled'], ev.props['ref']], ['fork', 'other', true, 'refs/heads/develop']);
    about(ev, 'repository', 'Repository', repo);
    about(ev, 'mentioned', 'Commit', `${repo}@${sha}`);
  });

  it('reads Gitea Actions runs and jobs', () => {
    const run = parse('gitea', 'workflow-run.completed.json', 'workflow_run');
    assert.deepEqual([run.phase, run.outcome, run.time], ['finished', 'success', '2024-05-03T07:44:12.000Z']);
    related(run, `${repo}/actions/run/1204`, 'BUILT', `${repo}@${sha}`);
    const job = parse('gitea', 'workflow-job.completed.json', 'workflow_job');
    assert.deepEqual([job.phase, job.outcome, job.time], ['finished', 'success', '2024-05-03T07:44:10.000Z']);
    assert.equal(entity(job, 'Build', `${repo}/actions/jobs/run/2891`).props['run'], `${repo}/actions/run/1204`);
    related(job, `${repo}/actions/jobs/run/2891`, 'BUILT', `${repo}@${sha}`);
  });
});
