/**
 * Jenkins mq-notifier plugin messages (https://plugins.jenkins.io/mq-notifier): `state` QUEUED, DEQUEUED,
 * STARTED, COMPLETED or DELETED, with `url`, `build_job_name`, `build_number`, `jenkins_master_fqdn`,
 * `status` and `parameters` (a list of `NAME=value` strings, or an object in older versions).
 *
 * The build is keyed `<instance>/<job>#<number>`, the instance read from the build URL (host and
 * context path). The commit comes from GIT_COMMIT / ghprbActualCommit / GERRIT_PATCHSET_REVISION style
 * parameters and its repository from GIT_URL / ghprbAuthorRepoGitUrl / GERRIT_HOST + GERRIT_PROJECT.
 * The plugin carries no id, so a message with a build number is identified by build and state, and a
 * queue message by a hash of its body. Eiffel events from the eiffel-broadcaster plugin are `eiffel`.
 * Another `state` (one a newer plugin sends) is a generic event (`other`, `unmodelled: true`) of the same
 * build, commit and change.
 */
import { EventBuilder, fallbackTime, hashId, repo, workItems, type ParseContext } from '../context.js';
import { fail } from '../errors.js';
import { asObject, describe, optId, optNumber, optString, reqString, type Json, type JsonObject } from '../json.js';
import { buildKey, changeKey, gerritChangeKey, jenkinsBuildFromUrl, normalizeHost } from '../keys.js';
import type { Outcome, Phase, TraceEvent } from '../model.js';

const STATUS: Readonly<Record<string, Outcome>> = {
  SUCCESS: 'success',
  UNSTABLE: 'failure',
  FAILURE: 'failure',
  ABORTED: 'canceled',
  NOT_BUILT: 'canceled',
};

const COMMIT_PARAMS = ['GIT_COMMIT', 'ghprbActualCommit', 'GERRIT_PATCHSET_REVISION', 'gitlabAfter', 'GITEA_COMMIT', 'SHA', 'COMMIT'];
const REPO_PARAMS = ['GIT_URL', 'ghprbAuthorRepoGitUrl', 'gitlabSourceRepoHttpUrl', 'GIT_URL_1', 'REPO_URL'];

/** `NAME=value` strings (current plugin) or `{NAME: value}` (early versions) -> map. */
function parameters(o: JsonObject): Map<string, string> {
  const out = new Map<string, string>();
  const raw = o['parameters'];
  if (raw === undefined || raw === null) return out;
  if (Array.isArray(raw)) {
    raw.forEach((p, i) => {
      if (typeof p !== 'string') fail(`expected a "NAME=value" string, got ${describe(p)}`, `parameters[${i}]`);
      const eq = p.indexOf('=');
      if (eq > 0) out.set(p.slice(0, eq), p.slice(eq + 1));
    });
    return out;
  }
  if (typeof raw === 'object') {
    for (const [k, v] of Object.entries(raw as JsonObject))
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.set(k, String(v));
    return out;
  }
  fail(`expected a list of "NAME=value" strings, got ${describe(raw)}`, 'parameters');
}

export function parseJenkins(ctx: ParseContext, body: Json): TraceEvent[] {
  const o = asObject(body, 'body');
  const state = reqString(o, 'state', '').toUpperCase();
  const url = optString(o, 'url', '');
  const fromUrl = url ? jenkinsBuildFromUrl(url) : undefined;
  const job = optString(o, 'build_job_name', '') ?? fromUrl?.job;
  if (!job) fail('required string is missing (or a build URL to read the job from)', 'build_job_name');
  const numberText = optId(o, 'build_number', '');
  const number = numberText ?? (fromUrl ? String(fromUrl.number) : undefined);
  if (number !== undefined && !/^\d+$/.test(number)) fail(`expected a build number, got "${number}"`, 'build_number');
  const instance = fromUrl?.instance ?? (url ? instanceFromJobUrl(url) : undefined) ?? optString(o, 'jenkins_master_fqdn', '');
  if (!instance) fail('expected a url or jenkins_master_fqdn to tell which Jenkins this is', 'url');
  const params = parameters(o);
  const status = optString(o, 'status', '');
  const b = new EventBuilder();

  let phase: Phase | undefined;
  let outcome: Outcome | undefined;
  switch (state) {
    case 'QUEUED':
      phase = 'queued';
      break;
    case 'DEQUEUED':
      phase = optString(o, 'dequeue_reason', '') === 'CANCELLED' ? 'canceled' : 'queued';
      outcome = phase === 'canceled' ? 'canceled' : undefined;
      break;
    case 'STARTED':
      phase = 'started';
      break;
    case 'COMPLETED':
      phase = 'finished';
      outcome = status ? (STATUS[status] ?? 'error') : undefined;
      break;
    case 'DELETED':
      phase = 'deleted';
      break;
    default:
      // A state the project does not model (a newer plugin's): kept as a generic event of the build, counted by kind.
      phase = undefined;
  }
  const modelled = phase !== undefined;

  const build =
    number !== undefined
      ? b.entity('Build', buildKey(instance, job, number), {
          job,
          number: Number(number),
          url,
          instance: normalizeHost(instance),
          ...(outcome && phase === 'finished' ? { result: outcome } : {}),
        })
      : undefined;
  if (build) {
    b.concerns(build, 'run');
    b.relate(build, 'AT_SITE', b.entity('Site', ctx.origin.site, {}));
  }

  const sha = COMMIT_PARAMS.map((k) => params.get(k)).find((v) => v && /^[0-9a-f]{7,64}$/i.test(v));
  const gerritHost = params.get('GERRIT_HOST');
  const gerritProject = params.get('GERRIT_PROJECT');
  const repoUrl =
    REPO_PARAMS.map((k) => params.get(k)).find((v) => !!v) ?? (gerritHost && gerritProject ? `${gerritHost}/${gerritProject}` : undefined);
  if (sha && repoUrl) {
    const repository = repo(ctx, repoUrl);
    const commit = b.commit(ctx, repository, sha);
    b.concerns(commit, 'built');
    if (build) b.relate(build, 'BUILT', commit);
    const pr = params.get('ghprbPullId') ?? params.get('gitlabMergeRequestIid') ?? params.get('CHANGE_ID');
    if (pr && /^\d+$/.test(pr)) b.relate(b.entity('Change', changeKey(repository, pr), { number: pr }), 'INCLUDES', commit);
  }
  const gerritChange = params.get('GERRIT_CHANGE_ID');
  if (gerritHost && gerritChange)
    b.concerns(b.entity('Change', gerritChangeKey(gerritHost, gerritChange), { number: params.get('GERRIT_CHANGE_NUMBER') }), 'change');
  for (const wi of workItems(ctx, [params.get('ghprbPullTitle'), params.get('GERRIT_CHANGE_SUBJECT')].filter(Boolean).join('\n'))) {
    b.concerns(b.entity('WorkItem', wi, {}), 'references');
  }

  const durationMs = optNumber(o, 'build_duration', '');
  const id = number !== undefined ? `jenkins:${buildKey(instance, job, number)}:${state.toLowerCase()}` : hashId('jenkins', ctx.body);
  return [
    b.build(ctx, {
      id,
      type: `jenkins.${state.toLowerCase()}`,
      stage: modelled ? 'build' : 'other',
      phase,
      outcome,
      time: fallbackTime(ctx),
      props: {
        unmodelled: modelled ? undefined : true,
        job,
        number: number !== undefined ? Number(number) : undefined,
        url,
        status,
        causes: optString(o, 'causes', ''),
        durationMs,
        queueMs: optNumber(o, 'time_spent_in_queue', ''),
        label: optString(o, 'allocated_label', ''),
        branch: params.get('GIT_BRANCH'),
      },
    }),
  ];
}

/** `https://ci/jenkins/job/a/job/b/` (a job URL, no build number) -> `ci/jenkins`. */
function instanceFromJobUrl(url: string): string | undefined {
  const i = url.indexOf('/job/');
  return i > 0 ? normalizeHost(url.slice(0, i)) : normalizeHost(url);
}
