/**
 * What the git hosts' CI, release and work-item events share: runs and jobs as builds, tags as releases,
 * deployments, issues as work items, and a generic event for kinds the project does not model.
 */
import { EventBuilder, fallbackTime, repo, workItems, type ParseContext } from '../context.js';
import { changeKey, isFullSha, isNullSha, releaseKey, environmentKey } from '../keys.js';
import { isObject, type Json, type JsonObject } from '../json.js';
import type { EntityRef, Outcome, Phase, TraceEvent } from '../model.js';
import { isoFromText } from '../time.js';

/** A CI system's conclusion or status (GitHub, Gitea, GitLab) as an outcome; undefined while it is not over. */
export function ciOutcome(conclusion: string | undefined): Outcome | undefined {
  switch (conclusion?.toLowerCase()) {
    case 'success':
    case 'passed':
      return 'success';
    case 'failure':
    case 'failed':
      return 'failure';
    case 'timed_out':
    case 'startup_failure':
    case 'error':
      return 'error';
    case 'cancelled':
    case 'canceled':
    case 'skipped':
      return 'canceled';
    case 'neutral':
    case 'action_required':
    case 'stale':
      return 'inconclusive';
    default:
      return undefined;
  }
}

/** A commit in a repository when the sha is a full, non-null object id; else nothing. */
export function commitIf(ctx: ParseContext, b: EventBuilder, repository: string, sha: string | undefined): EntityRef | undefined {
  return sha && isFullSha(sha) && !isNullSha(sha) ? b.commit(ctx, repository, sha) : undefined;
}

/** A build (run, job, check, status) of the commit `sha` when it is a real one: the build BUILT it, and the event is about it as its head. */
export function builtFrom(
  ctx: ParseContext,
  b: EventBuilder,
  build: EntityRef,
  repository: string,
  sha: string | undefined,
): EntityRef | undefined {
  const commit = commitIf(ctx, b, repository, sha);
  if (commit) {
    b.relate(build, 'BUILT', commit);
    b.concerns(commit, 'head');
  }
  return commit;
}

/**
 * A tag is the Release `<repository>@<tag>` (product = repository, version = tag): a tag push, a
 * create event or a release names it; when the commit is known the release CONTAINS it.
 */
export function addTag(
  ctx: ParseContext,
  b: EventBuilder,
  repository: string,
  tag: string,
  sha: string | undefined,
  props: Record<string, string | boolean | undefined> = {},
): EntityRef {
  const release = b.entity('Release', releaseKey(repository, tag), { product: repository, version: tag, tag, ...props });
  b.concerns(release, 'release');
  const commit = commitIf(ctx, b, repository, sha);
  if (commit) {
    b.relate(release, 'CONTAINS', commit);
    b.concerns(commit, 'tagged');
  }
  return release;
}

/** A deployment of a commit to an environment: the event is about both. */
export function addDeployment(
  ctx: ParseContext,
  b: EventBuilder,
  repository: string,
  environment: string | undefined,
  sha: string | undefined,
): void {
  if (environment) b.concerns(b.entity('Environment', environmentKey(environment), { name: environment }), 'environment');
  const commit = commitIf(ctx, b, repository, sha);
  if (commit) b.concerns(commit, 'deployed');
}

/** An issue of a repository is the work item `<repository>#<n>`, with the work items its text names. */
export function addIssue(
  ctx: ParseContext,
  b: EventBuilder,
  repository: string,
  number: string,
  props: Record<string, string | undefined>,
  text?: string,
): EntityRef {
  const item = b.entity('WorkItem', `${repository}#${number}`, { number, repository, ...props });
  b.concerns(item, 'work-item');
  for (const wi of workItems(ctx, text, repository)) if (wi !== item.key) b.relate(item, 'REFERENCES', b.entity('WorkItem', wi, {}));
  return item;
}

/** Phase of an issue action (GitHub/Gitea `opened`, GitLab `open`, …). */
export function issuePhase(action: string | undefined): Phase {
  switch (action) {
    case 'opened':
    case 'open':
    case 'reopened':
    case 'reopen':
      return 'created';
    case 'closed':
    case 'close':
      return 'finished';
    case 'deleted':
    case 'delete':
      return 'deleted';
    default:
      return 'modified';
  }
}

/** The first of the given fields that holds a readable time, as ISO-8601; else the fallback time. */
export function firstTime(ctx: ParseContext, o: JsonObject, path: string, ...keys: string[]): string {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v && !v.startsWith('0001-01-01')) return isoFromText(gitlabTime(v), path ? `${path}.${k}` : k);
  }
  return fallbackTime(ctx);
}

/** GitLab's `2013-12-03 17:23:34 UTC` and `2021-04-28 21:50:00 +0200` as ISO-8601 text; anything else unchanged. */
export function gitlabTime(text: string): string {
  return text
    .replace(/^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) UTC$/, '$1T$2Z')
    .replace(/^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) ([+-]\d\d):?(\d\d)$/, '$1T$2$3:$4');
}

const SHA_FIELDS = ['after', 'sha', 'head_sha', 'checkout_sha', 'commit_id', 'target_oid'];
const NESTED = [
  'object_attributes',
  'workflow_run',
  'workflow_job',
  'check_run',
  'check_suite',
  'deployment',
  'release',
  'commit',
  'head_commit',
];

/**
 * An event of a known tool whose kind the project does not model: kept as a generic event (`other`,
 * `unmodelled: true`, counted per kind by the correlator) with every identity still found in it: the
 * repository, the commit (`after`, `sha`, `head_sha`, `checkout_sha`, `commit_id`, also one level down, and a
 * pull request's `head.sha`), the pull request (`pull_request.number`, a review's or comment's) and the ref.
 */
export function unmodelled(ctx: ParseContext, o: JsonObject, id: string, kind: string, repositoryUrl: string | undefined): TraceEvent {
  const b = new EventBuilder();
  let ref: string | undefined;
  let sha: string | undefined;
  const scan = (x: JsonObject): void => {
    for (const f of SHA_FIELDS) {
      const v = x[f];
      if (!sha && typeof v === 'string' && isFullSha(v) && !isNullSha(v)) sha = v;
    }
    if (!ref && typeof x['ref'] === 'string' && x['ref']) ref = x['ref'];
  };
  scan(o);
  for (const n of NESTED) {
    const v: Json | undefined = o[n];
    if (isObject(v)) scan(v);
  }
  // A pull request's review or comment names the pull request and its head commit.
  const pr = o['pull_request'];
  const head = isObject(pr) ? pr['head'] : undefined;
  if (isObject(head)) scan(head);
  if (repositoryUrl) {
    const repository = repo(ctx, repositoryUrl);
    b.concerns(b.entity('Repository', repository, { url: repositoryUrl }), 'repository');
    const commit = commitIf(ctx, b, repository, sha);
    if (commit) b.concerns(commit, 'mentioned');
    const number = isObject(pr) ? pr['number'] : undefined;
    if (typeof number === 'number' && Number.isInteger(number)) {
      const change = b.entity('Change', changeKey(repository, number), { number: String(number) });
      b.concerns(change, 'change');
      if (commit) b.relate(change, 'INCLUDES', commit);
    }
  }
  const action = typeof o['action'] === 'string' ? o['action'] : undefined;
  return b.build(ctx, { id, type: kind, stage: 'other', time: fallbackTime(ctx), props: { unmodelled: true, action, ref, sha } });
}
