/**
 * GitLab webhooks by `object_kind` (system hooks: `event_name`): push, tag push and merge request here;
 * pipeline, job, deployment, release, issue, note and `repository_update` in `gitlab.events.ts`; any other
 * kind is a generic event. The event id is the delivery id (`x-not-delivery-id`, `X-Gitlab-Event-UUID`,
 * `X-Gitlab-Webhook-UUID`), else a hash of the body.
 */
import { EventBuilder, deliveryOrHashId, fallbackTime, type ParseContext } from '../context.js';
import { fail } from '../errors.js';
import { asObject, optArray, optId, optObject, optString, reqId, reqObject, reqString, type Json, type JsonObject } from '../json.js';
import type { Outcome, Phase, Stage, TraceEvent } from '../model.js';
import { isoFromText } from '../time.js';
import { addChange, addPush, pushProps, type PushedCommit } from './push.js';
import { addTag, gitlabTime, unmodelled } from './delivery.js';
import { isGitlabEvent, parseGitlabEvent } from './gitlab.events.js';

export function parseGitlab(ctx: ParseContext, body: Json): TraceEvent[] {
  const o = asObject(body, 'body');
  // Project hooks say `object_kind`; system hooks (instance-wide) say `event_name`.
  const kind = optString(o, 'object_kind', '') ?? optString(o, 'event_name', '');
  if (!kind) fail('expected object_kind (project hooks) or event_name (system hooks)', 'object_kind');
  const id = deliveryOrHashId(ctx, 'x-gitlab-event-uuid', 'x-gitlab-webhook-uuid', 'idempotency-key');
  switch (kind) {
    case 'push':
    case 'tag_push':
      return [push(ctx, o, id, kind)];
    case 'merge_request':
      return [mergeRequest(ctx, o, id)];
    default:
      return [
        isGitlabEvent(kind) ? parseGitlabEvent(ctx, o, id, kind, projectUrl(o, true)!) : unmodelled(ctx, o, id, kind, projectUrl(o, false)),
      ];
  }
}

function projectUrl(o: JsonObject, required: boolean): string | undefined {
  const project = optObject(o, 'project', '');
  const url =
    (project
      ? (optString(project, 'git_http_url', 'project') ??
        optString(project, 'web_url', 'project') ??
        optString(project, 'git_ssh_url', 'project'))
      : undefined) ??
    (() => {
      const r = optObject(o, 'repository', '');
      return r
        ? (optString(r, 'git_http_url', 'repository') ?? optString(r, 'homepage', 'repository') ?? optString(r, 'url', 'repository'))
        : undefined;
    })();
  if (!url && required) fail('expected project.git_http_url, project.web_url or repository.git_http_url', 'project');
  return url;
}

function time(text: string | undefined, field: string, ctx: ParseContext): string {
  // Older GitLab versions write `2013-12-03 17:23:34 UTC`.
  return text ? isoFromText(gitlabTime(text), field) : fallbackTime(ctx);
}

function push(ctx: ParseContext, o: JsonObject, id: string, kind: string): TraceEvent {
  const commits: PushedCommit[] = optArray(o, 'commits', '').map((c, i) => {
    const path = `commits[${i}]`;
    const co = asObject(c, path);
    const author = optObject(co, 'author', path);
    return {
      sha: reqString(co, 'id', path),
      message: optString(co, 'message', path),
      authorName: author ? optString(author, 'name', `${path}.author`) : undefined,
      authorEmail: author ? optString(author, 'email', `${path}.author`) : undefined,
      time: optString(co, 'timestamp', path),
      url: optString(co, 'url', path),
    };
  });
  const p = {
    repositoryUrl: projectUrl(o, true)!,
    ref: reqString(o, 'ref', ''),
    before: optString(o, 'before', ''),
    after: optString(o, 'after', '') ?? optString(o, 'checkout_sha', ''),
    pusher: optString(o, 'user_username', '') ?? optString(o, 'user_name', ''),
    commits,
  };
  const b = new EventBuilder();
  const { repository } = addPush(ctx, b, p);
  // A tag names the commit `checkout_sha` (`after` is the tag object for an annotated tag).
  const checkout = optString(o, 'checkout_sha', '');
  if (p.ref.startsWith('refs/tags/') && checkout) addTag(ctx, b, repository, p.ref.slice('refs/tags/'.length), checkout);
  const last = commits.find((c) => c.sha === p.after) ?? commits[commits.length - 1];
  return b.build(ctx, {
    id,
    type: kind,
    stage: 'commit',
    phase: 'created',
    time: time(last?.time, 'commits.timestamp', ctx),
    props: { ...pushProps(p), repository, totalCommits: optId(o, 'total_commits_count', '') },
  });
}

const MR_ACTION_PHASE: Readonly<Record<string, Phase>> = { open: 'created', reopen: 'created', close: 'finished', merge: 'finished' };

function mergeRequest(ctx: ParseContext, o: JsonObject, id: string): TraceEvent {
  const a = reqObject(o, 'object_attributes', '');
  const ap = 'object_attributes';
  const action = optString(a, 'action', ap) ?? 'update';
  const state = optString(a, 'state', ap);
  const merged = state === 'merged' || action === 'merge';
  const lastCommit = optObject(a, 'last_commit', ap);
  const source = optObject(a, 'source', ap);
  const user = optObject(o, 'user', '');
  const b = new EventBuilder();
  addChange(ctx, b, {
    repositoryUrl: projectUrl(o, true)!,
    number: reqId(a, 'iid', ap),
    title: optString(a, 'title', ap),
    body: optString(a, 'description', ap),
    url: optString(a, 'url', ap),
    state,
    sourceBranch: optString(a, 'source_branch', ap),
    targetBranch: optString(a, 'target_branch', ap),
    headSha: lastCommit ? optString(lastCommit, 'id', `${ap}.last_commit`) : undefined,
    sourceRepositoryUrl: source
      ? (optString(source, 'git_http_url', `${ap}.source`) ?? optString(source, 'web_url', `${ap}.source`))
      : undefined,
    mergeSha: optString(a, 'merge_commit_sha', ap),
    merged,
    author: user ? optString(user, 'username', 'user') : undefined,
  });
  const closed = action === 'close' || action === 'merge' || state === 'closed' || state === 'merged';
  const stage: Stage = merged ? 'merge' : 'review';
  const outcome: Outcome | undefined = closed ? (merged ? 'success' : 'canceled') : undefined;
  return b.build(ctx, {
    id,
    type: `merge_request.${action}`,
    stage,
    phase: MR_ACTION_PHASE[action] ?? 'modified',
    outcome,
    time: time(optString(a, 'updated_at', ap), `${ap}.updated_at`, ctx),
    props: { action, state, number: reqId(a, 'iid', ap), merged },
  });
}
