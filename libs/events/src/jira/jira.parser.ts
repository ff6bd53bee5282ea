/**
 * Jira webhooks (Cloud admin webhooks and Jira Server / Data Center), as documented at
 * https://developer.atlassian.com/cloud/jira/platform/webhooks/ and sent for issue events:
 * `{timestamp (epoch ms), webhookEvent, issue_event_type_name?, user, issue: {id, self, key, fields}, changelog?: {id, items}}`.
 *
 * - `jira:issue_created` / `jira:issue_updated` / `jira:issue_deleted` are about the work item `issue.key` (the
 *   same key commit messages name, so a ticket meets its commits), with its project, type, summary and status.
 * - A status transition is a `changelog.items[]` entry with `field` (or `fieldId`) `status`: `fromString` →
 *   `toString`, at the webhook's `timestamp`. Its phase follows the category of the new status
 *   (`fields.status.statusCategory.key`): `indeterminate` (In Progress) → started, `done` → finished, else modified.
 *   The events about a work item, ordered by time, are its status history.
 * - Development information: the linked issues (`fields.issuelinks`), the parent, and the development summary
 *   Jira puts in a custom field (`devSummaryJson` counts of commits, branches, pull requests, builds, deployments).
 * - Any other `webhookEvent` (comments, worklogs, versions, projects, sprints, …) is kept as a generic event
 *   (`other`, `unmodelled: true`, counted per kind) of the work item it names (`issue.key`, or `comment`/`worklog`
 *   `issueId` when that is all it has) and its project (`issue.fields.project.key`, `project.key`,
 *   `version.projectId`), never rejected for being new; without a `timestamp` its time is the received time.
 * - Id: `jira:<tracker>/<issue id>/<changelog id>` for a change, else `jira:<tracker>/<issue id>/<webhookEvent>@<timestamp>`;
 *   the tracker is the host (and context path) of `issue.self`.
 */
import { EventBuilder, fallbackTime as receivedTime, hashId, type ParseContext, type Props } from '../context.js';
import { fail } from '../errors.js';
import { asObject, isObject, join, optArray, optObject, optString, reqString, type Json, type JsonObject } from '../json.js';
import { normalizeHost } from '../keys.js';
import type { Phase, TraceEvent } from '../model.js';
import { isoFromMillis, isoFromText } from '../time.js';

const ISSUE_KEY = /^[A-Z][A-Z0-9_]+-\d+$/;

export function parseJira(ctx: ParseContext, body: Json): TraceEvent[] {
  const o = asObject(body, 'body');
  const webhookEvent = reqString(o, 'webhookEvent', '');
  const ts = o['timestamp'];
  if (ts !== undefined && typeof ts !== 'number') fail('expected epoch milliseconds', 'timestamp');
  const issue = optObject(o, 'issue', '');
  const modelled = MODELLED.has(webhookEvent);
  if (modelled && !issue) fail(`required object is missing for ${webhookEvent}`, 'issue');
  const b = new EventBuilder();
  const props: Props = { webhookEvent, issueEventType: optString(o, 'issue_event_type_name', ''), user: userName(o) };
  let phase: Phase = 'modified';
  let tracker: string | undefined;
  let issueId: string | undefined;
  let fallbackTime: string | undefined;

  if (issue) {
    const key = reqString(issue, 'key', 'issue');
    if (!ISSUE_KEY.test(key)) fail(`expected a Jira issue key such as PAY-42, got "${key.slice(0, 40)}"`, 'issue.key');
    issueId = optString(issue, 'id', 'issue') ?? key;
    const self = optString(issue, 'self', 'issue');
    tracker = self ? trackerOf(self) : undefined;
    const fields = optObject(issue, 'fields', 'issue') ?? {};
    const fp = 'issue.fields';
    const project = optObject(fields, 'project', fp);
    const type = optObject(fields, 'issuetype', fp);
    const status = optObject(fields, 'status', fp);
    const category = status ? optObject(status, 'statusCategory', join(fp, 'status')) : undefined;
    const categoryKey = category ? optString(category, 'key', join(fp, 'status.statusCategory')) : undefined;
    const created = optString(fields, 'created', fp);
    const updated = optString(fields, 'updated', fp);
    const parent = optObject(fields, 'parent', fp);
    const workItem = b.entity('WorkItem', key, {
      title: optString(fields, 'summary', fp)?.slice(0, 200),
      ticketType: type ? optString(type, 'name', join(fp, 'issuetype')) : undefined,
      project: project ? optString(project, 'key', join(fp, 'project')) : undefined,
      projectName: project ? optString(project, 'name', join(fp, 'project')) : undefined,
      createdAt: created ? isoFromText(created, join(fp, 'created')) : undefined,
      tracker,
      url: tracker && self ? `${self.slice(0, self.indexOf('/rest/'))}/browse/${key}` : undefined,
    });
    b.concerns(workItem, 'work-item');
    props['issue'] = key;
    props['project'] = project ? optString(project, 'key', join(fp, 'project')) : undefined;
    props['ticketType'] = type ? optString(type, 'name', join(fp, 'issuetype')) : undefined;
    props['status'] = status ? optString(status, 'name', join(fp, 'status')) : undefined;
    props['statusCategory'] = categoryKey;
    props['resolution'] = resolutionOf(fields);
    props['parent'] = parent ? optString(parent, 'key', join(fp, 'parent')) : undefined;
    const linked = linkedIssues(fields);
    if (linked.length) props['linkedIssues'] = linked;
    Object.assign(props, developmentSummary(fields));
    fallbackTime = webhookEvent === 'jira:issue_created' && created ? isoFromText(created, join(fp, 'created')) : undefined;
    fallbackTime ??= updated ? isoFromText(updated, join(fp, 'updated')) : undefined;

    const transition = statusChange(o);
    if (transition) {
      props['statusFrom'] = transition.from;
      props['statusTo'] = transition.to;
    }
    switch (webhookEvent) {
      case 'jira:issue_created':
        phase = 'created';
        break;
      case 'jira:issue_deleted':
        phase = 'deleted';
        break;
      case 'jira:issue_updated':
        phase = transition ? (categoryKey === 'indeterminate' ? 'started' : categoryKey === 'done' ? 'finished' : 'modified') : 'modified';
        break;
      default:
        phase = 'modified';
    }
  } else {
    // Comment, worklog, version, project and other events that name their issue by id only, or no issue.
    for (const what of ['comment', 'worklog']) {
      const x = optObject(o, what, '');
      const id = x ? optString(x, 'issueId', what) : undefined;
      if (id) {
        issueId = id;
        props['issueId'] = id;
      }
      const self = x ? optString(x, 'self', what) : undefined;
      if (self) tracker = trackerOf(self);
    }
  }
  if (!modelled) {
    props['unmodelled'] = true;
    const project = projectOf(o);
    props['project'] ??= project.key;
    props['projectId'] = project.id;
    const version = o['version'];
    if (isObject(version)) {
      props['version'] = typeof version['name'] === 'string' ? version['name'] : undefined;
      props['versionId'] = typeof version['id'] === 'string' ? version['id'] : undefined;
      if (!tracker && typeof version['self'] === 'string') tracker = trackerOf(version['self']);
    }
  }
  if (tracker) props['tracker'] = tracker;
  const time =
    typeof ts === 'number'
      ? isoFromMillis(ts, 'timestamp')
      : (fallbackTime ?? (modelled ? fail('expected the webhook timestamp', 'timestamp') : receivedTime(ctx)));
  const changelog = optObject(o, 'changelog', '');
  const changelogId = changelog ? optString(changelog, 'id', 'changelog') : undefined;
  const id =
    issueId !== undefined && tracker !== undefined
      ? `jira:${tracker}/${issueId}/${changelogId ?? `${webhookEvent}@${typeof ts === 'number' ? ts : time}`}`
      : hashId('jira', ctx.body);
  const outcome = phase === 'finished' ? 'success' : undefined;
  return [
    modelled
      ? b.build(ctx, { id, type: webhookEvent, stage: 'work-item', phase, ...(outcome ? { outcome } : {}), time, props })
      : b.build(ctx, { id, type: webhookEvent, stage: 'other', time, props }),
  ];
}

/** The kinds the project models; any other `webhookEvent` is kept as a generic event marked `unmodelled`. */
const MODELLED: ReadonlySet<string> = new Set(['jira:issue_created', 'jira:issue_updated', 'jira:issue_deleted']);

/** The project an event without an issue names: `project.key` and `project.id` (project events), `version.projectId`. */
function projectOf(o: JsonObject): { key?: string; id?: string } {
  const idOf = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : undefined);
  const project = o['project'];
  const version = o['version'];
  return {
    key: isObject(project) && typeof project['key'] === 'string' && project['key'] ? project['key'] : undefined,
    id: (isObject(project) ? idOf(project['id']) : undefined) ?? (isObject(version) ? idOf(version['projectId']) : undefined),
  };
}

/** `https://acme.atlassian.net/rest/api/2/issue/10023` -> `acme.atlassian.net`; a context path before /rest/ is kept. */
function trackerOf(self: string): string {
  const at = self.indexOf('/rest/');
  return normalizeHost(at > 0 ? self.slice(0, at) : self);
}

function userName(o: JsonObject): string | undefined {
  const u = optObject(o, 'user', '');
  if (!u) return undefined;
  return optString(u, 'displayName', 'user') ?? optString(u, 'name', 'user') ?? optString(u, 'accountId', 'user');
}

function resolutionOf(fields: JsonObject): string | undefined {
  const r = fields['resolution'];
  return isObject(r) && typeof r['name'] === 'string' ? r['name'] : undefined;
}

/** The status change of this update, from the changelog items whose field is `status`. */
function statusChange(o: JsonObject): { from?: string; to?: string } | undefined {
  const changelog = optObject(o, 'changelog', '');
  if (!changelog) return undefined;
  const items = optArray(changelog, 'items', 'changelog');
  for (const [i, item] of items.entries()) {
    const ip = `changelog.items[${i}]`;
    const it = asObject(item, ip);
    const field = optString(it, 'fieldId', ip) ?? optString(it, 'field', ip);
    if (field?.toLowerCase() !== 'status') continue;
    return { from: optString(it, 'fromString', ip) ?? undefined, to: optString(it, 'toString', ip) ?? undefined };
  }
  return undefined;
}

/** `["blocks PAY-7", "is blocked by PAY-3"]` from `fields.issuelinks`. */
function linkedIssues(fields: JsonObject): string[] {
  const out: string[] = [];
  const links = fields['issuelinks'];
  if (!Array.isArray(links)) return out;
  for (const l of links) {
    if (!isObject(l)) continue;
    const type = isObject(l['type']) ? l['type'] : {};
    for (const [side, verb] of [
      ['outwardIssue', 'outward'],
      ['inwardIssue', 'inward'],
    ] as const) {
      const other = l[side];
      if (isObject(other) && typeof other['key'] === 'string') {
        out.push(`${typeof type[verb] === 'string' ? type[verb] : verb} ${other['key']}`);
      }
    }
  }
  return out;
}

const DEV_SUMMARY: Readonly<Record<string, string>> = {
  repository: 'devCommits',
  branch: 'devBranches',
  pullrequest: 'devPullRequests',
  build: 'devBuilds',
  review: 'devReviews',
  'deployment-environment': 'devDeployments',
};

/**
 * The counts of the development panel, from the custom field Jira fills with `devSummaryJson={"cachedValue":…}`
 * (Server / Data Center) or `{…json={"cachedValue":…}}` (Cloud). Zero counts are left out.
 */
function developmentSummary(fields: JsonObject): Props {
  const out: Props = {};
  for (const v of Object.values(fields)) {
    if (typeof v !== 'string' || !v.includes('cachedValue')) continue;
    const text = v.replace(/\\"/g, '"');
    for (const [kind, prop] of Object.entries(DEV_SUMMARY)) {
      const m = new RegExp(`"${kind}"\\s*:\\s*\\{\\s*"overall"\\s*:\\s*\\{\\s*"count"\\s*:\\s*(\\d+)`).exec(text);
      if (m && Number(m[1]) > 0) out[prop] = Number(m[1]);
    }
  }
  return out;
}
