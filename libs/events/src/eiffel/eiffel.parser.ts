/**
 * Eiffel events (https://github.com/eiffel-community/eiffel), every type and version.
 *
 * - Identity is `meta.id`; the time is `meta.time` (epoch milliseconds).
 * - Every `links[]` entry becomes an {@link EventLink} to its target id, kept even when the target is
 *   unknown; a link that breaks the protocol's legality tables is kept and flagged in `illegal`.
 * - Unknown event types and versions other than the one the embedded schemas describe are accepted
 *   as generic events with their links, after an envelope check (meta.id, meta.type, meta.version,
 *   meta.time, data, links). An event that claims the current version of a known type must also
 *   pass the official schema (unless `eiffelSchema: 'warn'`); link problems never reject.
 * - The body is one event or a JSON array of events (a batch); a batch is accepted or rejected whole.
 */
import type { ParseContext, Props } from '../context.js';
import { EventBuilder, repo, workItems } from '../context.js';
import { fail } from '../errors.js';
import {
  asObject,
  describe,
  join,
  optArray,
  optId,
  optObject,
  optString,
  optStrings,
  reqArray,
  reqNumber,
  reqObject,
  reqString,
  type Json,
  type JsonObject,
} from '../json.js';
import { artifactKey, digestKey, environmentKey, gavFromPurl, jenkinsBuildFromUrl, buildKey, releaseKey, runKey } from '../keys.js';
import type { EntityRef, Outcome, Phase, Stage, TraceEvent } from '../model.js';
import { isoFromMillis } from '../time.js';
import { eiffelLinkProblem, missingRequiredEiffelLinks } from './eiffel-legality.js';
import { eiffelSchemaVersion, validateEiffel } from './eiffel.validator.js';

/** Link types become relationship types in the graph, so they must be plain identifiers. */
const LINK_TYPE = /^[A-Z][A-Z0-9_]*$/;

/** Where activity and test runs that Eiffel identifies only by their triggering event are keyed. */
export const EIFFEL_RUN_INSTANCE = 'eiffel';

export function parseEiffel(ctx: ParseContext, body: Json): TraceEvent[] {
  if (Array.isArray(body)) {
    if (body.length === 0) fail('expected an Eiffel event or a non-empty array of Eiffel events, got an empty array', 'body');
    return (body as readonly Json[]).map((e, i) => parseEiffelEvent(ctx, e, `[${i}]`));
  }
  return [parseEiffelEvent(ctx, body, '')];
}

/** True when the value looks like an Eiffel event (used to explain a wrong routing key). */
export function looksLikeEiffel(v: Json): boolean {
  const first = Array.isArray(v) ? v[0] : v;
  if (typeof first !== 'object' || first === null || Array.isArray(first)) return false;
  const meta = (first as JsonObject)['meta'];
  return (
    typeof meta === 'object' &&
    meta !== null &&
    typeof (meta as JsonObject)['type'] === 'string' &&
    String((meta as JsonObject)['type']).startsWith('Eiffel')
  );
}

function parseEiffelEvent(ctx: ParseContext, value: Json, base: string): TraceEvent {
  const o = asObject(value, base || 'body');
  const meta = reqObject(o, 'meta', base);
  const mp = join(base, 'meta');
  const id = reqString(meta, 'id', mp);
  if (id.length > 256) fail('expected an event id of at most 256 characters', join(mp, 'id'));
  const type = reqString(meta, 'type', mp);
  const version = reqString(meta, 'version', mp);
  const ms = reqNumber(meta, 'time', mp);
  const time = isoFromMillis(ms, join(mp, 'time'));
  const data = reqObject(o, 'data', base);
  const dp = join(base, 'data');
  const links = reqArray(o, 'links', base);

  const schemaVersion = eiffelSchemaVersion(type);
  if (schemaVersion !== undefined && schemaVersion === version) {
    const issues = validateEiffel(o);
    for (const issue of issues) {
      const field = base ? `${base}.${issue.field}` : issue.field;
      if (issue.field === 'links' || issue.field.startsWith('links[') || issue.field.startsWith('links.')) {
        ctx.warnings.push(`${field}: ${issue.message}`);
      } else if (ctx.options.eiffelSchema === 'warn') {
        ctx.warnings.push(`${field}: ${issue.message} (schema of ${type} ${version})`);
      } else {
        fail(`${issue.message} (official schema of ${type} ${version})`, field);
      }
    }
  }

  const b = new EventBuilder();
  const counts = new Map<string, number>();
  const parsed: { type: string; target: string; raw: string }[] = [];
  links.forEach((l, i) => {
    const lp = join(join(base, 'links'), i);
    const lo = asObject(l, lp);
    const raw = reqString(lo, 'type', lp);
    const target = reqString(lo, 'target', lp);
    parsed.push({ type: raw, target, raw });
    counts.set(raw, (counts.get(raw) ?? 0) + 1);
  });
  for (const l of parsed) {
    let linkType = l.raw;
    let illegal: string | undefined;
    if (!LINK_TYPE.test(linkType)) {
      linkType = linkType.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
      if (!/^[A-Z]/.test(linkType)) linkType = `L_${linkType}`;
      illegal = `link type "${l.raw}" is not an upper-case identifier; stored as ${linkType}`;
    }
    illegal ??= eiffelLinkProblem(type, l.raw, counts.get(l.raw));
    b.link(linkType, l.target, illegal);
  }
  const missing = missingRequiredEiffelLinks(type, new Set(counts.keys()));
  if (missing.length) ctx.warnings.push(`${base || 'event'} ${id}: ${type} lacks its required ${missing.join(', ')} link(s)`);

  const source = optObject(meta, 'source', mp);
  const props: Props = {
    version,
    domainId: source ? optString(source, 'domainId', join(mp, 'source')) : undefined,
    sourceName: source ? optString(source, 'name', join(mp, 'source')) : undefined,
    sourceHost: source ? optString(source, 'host', join(mp, 'source')) : undefined,
    sourceUri: source ? optString(source, 'uri', join(mp, 'source')) : undefined,
    tags: meta['tags'] !== undefined ? optStrings(meta, 'tags', mp) : undefined,
    missingLinks: missing.length ? missing : undefined,
    knownType: schemaVersion !== undefined,
    // A type the protocol's definitions do not know (a custom or newer one): generic, counted by kind.
    unmodelled: schemaVersion === undefined ? true : undefined,
  };
  const shape = describeType(ctx, b, type, id, data, dp, props, firstTarget(parsed));
  return b.build(ctx, { id, type, stage: shape.stage, phase: shape.phase, outcome: shape.outcome, time, props });
}

function firstTarget(links: readonly { type: string; target: string }[]): (linkType: string) => string | undefined {
  return (linkType) => links.find((l) => l.type === linkType)?.target;
}

interface Shape {
  stage: Stage;
  phase?: Phase;
  outcome?: Outcome;
}

const ACTIVITY_OUTCOME: Readonly<Record<string, Outcome>> = {
  SUCCESSFUL: 'success',
  UNSUCCESSFUL: 'failure',
  FAILED: 'error',
  ABORTED: 'canceled',
  TIMED_OUT: 'error',
  INCONCLUSIVE: 'inconclusive',
};

const VERDICT: Readonly<Record<string, Outcome>> = { PASSED: 'success', FAILED: 'failure', INCONCLUSIVE: 'inconclusive' };
const CONFIDENCE: Readonly<Record<string, Outcome>> = { SUCCESS: 'success', FAILURE: 'failure', INCONCLUSIVE: 'inconclusive' };

function testOutcome(outcome: JsonObject | undefined, path: string): Outcome | undefined {
  if (!outcome) return undefined;
  const conclusion = optString(outcome, 'conclusion', path);
  const verdict = optString(outcome, 'verdict', path);
  if (conclusion === 'ABORTED') return 'canceled';
  if (conclusion === 'TIMED_OUT' || conclusion === 'FAILED') return verdict === 'FAILED' ? 'failure' : 'error';
  return verdict ? VERDICT[verdict] : conclusion === 'SUCCESSFUL' ? 'success' : conclusion === 'INCONCLUSIVE' ? 'inconclusive' : undefined;
}

function person(o: JsonObject | undefined, path: string, prefix: string, props: Props): void {
  if (!o) return;
  props[`${prefix}Name`] = optString(o, 'name', path);
  props[`${prefix}Email`] = optString(o, 'email', path);
  props[`${prefix}Id`] = optString(o, 'id', path);
  props[`${prefix}Group`] = optString(o, 'group', path);
}

/** Commit (and repository, work items) named by an SCM identifier of a source-change event. */
function sourceChange(ctx: ParseContext, b: EventBuilder, data: JsonObject, dp: string, role: string, props: Props): EntityRef | undefined {
  for (const kind of ['gitIdentifier', 'hgIdentifier'] as const) {
    const g = optObject(data, kind, dp);
    if (!g) continue;
    const gp = join(dp, kind);
    const sha = optString(g, 'commitId', gp);
    const uri = optString(g, 'repoUri', gp) ?? optString(g, 'repoName', gp);
    const branch = optString(g, 'branch', gp);
    props['branch'] = branch;
    props['repoName'] = optString(g, 'repoName', gp);
    if (!sha || !uri) continue;
    const repository = repo(ctx, uri);
    const ref = b.commit(ctx, repository, sha, {}, branch);
    b.concerns(ref, role);
    b.concerns(b.entity('Repository', repository, {}), role);
    return ref;
  }
  const svn = optObject(data, 'svnIdentifier', dp);
  if (svn) {
    const sp = join(dp, 'svnIdentifier');
    const rev = optId(svn, 'revision', sp);
    const uri = optString(svn, 'repoUri', sp) ?? optString(svn, 'repoName', sp);
    if (rev && uri) {
      const repository = repo(ctx, uri);
      const r = b.entity('Repository', repository, {});
      const ref = b.entity('Commit', `${repository}@r${rev}`, { sha: `r${rev}`, repository, directory: optString(svn, 'directory', sp) });
      b.relate(ref, 'IN_REPOSITORY', r);
      b.concerns(ref, role);
      return ref;
    }
  }
  return undefined;
}

function describeType(
  ctx: ParseContext,
  b: EventBuilder,
  type: string,
  id: string,
  data: JsonObject,
  dp: string,
  props: Props,
  target: (linkType: string) => string | undefined,
): Shape {
  const run = (triggerId: string | undefined): EntityRef | undefined =>
    triggerId ? { label: 'Build', key: runKey(EIFFEL_RUN_INSTANCE, triggerId) } : undefined;
  switch (type) {
    case 'EiffelSourceChangeCreatedEvent': {
      person(optObject(data, 'author', dp), join(dp, 'author'), 'author', props);
      const change = optObject(data, 'change', dp);
      if (change) {
        const cp = join(dp, 'change');
        props['changeId'] = optId(change, 'id', cp);
        props['changeTracker'] = optString(change, 'tracker', cp);
        props['changeDetails'] = optString(change, 'details', cp);
        props['insertions'] = optIdNumber(change, 'insertions', cp);
        props['deletions'] = optIdNumber(change, 'deletions', cp);
      }
      const commit = sourceChange(ctx, b, data, dp, 'created', props);
      // Before version 2 the issues were data, not links.
      optArray(data, 'issues', dp).forEach((issue, i) => {
        const ip = join(join(dp, 'issues'), i);
        const io = asObject(issue, ip);
        const key = optId(io, 'id', ip);
        if (!key) return;
        const wi = b.entity('WorkItem', key, { tracker: optString(io, 'tracker', ip), uri: optString(io, 'uri', ip) });
        if (commit) b.relate(commit, 'REFERENCES', wi);
        b.concerns(wi, 'references');
      });
      return { stage: 'commit', phase: 'created' };
    }
    case 'EiffelSourceChangeSubmittedEvent':
      person(optObject(data, 'submitter', dp), join(dp, 'submitter'), 'submitter', props);
      sourceChange(ctx, b, data, dp, 'submitted', props);
      return { stage: 'merge', phase: 'finished', outcome: 'success' };
    case 'EiffelActivityTriggeredEvent': {
      const name = optString(data, 'name', dp);
      props['name'] = name;
      props['categories'] = data['categories'] !== undefined ? optStrings(data, 'categories', dp) : undefined;
      props['executionType'] = optString(data, 'executionType', dp);
      b.concerns(b.entity('Build', runKey(EIFFEL_RUN_INSTANCE, id), { name }), 'run');
      return { stage: 'build', phase: 'triggered' };
    }
    case 'EiffelActivityStartedEvent': {
      const uri = optString(data, 'executionUri', dp);
      props['executionUri'] = uri;
      const r = run(target('ACTIVITY_EXECUTION'));
      if (r) {
        const jenkins = uri ? jenkinsBuildFromUrl(uri) : undefined;
        const aliases = jenkins ? [buildKey(jenkins.instance, jenkins.job, jenkins.number)] : [];
        b.concerns(b.entity('Build', r.key, { url: uri }, aliases), 'run');
      }
      return { stage: 'build', phase: 'started' };
    }
    case 'EiffelActivityFinishedEvent':
    case 'EiffelActivityCanceledEvent': {
      const outcome = optObject(data, 'outcome', dp);
      const conclusion = outcome ? optString(outcome, 'conclusion', join(dp, 'outcome')) : undefined;
      props['conclusion'] = conclusion;
      props['description'] = outcome ? optString(outcome, 'description', join(dp, 'outcome')) : undefined;
      props['reason'] = optString(data, 'reason', dp);
      const r = run(target('ACTIVITY_EXECUTION'));
      const canceled = type === 'EiffelActivityCanceledEvent';
      const result: Outcome | undefined = canceled ? 'canceled' : conclusion ? ACTIVITY_OUTCOME[conclusion] : undefined;
      if (r) b.concerns(b.entity('Build', r.key, result ? { result } : {}), 'run');
      return { stage: 'build', phase: canceled ? 'canceled' : 'finished', outcome: result };
    }
    case 'EiffelArtifactCreatedEvent': {
      const identity = optString(data, 'identity', dp);
      const gav = optObject(data, 'gav', dp);
      const gp = join(dp, 'gav');
      const g = gav
        ? { group: reqString(gav, 'groupId', gp), artifact: reqString(gav, 'artifactId', gp), version: reqString(gav, 'version', gp) }
        : identity
          ? gavFromPurl(identity)
          : undefined;
      const files = optArray(data, 'fileInformation', dp);
      const digests: string[] = [];
      if (files.length === 1) {
        const fp = `${join(dp, 'fileInformation')}[0]`;
        const ip = optObject(asObject(files[0], fp), 'integrityProtection', fp);
        if (ip) {
          const d = digestKey(
            reqString(ip, 'alg', join(fp, 'integrityProtection')),
            reqString(ip, 'digest', join(fp, 'integrityProtection')),
          );
          if (d) digests.push(d);
        }
      }
      const key = artifactKey({ digests, purl: identity, gav: g });
      props['identity'] = identity;
      props['name'] = optString(data, 'name', dp);
      if (key) {
        const art = b.entity('Artifact', key.key, { purl: identity, name: optString(data, 'name', dp) }, key.aliases);
        b.concerns(art, 'created');
      }
      return { stage: 'artifact', phase: 'created' };
    }
    case 'EiffelArtifactPublishedEvent': {
      const locations = optArray(data, 'locations', dp).map((l, i) => {
        const lp = join(join(dp, 'locations'), i);
        return reqString(asObject(l, lp), 'uri', lp);
      });
      props['locations'] = locations;
      return { stage: 'publication', phase: 'finished', outcome: 'success' };
    }
    case 'EiffelArtifactDeployedEvent':
      props['description'] = optString(data, 'description', dp);
      props['uri'] = optString(data, 'uri', dp);
      return { stage: 'deployment', phase: 'finished', outcome: 'success' };
    case 'EiffelArtifactReusedEvent':
      return { stage: 'artifact', phase: 'defined' };
    case 'EiffelCompositionDefinedEvent': {
      const name = optString(data, 'name', dp);
      const version = optString(data, 'version', dp);
      props['name'] = name;
      props['compositionVersion'] = version;
      if (name && version) b.concerns(b.entity('Release', releaseKey(name, version), { product: name, version }), 'composition');
      return { stage: 'release', phase: 'defined' };
    }
    case 'EiffelConfidenceLevelModifiedEvent': {
      const value = optString(data, 'value', dp);
      props['name'] = optString(data, 'name', dp);
      props['value'] = value;
      person(optObject(data, 'issuer', dp), join(dp, 'issuer'), 'issuer', props);
      return { stage: 'promotion', phase: 'modified', outcome: value ? CONFIDENCE[value] : undefined };
    }
    case 'EiffelEnvironmentDefinedEvent': {
      const name = optString(data, 'name', dp);
      props['name'] = name;
      props['environmentVersion'] = optString(data, 'version', dp);
      props['image'] = optString(data, 'image', dp);
      props['uri'] = optString(data, 'uri', dp);
      if (name) b.concerns(b.entity('Environment', environmentKey(name), { name }), 'defined');
      return { stage: 'other', phase: 'defined' };
    }
    case 'EiffelFlowContextDefinedEvent': {
      const product = optString(data, 'product', dp);
      const version = optString(data, 'version', dp);
      for (const k of ['product', 'project', 'program', 'track', 'version'])
        props[k === 'version' ? 'flowVersion' : k] = optString(data, k, dp);
      if (product && version) b.concerns(b.entity('Release', releaseKey(product, version), { product, version }), 'flow-context');
      return { stage: 'other', phase: 'defined' };
    }
    case 'EiffelIssueDefinedEvent': {
      const key = optId(data, 'id', dp);
      const title = optString(data, 'title', dp);
      props['issueId'] = key;
      props['tracker'] = optString(data, 'tracker', dp);
      props['title'] = title;
      if (key)
        b.concerns(
          b.entity('WorkItem', key, {
            tracker: optString(data, 'tracker', dp),
            uri: optString(data, 'uri', dp),
            title,
            issueType: optString(data, 'type', dp),
          }),
          'defined',
        );
      for (const wi of workItems(ctx, title)) if (wi !== key) b.concerns(b.entity('WorkItem', wi, {}), 'references');
      return { stage: 'work-item', phase: 'defined' };
    }
    case 'EiffelIssueVerifiedEvent': {
      const outcome: Outcome | undefined = target('SUCCESSFUL_ISSUE')
        ? 'success'
        : target('FAILED_ISSUE')
          ? 'failure'
          : target('INCONCLUSIVE_ISSUE')
            ? 'inconclusive'
            : undefined;
      return { stage: 'test', phase: 'finished', outcome };
    }
    case 'EiffelTestCaseTriggeredEvent': {
      const tc = optObject(data, 'testCase', dp);
      const tp = join(dp, 'testCase');
      const testCase = tc ? optId(tc, 'id', tp) : undefined;
      props['testCase'] = testCase;
      props['testCaseTracker'] = tc ? optString(tc, 'tracker', tp) : undefined;
      props['testCaseUri'] = tc ? optString(tc, 'uri', tp) : undefined;
      b.concerns(b.entity('TestRun', runKey(EIFFEL_RUN_INSTANCE, id), { testCase, kind: 'test-case' }), 'run');
      return { stage: 'test', phase: 'triggered' };
    }
    case 'EiffelTestCaseStartedEvent':
    case 'EiffelTestCaseFinishedEvent':
    case 'EiffelTestCaseCanceledEvent': {
      const outcome =
        type === 'EiffelTestCaseCanceledEvent' ? 'canceled' : testOutcome(optObject(data, 'outcome', dp), join(dp, 'outcome'));
      const o = optObject(data, 'outcome', dp);
      props['verdict'] = o ? optString(o, 'verdict', join(dp, 'outcome')) : undefined;
      props['conclusion'] = o ? optString(o, 'conclusion', join(dp, 'outcome')) : undefined;
      props['executor'] = optString(data, 'executor', dp);
      props['reason'] = optString(data, 'reason', dp);
      const t = target('TEST_CASE_EXECUTION');
      if (t) b.concerns(b.entity('TestRun', runKey(EIFFEL_RUN_INSTANCE, t), outcome ? { result: outcome } : {}), 'run');
      const phase: Phase =
        type === 'EiffelTestCaseStartedEvent' ? 'started' : type === 'EiffelTestCaseCanceledEvent' ? 'canceled' : 'finished';
      return { stage: 'test', phase, outcome };
    }
    case 'EiffelTestSuiteStartedEvent': {
      const name = optString(data, 'name', dp);
      props['name'] = name;
      props['categories'] = data['categories'] !== undefined ? optStrings(data, 'categories', dp) : undefined;
      b.concerns(b.entity('TestRun', runKey(EIFFEL_RUN_INSTANCE, id), { name, kind: 'test-suite' }), 'run');
      return { stage: 'test', phase: 'started' };
    }
    case 'EiffelTestSuiteFinishedEvent': {
      const o = optObject(data, 'outcome', dp);
      const outcome = testOutcome(o, join(dp, 'outcome'));
      props['verdict'] = o ? optString(o, 'verdict', join(dp, 'outcome')) : undefined;
      const t = target('TEST_SUITE_EXECUTION');
      if (t) b.concerns(b.entity('TestRun', runKey(EIFFEL_RUN_INSTANCE, t), outcome ? { result: outcome } : {}), 'run');
      return { stage: 'test', phase: 'finished', outcome };
    }
    case 'EiffelTestExecutionRecipeCollectionCreatedEvent':
      return { stage: 'test', phase: 'defined' };
    case 'EiffelAnnouncementPublishedEvent':
      props['heading'] = optString(data, 'heading', dp);
      props['severity'] = optString(data, 'severity', dp);
      return { stage: 'other', phase: 'created' };
    default:
      return { stage: 'other' };
  }
}

function optIdNumber(o: JsonObject, key: string, path: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number') fail(`expected a number, got ${describe(v)}`, join(path, key));
  return v;
}
