/**
 * GitHub and Gitea webhooks: `push` and `pull_request`. Gitea's payloads follow GitHub's shape, so one
 * reader serves both. The event name comes from `x-not-event`, then `X-GitHub-Event` / `X-Gitea-Event`,
 * else from the body's shape. The event id is the delivery id (`x-not-delivery-id`, `X-GitHub-Delivery`,
 * `X-Gitea-Delivery`), else a hash of the body.
 */
import { EventBuilder, deliveryOrHashId, fallbackTime, header, type ParseContext } from '../context.js';
import { fail } from '../errors.js';
import {
  asObject,
  isObject,
  optArray,
  optBoolean,
  optObject,
  optString,
  reqId,
  reqObject,
  reqString,
  type Json,
  type JsonObject,
} from '../json.js';
import type { Outcome, Phase, Stage, TraceEvent } from '../model.js';
import { isoFromEpoch, isoFromText } from '../time.js';
import { addChange, addPush, pushProps, type PushedCommit } from './push.js';
import { addTag, unmodelled } from './delivery.js';
import { isHubEvent, parseHubEvent, type Host } from './github.events.js';

export function parseGithub(ctx: ParseContext, body: Json): TraceEvent[] {
  return parseHub(ctx, body, 'github');
}

export function parseGitea(ctx: ParseContext, body: Json): TraceEvent[] {
  return parseHub(ctx, body, 'gitea');
}

function eventName(ctx: ParseContext, o: JsonObject, host: Host): string {
  const h =
    header(ctx, 'x-not-event') ?? header(ctx, host === 'github' ? 'x-github-event' : 'x-gitea-event') ?? header(ctx, 'x-gogs-event');
  if (h) return h.trim();
  if (isObject(o['pull_request'])) return 'pull_request';
  if (typeof o['ref'] === 'string' && Array.isArray(o['commits'])) return 'push';
  fail(
    `cannot tell which ${host} event this is: no x-not-event or X-${host === 'github' ? 'GitHub' : 'Gitea'}-Event header and the body is neither a push nor a pull request`,
    'headers',
  );
}

function parseHub(ctx: ParseContext, body: Json, host: Host): TraceEvent[] {
  const o = asObject(body, 'body');
  const name = eventName(ctx, o, host);
  const id = deliveryOrHashId(ctx, host === 'github' ? 'x-github-delivery' : 'x-gitea-delivery');
  switch (name) {
    case 'push':
      return [push(ctx, o, id)];
    case 'pull_request':
      return [pullRequest(ctx, o, id)];
    default:
      return [isHubEvent(name) ? parseHubEvent(ctx, o, id, host, name, repositoryUrl(o)) : other(ctx, o, id, name)];
  }
}

function repositoryUrl(o: JsonObject): string {
  const r = reqObject(o, 'repository', '');
  const url = optString(r, 'clone_url', 'repository') ?? optString(r, 'html_url', 'repository') ?? optString(r, 'ssh_url', 'repository');
  if (!url) fail('expected clone_url, html_url or ssh_url', 'repository');
  return url;
}

function push(ctx: ParseContext, o: JsonObject, id: string): TraceEvent {
  const ref = reqString(o, 'ref', '');
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
  const pusher = optObject(o, 'pusher', '');
  const p = {
    repositoryUrl: repositoryUrl(o),
    ref,
    before: optString(o, 'before', ''),
    after: optString(o, 'after', ''),
    pusher: pusher
      ? (optString(pusher, 'name', 'pusher') ?? optString(pusher, 'login', 'pusher') ?? optString(pusher, 'username', 'pusher'))
      : undefined,
    commits,
    forced: optBoolean(o, 'forced', ''),
  };
  const b = new EventBuilder();
  const { repository } = addPush(ctx, b, p);
  const headCommit = optObject(o, 'head_commit', '');
  const headTime = headCommit ? optString(headCommit, 'timestamp', 'head_commit') : undefined;
  // A tag names its commit: head_commit (for an annotated tag `after` is the tag object).
  if (ref.startsWith('refs/tags/') && !(p.after && /^0+$/.test(p.after))) {
    addTag(
      ctx,
      b,
      repository,
      ref.slice('refs/tags/'.length),
      (headCommit ? optString(headCommit, 'id', 'head_commit') : undefined) ?? p.after,
    );
  }
  const r = asObject(o['repository'], 'repository');
  const pushedAt = typeof r['pushed_at'] === 'number' ? isoFromEpoch(r['pushed_at'], 'repository.pushed_at') : undefined;
  const time = pushedAt ?? (headTime ? isoFromText(headTime, 'head_commit.timestamp') : fallbackTime(ctx));
  return b.build(ctx, {
    id,
    type: 'push',
    stage: 'commit',
    phase: 'created',
    time,
    props: { ...pushProps(p), repository, compare: optString(o, 'compare', '') ?? optString(o, 'compare_url', '') },
  });
}

function pullRequest(ctx: ParseContext, o: JsonObject, id: string): TraceEvent {
  const action = reqString(o, 'action', '');
  const pr = reqObject(o, 'pull_request', '');
  const pp = 'pull_request';
  const number = reqId(pr, 'number', pp);
  const base = optObject(pr, 'base', pp);
  const head = optObject(pr, 'head', pp);
  const headRepo = head ? optObject(head, 'repo', `${pp}.head`) : undefined;
  const merged = optBoolean(pr, 'merged', pp) ?? false;
  const user = optObject(pr, 'user', pp);
  const b = new EventBuilder();
  addChange(ctx, b, {
    repositoryUrl: repositoryUrl(o),
    number,
    title: optString(pr, 'title', pp),
    body: optString(pr, 'body', pp),
    url: optString(pr, 'html_url', pp),
    state: optString(pr, 'state', pp),
    sourceBranch: head ? optString(head, 'ref', `${pp}.head`) : undefined,
    targetBranch: base ? optString(base, 'ref', `${pp}.base`) : undefined,
    headSha: head ? optString(head, 'sha', `${pp}.head`) : undefined,
    sourceRepositoryUrl: headRepo
      ? (optString(headRepo, 'clone_url', `${pp}.head.repo`) ?? optString(headRepo, 'html_url', `${pp}.head.repo`))
      : undefined,
    mergeSha: optString(pr, 'merge_commit_sha', pp),
    merged,
    author: user ? (optString(user, 'login', `${pp}.user`) ?? optString(user, 'username', `${pp}.user`)) : undefined,
  });
  const closed = action === 'closed';
  const stage: Stage = closed && merged ? 'merge' : 'review';
  const phase: Phase = action === 'opened' || action === 'reopened' ? 'created' : closed ? 'finished' : 'modified';
  const outcome: Outcome | undefined = closed ? (merged ? 'success' : 'canceled') : undefined;
  const stamp = optString(pr, closed && merged ? 'merged_at' : 'updated_at', pp) ?? optString(pr, 'updated_at', pp);
  return b.build(ctx, {
    id,
    type: `pull_request.${action}`,
    stage,
    phase,
    outcome,
    time: stamp ? isoFromText(stamp, `${pp}.updated_at`) : fallbackTime(ctx),
    props: { action, number, merged, draft: optBoolean(pr, 'draft', pp) },
  });
}

/** Any other webhook event is kept as a generic event with the identities still found in it, never dropped. */
function other(ctx: ParseContext, o: JsonObject, id: string, name: string): TraceEvent {
  const r = optObject(o, 'repository', '');
  const url = r ? (optString(r, 'clone_url', 'repository') ?? optString(r, 'html_url', 'repository')) : undefined;
  return unmodelled(ctx, o, id, name, url);
}
