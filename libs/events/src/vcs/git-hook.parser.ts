/**
 * The payload the relay's git post-receive hook sends (one message per updated ref); see the README:
 *
 *   { "repository": "<clone URL>", "ref": "refs/heads/main", "before": "<sha>", "after": "<sha>",
 *     "pusher": "alice", "pushedAt": "2024-05-01T10:00:00Z",
 *     "commits": [{ "sha", "parents": ["<sha>"], "author": { "name", "email" }, "time", "message" }] }
 *
 * For an annotated tag `after` is the tag object and `peeled` the commit it names; the commit is the head.
 *
 * The id is derived from (repository, ref, before, after), so the same ref update always has the same id
 * however the JSON is laid out.
 */
import { EventBuilder, fallbackTime, hashId, repo, type ParseContext } from '../context.js';
import { fail } from '../errors.js';
import { asObject, optObject, optString, optStrings, reqArray, reqString, type Json } from '../json.js';
import { isFullSha } from '../keys.js';
import type { TraceEvent } from '../model.js';
import { isoFromEpoch, isoFromText } from '../time.js';
import { addPush, pushProps, type PushedCommit } from './push.js';

function sha(value: string, field: string): string {
  if (!isFullSha(value)) fail(`expected a full git sha (40 or 64 hex digits), got "${value.slice(0, 70)}"`, field);
  return value.toLowerCase();
}

export function parseGitHook(ctx: ParseContext, body: Json): TraceEvent[] {
  const o = asObject(body, 'body');
  const repositoryUrl = reqString(o, 'repository', '');
  const ref = reqString(o, 'ref', '');
  const before = sha(reqString(o, 'before', ''), 'before');
  const after = sha(reqString(o, 'after', ''), 'after');
  const commits: PushedCommit[] = reqArray(o, 'commits', '').map((c, i) => {
    const path = `commits[${i}]`;
    const co = asObject(c, path);
    const author = optObject(co, 'author', path);
    const t = co['time'];
    const time =
      typeof t === 'number'
        ? isoFromEpoch(t, `${path}.time`)
        : typeof t === 'string'
          ? isoFromText(t, `${path}.time`)
          : t == null
            ? undefined
            : fail('expected an ISO-8601 time or epoch seconds', `${path}.time`);
    return {
      sha: sha(reqString(co, 'sha', path), `${path}.sha`),
      parents: optStrings(co, 'parents', path).map((p, j) => sha(p, `${path}.parents[${j}]`)),
      authorName: author ? optString(author, 'name', `${path}.author`) : undefined,
      authorEmail: author ? optString(author, 'email', `${path}.author`) : undefined,
      time,
      message: optString(co, 'message', path),
    };
  });
  const pushedAt = optString(o, 'pushedAt', '');
  // An annotated tag's `after` is the tag object; the hook sends the commit it peels to as `peeled`.
  const peeledText = optString(o, 'peeled', '');
  const peeled = peeledText === undefined ? undefined : sha(peeledText, 'peeled');
  const p = { repositoryUrl, ref, before, after: peeled ?? after, pusher: optString(o, 'pusher', ''), commits };
  const b = new EventBuilder();
  const { repository } = addPush(ctx, b, p);
  return [
    b.build(ctx, {
      id: hashId('git-hook', `${repo(ctx, repositoryUrl)}\n${ref}\n${before}\n${after}`),
      type: 'push',
      stage: 'commit',
      phase: 'created',
      time: pushedAt ? isoFromText(pushedAt, 'pushedAt') : fallbackTime(ctx),
      props: { ...pushProps(p), repository, tagObject: peeled === undefined ? undefined : after },
    }),
  ];
}
