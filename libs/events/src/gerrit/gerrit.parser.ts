/**
 * Gerrit stream events as the events-rabbitmq plugin publishes them (the body is the stream event's JSON):
 * `patchset-created`, `change-merged`, `comment-added`, `change-abandoned` and `ref-updated`; other
 * types (`project-created`, `hashtags-changed`, `wip-state-changed`, …) are kept as generic events marked
 * `unmodelled`, with the change, repository, commit and ref they still name.
 *
 * - Gerrit host: the `x-not-gerrit-host` header (relay configuration) wins; then the host of `change.url`;
 *   then the plugin's `gerrit-front-url` header (canonicalWebUrl), then its `gerrit-host` header. A
 *   `ref-updated` event has no change, so its host comes from the headers only.
 * - Change: `gerritChangeKey(host, Change-Id)`, i.e. `<host>/<Change-Id>`, the key the Jenkins parser
 *   builds from Gerrit Trigger parameters; `<repository>!<number>` is an alias.
 * - Repository: `<host>/<project>` (normalised, so it equals `ssh://host:29418/project`).
 * - Commits: `patchSet.revision` (with its parents) and, for a merge, `newRev`; `ref-updated` names the
 *   ref's new commit. Work items come from the change's subject and commit message.
 * - The stream carries no event id: the id is `x-not-delivery-id` when the relay sets one, else a hash
 *   of the body. The time is `eventCreatedOn` (epoch seconds).
 */
import { EventBuilder, deliveryOrHashId, fallbackTime, header, repo, workItems, type ParseContext, type Props } from '../context.js';
import { fail } from '../errors.js';
import {
  asObject,
  isObject,
  join,
  optArray,
  optId,
  optNumber,
  optObject,
  optString,
  optStrings,
  reqId,
  reqObject,
  reqString,
  type Json,
  type JsonObject,
} from '../json.js';
import { changeKey, gerritChangeKey, isFullSha, isNullSha } from '../keys.js';
import type { Outcome, Phase, Stage, TraceEvent } from '../model.js';
import { isoFromEpoch } from '../time.js';
import { addPush, pushProps } from '../vcs/push.js';

/** Host name of a URL or bare host, lower case, without scheme, credentials, port or path. */
function hostOf(value: string): string | undefined {
  const v = value.trim();
  if (!v) return undefined;
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:[^@/]*@)?([^/:?#]+)/i.exec(v);
  return m?.[1]?.toLowerCase();
}

function gerritHost(ctx: ParseContext, changeUrl: string | undefined): string | undefined {
  for (const candidate of [header(ctx, 'x-not-gerrit-host'), changeUrl, header(ctx, 'gerrit-front-url'), header(ctx, 'gerrit-host')]) {
    const h = candidate ? hostOf(candidate) : undefined;
    if (h) return h;
  }
  return undefined;
}

function account(o: JsonObject, key: string, path: string): string | undefined {
  const a = optObject(o, key, path);
  if (!a) return undefined;
  const ap = join(path, key);
  return optString(a, 'username', ap) ?? optString(a, 'email', ap) ?? optString(a, 'name', ap);
}

export function parseGerrit(ctx: ParseContext, body: Json): TraceEvent[] {
  const o = asObject(body, 'body');
  const type = reqString(o, 'type', '');
  const created = optNumber(o, 'eventCreatedOn', '');
  const time = created !== undefined ? isoFromEpoch(created, 'eventCreatedOn') : fallbackTime(ctx);
  const id = deliveryOrHashId(ctx);
  if (type === 'ref-updated') return [refUpdated(ctx, o, id, time)];
  if (type === 'patchset-created' || type === 'change-merged' || type === 'comment-added' || type === 'change-abandoned') {
    return [changeEvent(ctx, o, type, id, time)];
  }
  return [unmodelled(ctx, o, type, id, time)];
}

/** A text field, or nothing when it is absent or not text (an unmodelled kind is read leniently). */
function text(o: JsonObject | undefined, key: string): string | undefined {
  const v = o?.[key];
  return typeof v === 'string' && v.trim() ? v : typeof v === 'number' ? String(v) : undefined;
}

function objectAt(o: JsonObject | undefined, key: string): JsonObject | undefined {
  const v = o?.[key];
  return isObject(v) ? v : undefined;
}

/**
 * A stream event of a type the project does not model (`project-created`, `hashtags-changed`,
 * `wip-state-changed`, `batch-ref-updated`, …): a generic event (`other`, `unmodelled: true`, counted per
 * type) with the identities it still names: the change (`change.id`, `change.number`), the repository
 * (`change.project`, `projectName`, `project`, `refUpdate.project`), the commit (`patchSet.revision`,
 * `newRev`, `refUpdate.newRev`) and the ref (`refUpdate.refName`, `refName`, `headName`, `newHead`).
 */
function unmodelled(ctx: ParseContext, o: JsonObject, type: string, id: string, time: string): TraceEvent {
  const change = objectAt(o, 'change');
  const patchSet = objectAt(o, 'patchSet');
  const refUpdates = o['refUpdates'];
  const refUpdate = objectAt(o, 'refUpdate') ?? (Array.isArray(refUpdates) && isObject(refUpdates[0]) ? refUpdates[0] : undefined);
  const project =
    text(change, 'project') ??
    text(o, 'projectName') ??
    text(o, 'project') ??
    text(objectAt(o, 'project'), 'name') ??
    text(refUpdate, 'project');
  const ref = text(refUpdate, 'refName') ?? text(o, 'refName') ?? text(o, 'headName') ?? text(o, 'newHead');
  const sha = [text(patchSet, 'revision'), text(o, 'newRev'), text(refUpdate, 'newRev')].find((s) => s && isFullSha(s) && !isNullSha(s));
  const changeId = text(change, 'id');
  const number = text(change, 'number');
  const host = gerritHost(ctx, text(change, 'url'));
  const b = new EventBuilder();
  const repository = host && project ? repo(ctx, `${host}/${project}`) : undefined;
  if (repository) b.concerns(b.entity('Repository', repository, { url: `${host}/${project}` }), 'repository');
  if (host && changeId) {
    const changeRef = b.entity(
      'Change',
      gerritChangeKey(host, changeId),
      { number, changeId, project, branch: text(change, 'branch'), url: text(change, 'url'), status: text(change, 'status') },
      repository && number ? [changeKey(repository, number)] : [],
    );
    if (repository) b.relate(changeRef, 'IN_REPOSITORY', b.entity('Repository', repository, {}));
    b.concerns(changeRef, 'change');
  }
  if (repository && sha) b.concerns(b.commit(ctx, repository, sha), 'mentioned');
  return b.build(ctx, {
    id,
    type,
    stage: 'other',
    time,
    props: {
      unmodelled: true,
      project,
      changeNumber: number,
      changeId,
      patchSet: text(patchSet, 'number'),
      ref,
      sha: sha?.toLowerCase(),
      gerritName: header(ctx, 'gerrit-name'),
    },
  });
}

type ChangeEventType = 'patchset-created' | 'change-merged' | 'comment-added' | 'change-abandoned';

function changeEvent(ctx: ParseContext, o: JsonObject, type: ChangeEventType, id: string, time: string): TraceEvent {
  const change = reqObject(o, 'change', '');
  const cp = 'change';
  const project = reqString(change, 'project', cp);
  const changeId = reqString(change, 'id', cp);
  const number = reqId(change, 'number', cp);
  const url = optString(change, 'url', cp);
  const subject = optString(change, 'subject', cp);
  const commitMessage = optString(change, 'commitMessage', cp);
  const host = gerritHost(ctx, url);
  if (!host)
    fail(
      'cannot tell which Gerrit server this change is on: no change.url, and no x-not-gerrit-host, gerrit-front-url or gerrit-host header',
      'change.url',
    );
  const repoUrl = `${host}/${project}`;
  const repository = repo(ctx, repoUrl);
  const b = new EventBuilder();
  const changeRef = b.entity(
    'Change',
    gerritChangeKey(host, changeId),
    {
      number,
      changeId,
      project,
      branch: optString(change, 'branch', cp),
      title: subject?.slice(0, 200),
      url,
      status: optString(change, 'status', cp),
      author: account(change, 'owner', cp),
      merged: type === 'change-merged' ? true : undefined,
    },
    [changeKey(repository, number)],
  );
  b.relate(changeRef, 'IN_REPOSITORY', b.entity('Repository', repository, { url: repoUrl }));
  b.concerns(changeRef, 'change');
  for (const wi of workItems(ctx, [subject, commitMessage].filter(Boolean).join('\n'), repository))
    b.relate(changeRef, 'REFERENCES', b.entity('WorkItem', wi, {}));

  const patchSet = type === 'patchset-created' ? reqObject(o, 'patchSet', '') : optObject(o, 'patchSet', '');
  const pp = 'patchSet';
  let patchSetNumber: string | undefined;
  if (patchSet) {
    patchSetNumber = optId(patchSet, 'number', pp);
    const revision = type === 'patchset-created' ? reqString(patchSet, 'revision', pp) : optString(patchSet, 'revision', pp);
    if (revision) {
      const author = optObject(patchSet, 'author', pp);
      const createdOn = optNumber(patchSet, 'createdOn', pp);
      const commit = b.commit(
        ctx,
        repository,
        revision,
        {
          title: subject?.slice(0, 200),
          authorName: author ? optString(author, 'name', join(pp, 'author')) : undefined,
          authorEmail: author ? optString(author, 'email', join(pp, 'author')) : undefined,
          authoredAt: createdOn !== undefined ? isoFromEpoch(createdOn, join(pp, 'createdOn')) : undefined,
        },
        commitMessage,
      );
      for (const parent of optStrings(patchSet, 'parents', pp)) b.relate(commit, 'PARENT', b.commit(ctx, repository, parent));
      b.relate(changeRef, 'INCLUDES', commit);
      b.concerns(commit, 'head');
    }
  }

  const props: Props = {
    project,
    branch: optString(change, 'branch', cp),
    changeNumber: number,
    changeId,
    patchSet: patchSetNumber,
    patchSetKind: patchSet ? optString(patchSet, 'kind', pp) : undefined,
    ref: patchSet ? optString(patchSet, 'ref', pp) : undefined,
    gerritName: header(ctx, 'gerrit-name'),
  };
  let stage: Stage = 'review';
  let phase: Phase | undefined;
  let outcome: Outcome | undefined;
  switch (type) {
    case 'patchset-created':
      phase = patchSetNumber === '1' ? 'created' : 'modified';
      props['uploader'] = account(o, 'uploader', '');
      break;
    case 'change-merged': {
      stage = 'merge';
      phase = 'finished';
      outcome = 'success';
      props['submitter'] = account(o, 'submitter', '');
      const newRev = optString(o, 'newRev', '');
      props['newRev'] = newRev;
      if (newRev && isFullSha(newRev) && !isNullSha(newRev)) {
        const merge = b.commit(ctx, repository, newRev);
        b.relate(changeRef, 'INCLUDES', merge);
        b.relate(changeRef, 'MERGED_AS', merge);
        b.concerns(merge, 'merge');
      }
      break;
    }
    case 'comment-added': {
      phase = 'modified';
      props['author'] = account(o, 'author', '');
      const approvals = optArray(o, 'approvals', '').map((a, i) => {
        const ap = join('approvals', i);
        const ao = asObject(a, ap);
        return { label: reqString(ao, 'type', ap), value: Number(optId(ao, 'value', ap) ?? '0') };
      });
      props['approvals'] = approvals.map((a) => `${a.label}=${a.value}`);
      const verified = approvals.find((a) => a.label === 'Verified');
      if (verified && verified.value !== 0) outcome = verified.value > 0 ? 'success' : 'failure';
      props['comment'] = optString(o, 'comment', '')?.slice(0, 500);
      break;
    }
    case 'change-abandoned':
      phase = 'finished';
      outcome = 'canceled';
      props['abandoner'] = account(o, 'abandoner', '');
      props['reason'] = optString(o, 'reason', '')?.slice(0, 500);
      break;
  }
  return b.build(ctx, { id, type, stage, phase, outcome, time, props });
}

function refUpdated(ctx: ParseContext, o: JsonObject, id: string, time: string): TraceEvent {
  const u = reqObject(o, 'refUpdate', '');
  const up = 'refUpdate';
  const project = reqString(u, 'project', up);
  const ref = reqString(u, 'refName', up);
  const before = reqString(u, 'oldRev', up);
  const after = reqString(u, 'newRev', up);
  const host = gerritHost(ctx, undefined);
  if (!host)
    fail(
      'cannot tell which Gerrit server this ref is on: set the x-not-gerrit-host header, or gerrit.canonicalWebUrl / gerrit.hostname in the events-rabbitmq plugin',
      'headers',
    );
  // Gerrit's ref names may be short (`master`) in events from old versions.
  const fullRef = ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
  const meta = GERRIT_META_REF.exec(fullRef);
  if (meta) return reviewMetadataUpdated(ctx, o, id, time, { host, project, ref: fullRef, before, after, change: meta[1] });
  const push = { repositoryUrl: `${host}/${project}`, ref: fullRef, before, after, pusher: account(o, 'submitter', ''), commits: [] };
  const b = new EventBuilder();
  const { repository } = addPush(ctx, b, push);
  return b.build(ctx, {
    id,
    type: 'ref-updated',
    stage: 'commit',
    phase: isNullSha(after) ? 'deleted' : 'created',
    time,
    props: { ...pushProps(push), repository, project, commitCount: undefined, gerritName: header(ctx, 'gerrit-name') },
  });
}

/**
 * Refs where Gerrit keeps review metadata (NoteDb), not code: `refs/changes/NN/<change>/meta` and
 * `refs/changes/…/robot-comments`, `refs/meta/*`, `refs/users/*`, `refs/groups/*`, `refs/sequences/*`,
 * `refs/draft-comments/*`, `refs/starred-changes/*`, `refs/cache-automerge/*`, `refs/external-ids`.
 * Group 1 is the change number when the ref belongs to a change.
 */
const GERRIT_META_REF =
  /^refs\/(?:changes\/\d+\/(\d+)\/(?:meta|robot-comments)$|meta\/|users\/|groups\/|sequences\/|draft-comments\/|starred-changes\/|cache-automerge\/|external-ids$)/;

interface MetaUpdate {
  readonly host: string;
  readonly project: string;
  readonly ref: string;
  readonly before: string;
  readonly after: string;
  readonly change: string | undefined;
}

/** A ref update of review metadata: a review-stage event of the repository, with no commit of the code. */
function reviewMetadataUpdated(ctx: ParseContext, o: JsonObject, id: string, time: string, u: MetaUpdate): TraceEvent {
  const b = new EventBuilder();
  const repositoryUrl = `${u.host}/${u.project}`;
  const repository = repo(ctx, repositoryUrl);
  b.concerns(b.entity('Repository', repository, { url: repositoryUrl }), 'review-metadata');
  return b.build(ctx, {
    id,
    type: 'ref-updated',
    stage: 'review',
    phase: 'modified',
    time,
    props: {
      ref: u.ref,
      before: u.before,
      after: u.after,
      reviewMetadata: true,
      changeNumber: u.change,
      pusher: account(o, 'submitter', ''),
      repository,
      project: u.project,
      gerritName: header(ctx, 'gerrit-name'),
    },
  });
}
