/**
 * GitHub and Gitea events beyond push and pull request: Actions runs and jobs, check suites and runs,
 * commit statuses, deployments, releases, tag and branch creation / deletion, packages and issues.
 * Gitea sends the same shapes (its Actions `workflow_run` / `workflow_job` from 1.24 on).
 */
import { EventBuilder, fallbackTime, repo, type ParseContext } from '../context.js';
import { digestFromIntegrity, hexDigest } from '../artifact-ids.js';
import { addArtifact } from '../artifacts/artifact-event.js';
import { buildKey, jenkinsBuildFromUrl, npmPurl, runKey } from '../keys.js';
import { asObject, isObject, optArray, optId, optObject, optString, reqId, reqObject, reqString, type JsonObject } from '../json.js';
import type { Outcome, Phase, Stage, TraceEvent } from '../model.js';
import { addDeployment, addIssue, addTag, builtFrom, ciOutcome, commitIf, firstTime, issuePhase } from './delivery.js';

export type Host = 'github' | 'gitea';

/** The events this file reads, by their `X-GitHub-Event` / `X-Gitea-Event` name. */
const HUB_EVENTS = [
  'workflow_run',
  'workflow_job',
  'check_suite',
  'check_run',
  'status',
  'deployment',
  'deployment_status',
  'release',
  'create',
  'delete',
  'package',
  'registry_package',
  'issues',
] as const;
export type HubEvent = (typeof HUB_EVENTS)[number];

export function isHubEvent(name: string): name is HubEvent {
  return (HUB_EVENTS as readonly string[]).includes(name);
}

interface Hub {
  readonly ctx: ParseContext;
  readonly o: JsonObject;
  readonly id: string;
  readonly host: Host;
  /** Normalised repository key. */
  readonly repository: string;
}

export function parseHubEvent(ctx: ParseContext, o: JsonObject, id: string, host: Host, name: HubEvent, repositoryUrl: string): TraceEvent {
  const h: Hub = { ctx, o, id, host, repository: repo(ctx, repositoryUrl) };
  switch (name) {
    case 'workflow_run':
      return workflowRun(h);
    case 'workflow_job':
      return workflowJob(h);
    case 'check_suite':
      return checkSuite(h);
    case 'check_run':
      return checkRun(h);
    case 'status':
      return status(h);
    case 'deployment':
      return deployment(h);
    case 'deployment_status':
      return deploymentStatus(h);
    case 'release':
      return release(h);
    case 'create':
    case 'delete':
      return refEvent(h, name);
    case 'package':
    case 'registry_package':
      return packageEvent(h, name);
    case 'issues':
      return issues(h);
  }
}

/** `queued` / `waiting` / `requested` → queued, `in_progress` → started, `completed` → finished. */
function runPhase(status: string | undefined, action: string): Phase {
  if (action === 'completed' || status === 'completed') return 'finished';
  if (action === 'in_progress' || status === 'in_progress') return 'started';
  return 'queued';
}

function actionsRun(repository: string, runId: string): string {
  return runKey(`${repository}/actions`, runId);
}

/** `<repo>/actions/workflows/<workflow name>/run/<run number>`: ranks after the run id key, so that stays the key. */
function actionsWorkflowRun(repository: string, workflow: string, runNumber: string): string {
  return runKey(`${repository}/actions/workflows/${workflow}`, runNumber);
}

function workflowRun({ ctx, o, id, host, repository }: Hub): TraceEvent {
  const action = reqString(o, 'action', '');
  const p = 'workflow_run';
  const r = reqObject(o, p, '');
  const runId = reqId(r, 'id', p);
  const path = optString(r, 'path', p);
  const name = optString(r, 'name', p) || optString(r, 'display_title', p) || path;
  const suite = host === 'github' ? optId(r, 'check_suite_id', p) : undefined;
  const runNumber = optId(r, 'run_number', p);
  // `github.workflow` in the run: the workflow's name, or its file's path when it has none.
  const workflow = optString(r, 'name', p) || path;
  const b = new EventBuilder();
  const build = b.entity(
    'Build',
    actionsRun(repository, runId),
    { name, url: optString(r, 'html_url', p), workflow: path, runNumber, trigger: optString(r, 'event', p) },
    [
      ...(suite ? [runKey(`${repository}/checks/suites`, suite)] : []),
      // What other tools know the run by: the workflow's name and run number (a JFrog build-info's name and number).
      ...(workflow && runNumber ? [actionsWorkflowRun(repository, workflow, runNumber)] : []),
    ],
  );
  b.concerns(build, 'run');
  const headSha = optString(r, 'head_sha', p);
  builtFrom(ctx, b, build, repository, headSha);
  const status = optString(r, 'status', p);
  const conclusion = optString(r, 'conclusion', p);
  const phase = runPhase(status, action);
  const time =
    phase === 'finished'
      ? firstTime(ctx, r, p, 'completed_at', 'updated_at')
      : phase === 'started'
        ? firstTime(ctx, r, p, 'run_started_at', 'started_at', 'updated_at')
        : firstTime(ctx, r, p, 'created_at');
  return b.build(ctx, {
    id,
    type: `workflow_run.${action}`,
    stage: 'build',
    phase,
    outcome: phase === 'finished' ? ciOutcome(conclusion) : undefined,
    time,
    props: {
      action,
      name,
      runId,
      runNumber: optId(r, 'run_number', p),
      runAttempt: optId(r, 'run_attempt', p),
      status,
      conclusion,
      headSha,
      headBranch: optString(r, 'head_branch', p),
      queuedAt: optString(r, 'created_at', p),
      startedAt: optString(r, 'run_started_at', p) ?? optString(r, 'started_at', p),
    },
  });
}

function workflowJob({ ctx, o, id, host, repository }: Hub): TraceEvent {
  const action = reqString(o, 'action', '');
  const p = 'workflow_job';
  const j = reqObject(o, p, '');
  const jobId = reqId(j, 'id', p);
  const runId = reqId(j, 'run_id', p);
  const name = optString(j, 'name', p);
  const b = new EventBuilder();
  // An Actions job is a check run of the same id on GitHub.
  const job = b.entity(
    'Build',
    runKey(`${repository}/actions/jobs`, jobId),
    { name, url: optString(j, 'html_url', p), workflow: optString(j, 'workflow_name', p), run: actionsRun(repository, runId) },
    host === 'github' ? [runKey(`${repository}/checks`, jobId)] : [],
  );
  // The run is named as a property only: an event about both would give the run the job's times.
  b.concerns(job, 'job');
  const headSha = optString(j, 'head_sha', p);
  builtFrom(ctx, b, job, repository, headSha);
  const status = optString(j, 'status', p);
  const conclusion = optString(j, 'conclusion', p);
  const phase = runPhase(status, action);
  const time =
    phase === 'finished'
      ? firstTime(ctx, j, p, 'completed_at', 'started_at', 'created_at')
      : phase === 'started'
        ? firstTime(ctx, j, p, 'started_at', 'created_at')
        : firstTime(ctx, j, p, 'created_at', 'started_at');
  return b.build(ctx, {
    id,
    type: `workflow_job.${action}`,
    stage: 'build',
    phase,
    outcome: phase === 'finished' ? ciOutcome(conclusion) : undefined,
    time,
    props: {
      action,
      name,
      jobId,
      runId,
      runAttempt: optId(j, 'run_attempt', p),
      workflow: optString(j, 'workflow_name', p),
      status,
      conclusion,
      headSha,
      headBranch: optString(j, 'head_branch', p),
      runner: optString(j, 'runner_name', p),
      queuedAt: optString(j, 'created_at', p),
      startedAt: optString(j, 'started_at', p),
      completedAt: optString(j, 'completed_at', p),
    },
  });
}

function checkSuite({ ctx, o, id, repository }: Hub): TraceEvent {
  const action = reqString(o, 'action', '');
  const p = 'check_suite';
  const s = reqObject(o, p, '');
  const suiteId = reqId(s, 'id', p);
  const app = optObject(s, 'app', p);
  const name = app ? optString(app, 'name', `${p}.app`) : undefined;
  const b = new EventBuilder();
  const build = b.entity('Build', runKey(`${repository}/checks/suites`, suiteId), { name });
  b.concerns(build, 'suite');
  const headSha = optString(s, 'head_sha', p);
  builtFrom(ctx, b, build, repository, headSha);
  const status = optString(s, 'status', p);
  const conclusion = optString(s, 'conclusion', p);
  const phase = runPhase(status, action);
  return b.build(ctx, {
    id,
    type: `check_suite.${action}`,
    stage: 'build',
    phase,
    outcome: phase === 'finished' ? ciOutcome(conclusion) : undefined,
    time: phase === 'finished' ? firstTime(ctx, s, p, 'updated_at', 'created_at') : firstTime(ctx, s, p, 'created_at', 'updated_at'),
    props: { action, name, suiteId, status, conclusion, headSha, headBranch: optString(s, 'head_branch', p) },
  });
}

function checkRun({ ctx, o, id, repository }: Hub): TraceEvent {
  const action = reqString(o, 'action', '');
  const p = 'check_run';
  const c = reqObject(o, p, '');
  const runId = reqId(c, 'id', p);
  const name = optString(c, 'name', p);
  const b = new EventBuilder();
  const suite = optObject(c, 'check_suite', p);
  const suiteId = suite ? optId(suite, 'id', `${p}.check_suite`) : undefined;
  const build = b.entity('Build', runKey(`${repository}/checks`, runId), {
    name,
    url: optString(c, 'html_url', p),
    suite: suiteId ? runKey(`${repository}/checks/suites`, suiteId) : undefined,
  });
  b.concerns(build, 'check');
  const headSha = optString(c, 'head_sha', p);
  builtFrom(ctx, b, build, repository, headSha);
  const status = optString(c, 'status', p);
  const conclusion = optString(c, 'conclusion', p);
  const phase = action === 'rerequested' || action === 'requested_action' ? 'queued' : runPhase(status, action);
  const time =
    phase === 'finished'
      ? firstTime(ctx, c, p, 'completed_at', 'started_at')
      : phase === 'started'
        ? firstTime(ctx, c, p, 'started_at')
        : fallbackTime(ctx);
  return b.build(ctx, {
    id,
    type: `check_run.${action}`,
    stage: 'build',
    phase,
    outcome: phase === 'finished' ? ciOutcome(conclusion) : undefined,
    time,
    props: { action, name, checkRunId: runId, suiteId, status, conclusion, headSha, startedAt: optString(c, 'started_at', p) },
  });
}

/** A commit status: the build it reports (a Jenkins build when `target_url` is one, else `<repository>/statuses/run/<context>@<sha>`). */
function status({ ctx, o, id, repository }: Hub): TraceEvent {
  const sha = reqString(o, 'sha', '');
  const state = reqString(o, 'state', '');
  const context = optString(o, 'context', '') ?? 'default';
  const targetUrl = optString(o, 'target_url', '');
  const jenkins = targetUrl ? jenkinsBuildFromUrl(targetUrl) : undefined;
  const b = new EventBuilder();
  const key = jenkins
    ? buildKey(jenkins.instance, jenkins.job, jenkins.number)
    : runKey(`${repository}/statuses`, `${context}@${sha.toLowerCase()}`);
  const build = b.entity('Build', key, { name: context, url: targetUrl });
  b.concerns(build, 'status');
  builtFrom(ctx, b, build, repository, sha);
  const finished = state !== 'pending';
  return b.build(ctx, {
    id,
    type: 'status',
    stage: 'build',
    phase: finished ? 'finished' : 'started',
    outcome: finished ? ciOutcome(state) : undefined,
    time: firstTime(ctx, o, '', 'updated_at', 'created_at'),
    props: { state, context, sha, description: optString(o, 'description', ''), targetUrl },
  });
}

function deployment({ ctx, o, id, repository }: Hub): TraceEvent {
  const p = 'deployment';
  const d = reqObject(o, p, '');
  const environment = optString(d, 'environment', p);
  const sha = optString(d, 'sha', p);
  const b = new EventBuilder();
  addDeployment(ctx, b, repository, environment, sha);
  return b.build(ctx, {
    id,
    type: `deployment.${optString(o, 'action', '') ?? 'created'}`,
    stage: 'deployment',
    phase: 'triggered',
    time: firstTime(ctx, d, p, 'created_at', 'updated_at'),
    props: {
      deploymentId: reqId(d, 'id', p),
      environment,
      sha,
      ref: optString(d, 'ref', p),
      task: optString(d, 'task', p),
      url: optString(d, 'url', p),
    },
  });
}

const DEPLOYMENT_STATE: Readonly<Record<string, { phase: Phase; outcome?: Outcome }>> = {
  pending: { phase: 'queued' },
  queued: { phase: 'queued' },
  in_progress: { phase: 'started' },
  success: { phase: 'finished', outcome: 'success' },
  failure: { phase: 'finished', outcome: 'failure' },
  error: { phase: 'finished', outcome: 'error' },
  inactive: { phase: 'modified' },
};

function deploymentStatus({ ctx, o, id, repository }: Hub): TraceEvent {
  const sp = 'deployment_status';
  const s = reqObject(o, sp, '');
  const d = reqObject(o, 'deployment', '');
  const state = reqString(s, 'state', sp);
  const environment = optString(s, 'environment', sp) ?? optString(d, 'environment', 'deployment');
  const sha = optString(d, 'sha', 'deployment');
  const b = new EventBuilder();
  addDeployment(ctx, b, repository, environment, sha);
  const { phase, outcome } = DEPLOYMENT_STATE[state] ?? { phase: 'modified' as Phase };
  return b.build(ctx, {
    id,
    type: `deployment_status.${state}`,
    stage: 'deployment',
    phase,
    outcome,
    time: firstTime(ctx, s, sp, 'updated_at', 'created_at'),
    props: {
      state,
      deploymentId: reqId(d, 'id', 'deployment'),
      environment,
      sha,
      ref: optString(d, 'ref', 'deployment'),
      targetUrl: optString(s, 'target_url', sp) ?? optString(s, 'log_url', sp),
    },
  });
}

function release({ ctx, o, id, repository }: Hub): TraceEvent {
  const action = reqString(o, 'action', '');
  const p = 'release';
  const r = reqObject(o, p, '');
  const tag = reqString(r, 'tag_name', p);
  const target = optString(r, 'target_commitish', p);
  const b = new EventBuilder();
  addTag(ctx, b, repository, tag, target, {
    name: optString(r, 'name', p),
    url: optString(r, 'html_url', p),
    draft: r['draft'] === true,
    prerelease: r['prerelease'] === true,
  });
  const phase: Phase =
    action === 'deleted' || action === 'unpublished' ? 'deleted' : action === 'edited' || action === 'updated' ? 'modified' : 'created';
  return b.build(ctx, {
    id,
    type: `release.${action}`,
    stage: 'release',
    phase,
    time: firstTime(ctx, r, p, 'published_at', 'created_at'),
    props: { action, tag, name: optString(r, 'name', p), target, releaseId: optId(r, 'id', p), draft: r['draft'] === true },
  });
}

/** `create` / `delete` of a tag or branch (Gitea's `create` also says the commit). */
function refEvent({ ctx, o, id, repository }: Hub, name: 'create' | 'delete'): TraceEvent {
  const ref = reqString(o, 'ref', '');
  const refType = reqString(o, 'ref_type', '');
  const sha = optString(o, 'sha', '');
  const b = new EventBuilder();
  b.concerns(b.entity('Repository', repository, {}), 'repository');
  const tag = refType === 'tag';
  if (tag) addTag(ctx, b, repository, ref, sha);
  else if (refType === 'branch') {
    const commit = commitIf(ctx, b, repository, sha);
    if (commit) b.concerns(commit, 'head');
  }
  const stage: Stage = tag ? 'release' : 'commit';
  return b.build(ctx, {
    id,
    type: `${name}.${refType}`,
    stage,
    phase: name === 'create' ? 'created' : 'deleted',
    time: fallbackTime(ctx),
    props: { ref, refType, sha, tag: tag ? ref : undefined, branch: refType === 'branch' ? ref : undefined },
  });
}

/** A published package: its purl (npm, container, else generic) and digests, and the commit it was built from. */
function packageEvent({ ctx, o, id, repository }: Hub, name: 'package' | 'registry_package'): TraceEvent {
  const action = reqString(o, 'action', '');
  const p = name;
  const pkg = reqObject(o, p, '');
  const vp = `${p}.package_version`;
  const v = reqObject(pkg, 'package_version', p);
  const pkgName = reqString(pkg, 'name', p);
  const type = (optString(pkg, 'package_type', p) ?? '').toLowerCase();
  const version = optString(v, 'version', vp) ?? reqString(v, 'name', vp);
  const digests: string[] = [];
  const addDigest = (d: string | undefined): void => {
    if (d && !digests.includes(d)) digests.push(d);
  };
  const registry = optObject(pkg, 'registry', p);
  // Container packages say so in `package_type` and are versioned by digest; `ecosystem` and the registry
  // type are read only when the package type says nothing more specific (GitHub's samples mix them).
  const hint = [optString(pkg, 'ecosystem', p), registry ? optString(registry, 'type', `${p}.registry`) : undefined];
  const container =
    ['container', 'docker'].includes(type) ||
    /^sha256:/i.test(version) ||
    (!['npm', 'maven', 'rubygems', 'nuget'].includes(type) && hint.some((h) => ['container', 'docker'].includes((h ?? '').toLowerCase())));
  let purl: string;
  if (container) {
    const meta = optObject(v, 'container_metadata', vp);
    const manifest = meta ? optObject(meta, 'manifest', `${vp}.container_metadata`) : undefined;
    const tagObj = meta ? optObject(meta, 'tag', `${vp}.container_metadata`) : undefined;
    for (const d of [
      manifest ? optString(manifest, 'digest', `${vp}.container_metadata.manifest`) : undefined,
      tagObj ? optString(tagObj, 'digest', `${vp}.container_metadata.tag`) : undefined,
      version,
    ]) {
      const m = d ? /^sha256:([0-9a-f]+)$/i.exec(d) : null;
      if (m) addDigest(hexDigest('sha256', m[1]));
    }
    const namespace = optString(pkg, 'namespace', p) ?? '';
    const at = digests[0] ? `sha256%3A${digests[0].slice('sha256:'.length)}` : encodeURIComponent(version);
    purl = `pkg:oci/${encodeURIComponent(pkgName.toLowerCase())}@${at}?repository_url=${encodeURIComponent(`ghcr.io/${namespace.toLowerCase()}`)}`;
  } else if (type === 'npm') {
    const manifest = manifestOf(v, vp);
    const owner = optObject(pkg, 'owner', p);
    const login = owner ? optString(owner, 'login', `${p}.owner`) : undefined;
    const npmName =
      (typeof manifest?.['name'] === 'string' ? manifest['name'] : undefined) ?? (login ? `@${login.toLowerCase()}/${pkgName}` : pkgName);
    purl = npmPurl(npmName, version);
    const dist = manifest && isObject(manifest['dist']) ? manifest['dist'] : undefined;
    if (dist && typeof dist['integrity'] === 'string') addDigest(digestFromIntegrity(dist['integrity']));
  } else {
    purl = `pkg:generic/${encodeURIComponent(pkgName)}@${encodeURIComponent(version)}`;
  }
  // One file: its digests name the package's bytes.
  const files = optArray(v, 'package_files', vp);
  if (files.length === 1) {
    const f = asObject(files[0], `${vp}.package_files[0]`);
    const fp = `${vp}.package_files[0]`;
    addDigest(hexDigest('sha256', optString(f, 'sha256', fp)));
    addDigest(hexDigest('sha1', optString(f, 'sha1', fp)));
  }
  const b = new EventBuilder();
  const artifact = addArtifact(
    ctx,
    b,
    { digests, purl },
    { name: pkgName, version, packageType: type, url: optString(v, 'html_url', vp) },
    'published',
  );
  const targetOid = optString(v, 'target_oid', vp);
  if (targetOid && !digests.some((d) => d.endsWith(targetOid.toLowerCase()))) {
    const commit = commitIf(ctx, b, repository, targetOid);
    if (commit) b.concerns(commit, 'source');
  }
  return b.build(ctx, {
    id,
    type: `${name}.${action}`,
    stage: 'publication',
    phase: action === 'published' ? 'created' : 'modified',
    time: firstTime(ctx, v, vp, 'updated_at', 'created_at') ?? fallbackTime(ctx),
    props: { action, name: pkgName, version, packageType: type, purl, artifact: artifact?.key },
  });
}

function manifestOf(v: JsonObject, path: string): JsonObject | undefined {
  const m = optString(v, 'manifest', path);
  if (!m) return undefined;
  try {
    const parsed: unknown = JSON.parse(m);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function issues({ ctx, o, id, repository }: Hub): TraceEvent {
  const action = reqString(o, 'action', '');
  const p = 'issue';
  const i = reqObject(o, p, '');
  const number = reqId(i, 'number', p);
  const title = optString(i, 'title', p);
  const b = new EventBuilder();
  addIssue(ctx, b, repository, number, { title, state: optString(i, 'state', p), url: optString(i, 'html_url', p) }, title);
  const phase = issuePhase(action);
  const label = optObject(o, 'label', '');
  return b.build(ctx, {
    id,
    type: `issues.${action}`,
    stage: 'work-item',
    phase,
    time:
      phase === 'created'
        ? firstTime(ctx, i, p, action === 'opened' ? 'created_at' : 'updated_at', 'created_at')
        : phase === 'finished'
          ? firstTime(ctx, i, p, 'closed_at', 'updated_at')
          : firstTime(ctx, i, p, 'updated_at', 'created_at'),
    props: { action, number, title, state: optString(i, 'state', p), label: label ? optString(label, 'name', 'label') : undefined },
  });
}
