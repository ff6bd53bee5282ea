/**
 * GitLab hooks beyond push and merge request: Pipeline, Job, Deployment, Release, Issue and Note hooks,
 * and the system hook `repository_update`.
 */
import { EventBuilder, repo, type ParseContext } from '../context.js';
import { changeKey, runKey } from '../keys.js';
import { asObject, optArray, optId, optObject, optString, reqArray, reqId, reqObject, reqString, type JsonObject } from '../json.js';
import type { Phase, Stage, TraceEvent } from '../model.js';
import { addDeployment, addIssue, addTag, builtFrom, ciOutcome, commitIf, firstTime, issuePhase } from './delivery.js';

const GITLAB_EVENTS = ['pipeline', 'build', 'deployment', 'release', 'issue', 'work_item', 'note', 'repository_update'] as const;
export type GitlabEvent = (typeof GITLAB_EVENTS)[number];

export function isGitlabEvent(kind: string): kind is GitlabEvent {
  return (GITLAB_EVENTS as readonly string[]).includes(kind);
}

export function parseGitlabEvent(ctx: ParseContext, o: JsonObject, id: string, kind: GitlabEvent, projectUrl: string): TraceEvent {
  const repository = repo(ctx, projectUrl);
  switch (kind) {
    case 'pipeline':
      return pipeline(ctx, o, id, repository);
    case 'build':
      return job(ctx, o, id, repository);
    case 'deployment':
      return deployment(ctx, o, id, repository);
    case 'release':
      return release(ctx, o, id, repository);
    case 'issue':
    case 'work_item':
      return issue(ctx, o, id, repository, kind);
    case 'note':
      return note(ctx, o, id, repository);
    case 'repository_update':
      return repositoryUpdate(ctx, o, id, repository);
  }
}

/** GitLab's pipeline and job statuses as a phase. */
function statusPhase(status: string | undefined): Phase {
  switch (status) {
    case 'running':
      return 'started';
    case 'success':
    case 'failed':
    case 'canceled':
    case 'skipped':
      return 'finished';
    default:
      // created, waiting_for_resource, preparing, pending, scheduled, manual
      return 'queued';
  }
}

const pipelineKey = (repository: string, id: string): string => runKey(`${repository}/pipelines`, id);
const jobKey = (repository: string, id: string): string => runKey(`${repository}/jobs`, id);

function pipeline(ctx: ParseContext, o: JsonObject, id: string, repository: string): TraceEvent {
  const ap = 'object_attributes';
  const a = reqObject(o, ap, '');
  const pipelineId = reqId(a, 'id', ap);
  const sha = optString(a, 'sha', ap);
  const status = optString(a, 'status', ap);
  const b = new EventBuilder();
  const build = b.entity('Build', pipelineKey(repository, pipelineId), {
    name: optString(a, 'name', ap) ?? `pipeline ${optId(a, 'iid', ap) ?? pipelineId}`,
    url: optString(a, 'url', ap),
    number: optId(a, 'iid', ap),
  });
  b.concerns(build, 'run');
  const commit = builtFrom(ctx, b, build, repository, sha);
  // The jobs of the pipeline, each a build of the same commit.
  optArray(o, 'builds', '').forEach((j, i) => {
    const jp = `builds[${i}]`;
    const jo = asObject(j, jp);
    const ref = b.entity('Build', jobKey(repository, reqId(jo, 'id', jp)), {
      name: optString(jo, 'name', jp),
      stage: optString(jo, 'stage', jp),
      pipeline: build.key,
    });
    // Not `about`: the pipeline's times are not the job's (its own Job Hook events say those).
    if (commit) b.relate(ref, 'BUILT', commit);
  });
  const phase = statusPhase(status);
  return b.build(ctx, {
    id,
    type: `pipeline.${status ?? 'unknown'}`,
    stage: 'build',
    phase,
    outcome: phase === 'finished' ? ciOutcome(status) : undefined,
    time: phase === 'finished' ? firstTime(ctx, a, ap, 'finished_at', 'created_at') : firstTime(ctx, a, ap, 'created_at'),
    props: {
      pipelineId,
      iid: optId(a, 'iid', ap),
      status,
      ref: optString(a, 'ref', ap),
      tag: a['tag'] === true,
      sha,
      source: optString(a, 'source', ap),
      createdAt: optString(a, 'created_at', ap),
      finishedAt: optString(a, 'finished_at', ap),
      duration: optId(a, 'duration', ap),
      queuedDuration: optId(a, 'queued_duration', ap),
    },
  });
}

/** A Job Hook (`object_kind: build`). */
function job(ctx: ParseContext, o: JsonObject, id: string, repository: string): TraceEvent {
  const jobId = reqId(o, 'build_id', '');
  const pipelineId = optId(o, 'pipeline_id', '');
  const sha = optString(o, 'sha', '');
  const status = optString(o, 'build_status', '');
  const b = new EventBuilder();
  const build = b.entity('Build', jobKey(repository, jobId), {
    name: optString(o, 'build_name', ''),
    stage: optString(o, 'build_stage', ''),
    pipeline: pipelineId ? pipelineKey(repository, pipelineId) : undefined,
  });
  b.concerns(build, 'job');
  builtFrom(ctx, b, build, repository, sha);
  const phase = statusPhase(status);
  const time =
    phase === 'finished'
      ? firstTime(ctx, o, '', 'build_finished_at', 'build_started_at', 'build_created_at')
      : phase === 'started'
        ? firstTime(ctx, o, '', 'build_started_at', 'build_created_at')
        : firstTime(ctx, o, '', 'build_created_at');
  return b.build(ctx, {
    id,
    type: `build.${status ?? 'unknown'}`,
    stage: 'build',
    phase,
    outcome: phase === 'finished' ? ciOutcome(status) : undefined,
    time,
    props: {
      jobId,
      pipelineId,
      name: optString(o, 'build_name', ''),
      jobStage: optString(o, 'build_stage', ''),
      status,
      ref: optString(o, 'ref', ''),
      sha,
      failureReason: status === 'failed' ? optString(o, 'build_failure_reason', '') : undefined,
      createdAt: optString(o, 'build_created_at', ''),
      startedAt: optString(o, 'build_started_at', ''),
      finishedAt: optString(o, 'build_finished_at', ''),
    },
  });
}

const DEPLOYMENT_STATUS: Readonly<Record<string, Phase>> = {
  created: 'queued',
  blocked: 'queued',
  running: 'started',
  success: 'finished',
  failed: 'finished',
  canceled: 'finished',
};

/** A Deployment Hook: the full sha is the last segment of `commit_url` (the hook carries only `short_sha`). */
function deployment(ctx: ParseContext, o: JsonObject, id: string, repository: string): TraceEvent {
  const status = reqString(o, 'status', '');
  const environment = reqString(o, 'environment', '');
  const commitUrl = optString(o, 'commit_url', '');
  const sha = commitUrl ? /\/commit\/([0-9a-f]{40}|[0-9a-f]{64})\/?$/i.exec(commitUrl)?.[1] : undefined;
  const b = new EventBuilder();
  addDeployment(ctx, b, repository, environment, sha);
  const deployable = optId(o, 'deployable_id', '');
  const phase = DEPLOYMENT_STATUS[status] ?? 'modified';
  return b.build(ctx, {
    id,
    type: `deployment.${status}`,
    stage: 'deployment',
    phase,
    outcome: phase === 'finished' ? ciOutcome(status) : undefined,
    time: firstTime(ctx, o, '', 'status_changed_at'),
    props: {
      status,
      deploymentId: reqId(o, 'deployment_id', ''),
      environment,
      sha: sha ?? optString(o, 'short_sha', ''),
      ref: optString(o, 'ref', ''),
      url: optString(o, 'environment_external_url', ''),
      deployableUrl: optString(o, 'deployable_url', ''),
      job: deployable ? jobKey(repository, deployable) : undefined,
    },
  });
}

function release(ctx: ParseContext, o: JsonObject, id: string, repository: string): TraceEvent {
  const tag = reqString(o, 'tag', '');
  const action = optString(o, 'action', '') ?? 'create';
  const commit = optObject(o, 'commit', '');
  const sha = commit ? optString(commit, 'id', 'commit') : undefined;
  const b = new EventBuilder();
  addTag(ctx, b, repository, tag, sha, { name: optString(o, 'name', ''), url: optString(o, 'url', '') });
  return b.build(ctx, {
    id,
    type: `release.${action}`,
    stage: 'release',
    phase: action === 'delete' ? 'deleted' : action === 'update' ? 'modified' : 'created',
    time: firstTime(ctx, o, '', action === 'create' ? 'released_at' : 'updated_at', 'released_at', 'created_at'),
    props: { action, tag, name: optString(o, 'name', ''), sha, releaseId: optId(o, 'id', '') },
  });
}

/** Issue Hook (`issue`, and `work_item` for newer work item types). */
function issue(ctx: ParseContext, o: JsonObject, id: string, repository: string, kind: string): TraceEvent {
  const ap = 'object_attributes';
  const a = reqObject(o, ap, '');
  const number = reqId(a, 'iid', ap);
  const action = optString(a, 'action', ap) ?? 'update';
  const title = optString(a, 'title', ap);
  const b = new EventBuilder();
  addIssue(ctx, b, repository, number, { title, state: optString(a, 'state', ap), url: optString(a, 'url', ap) }, title);
  const phase = issuePhase(action);
  return b.build(ctx, {
    id,
    type: `${kind}.${action}`,
    stage: 'work-item',
    phase,
    time:
      phase === 'created' && action === 'open'
        ? firstTime(ctx, a, ap, 'created_at')
        : phase === 'finished'
          ? firstTime(ctx, a, ap, 'closed_at', 'updated_at')
          : firstTime(ctx, a, ap, 'updated_at', 'created_at'),
    props: { action, number, title, state: optString(a, 'state', ap) },
  });
}

/** Note Hook: a comment on a commit, a merge request, an issue or a snippet. */
function note(ctx: ParseContext, o: JsonObject, id: string, repository: string): TraceEvent {
  const ap = 'object_attributes';
  const a = reqObject(o, ap, '');
  const on = reqString(a, 'noteable_type', ap);
  const b = new EventBuilder();
  let stage: Stage = 'other';
  if (on === 'Commit') {
    const c = optObject(o, 'commit', '');
    const commit = commitIf(ctx, b, repository, optString(a, 'commit_id', ap) || (c ? optString(c, 'id', 'commit') : undefined));
    if (commit) b.concerns(commit, 'commented');
    stage = 'review';
  } else if (on === 'MergeRequest') {
    const mr = reqObject(o, 'merge_request', '');
    const change = b.entity('Change', changeKey(repository, reqId(mr, 'iid', 'merge_request')), {});
    b.relate(change, 'IN_REPOSITORY', b.entity('Repository', repository, {}));
    b.concerns(change, 'commented');
    stage = 'review';
  } else if (on === 'Issue') {
    const is = reqObject(o, 'issue', '');
    addIssue(ctx, b, repository, reqId(is, 'iid', 'issue'), { title: optString(is, 'title', 'issue') });
    stage = 'work-item';
  } else {
    b.concerns(b.entity('Repository', repository, {}), 'repository');
  }
  return b.build(ctx, {
    id,
    type: `note.${on}`,
    stage,
    phase: 'modified',
    time: firstTime(ctx, a, ap, 'created_at', 'updated_at'),
    props: { noteableType: on, noteId: optId(a, 'id', ap), url: optString(a, 'url', ap), action: optString(a, 'action', ap) },
  });
}

/** System hook `repository_update`: the refs a push changed, each with its new commit. */
function repositoryUpdate(ctx: ParseContext, o: JsonObject, id: string, repository: string): TraceEvent {
  const b = new EventBuilder();
  b.concerns(b.entity('Repository', repository, {}), 'pushed-to');
  const refs: string[] = [];
  reqArray(o, 'changes', '').forEach((c, i) => {
    const cp = `changes[${i}]`;
    const co = asObject(c, cp);
    const ref = reqString(co, 'ref', cp);
    refs.push(ref);
    const after = optString(co, 'after', cp);
    const commit = commitIf(ctx, b, repository, after);
    if (commit) b.concerns(commit, 'head');
    if (ref.startsWith('refs/tags/') && commit) addTag(ctx, b, repository, ref.slice('refs/tags/'.length), after);
  });
  return b.build(ctx, {
    id,
    type: 'repository_update',
    stage: 'commit',
    phase: 'modified',
    time: firstTime(ctx, o, ''),
    props: { refs, pusher: optString(o, 'user_name', '') },
  });
}
