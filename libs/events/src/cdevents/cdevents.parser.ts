/**
 * CDEvents (https://cdevents.dev, spec v0.4 and v0.5) carried as CloudEvents over AMQP.
 *
 * - Structured mode: the body is a CloudEvent (`specversion`, `id`, `source`, `type`, `data`, or
 *   `data_base64`) whose data is the CDEvent (`context` + `subject`); a JSON array is a batch.
 * - Binary mode: the CloudEvents attributes travel in AMQP headers (`cloudEvents:id`, `cloudEvents_id`,
 *   `ce-id`, `ce_id`, …) and the body is the CDEvent itself. A bare CDEvent without any CloudEvents
 *   attributes is read the same way.
 * - The CDEvent's own context is authoritative; a CloudEvents id or type that disagrees with it is a warning.
 * - Event id: `cdevents:<context.source>|<context.id>` (source + id, as CloudEvents and CDEvents define
 *   uniqueness; `|` cannot occur unescaped in a URI-reference source).
 * - `context.links` become event links: PATH and END to their `from` event, RELATION to its `target`
 *   event with the link kind (e.g. TRIGGER) as the link type. A link names its target only by context id,
 *   so the link points at the event of that id from this event's source; the graph re-points it at another
 *   tool's event when the context id cannot be ambiguous (cdevents-ids.ts, the README).
 * - References inside `subject.content` (`repository`, `change`, `pipelineRun`, `testSuiteRun`,
 *   `testCaseRun`, `environment`, `artifactId`, …) become entities and relations.
 */
import { EventBuilder, header, repo, workItems, type ParseContext, type Props } from '../context.js';
import { digestsFromPurl } from '../artifact-ids.js';
import { fail } from '../errors.js';
import {
  asObject,
  isObject,
  join,
  optArray,
  optObject,
  optString,
  optStrings,
  reqObject,
  reqString,
  type Json,
  type JsonObject,
} from '../json.js';
import { artifactKey, buildKey, changeKey, environmentKey, jenkinsBuildFromUrl, normalizeHost, runKey } from '../keys.js';
import type { EntityRef, Outcome, Phase, Stage, TraceEvent } from '../model.js';
import { isoFromText } from '../time.js';
import { cdeventsEventId } from './cdevents-ids.js';

/** AMQP header prefixes of CloudEvents attributes in binary mode: AMQP 1.0 binding, its JMS-safe form, HTTP-style. */
const CE_PREFIXES = ['cloudEvents:', 'cloudEvents_', 'ce-', 'ce_'];

const TYPE = /^dev\.cdevents\.([a-z][a-z0-9]*)\.([a-z][a-z0-9]*)\.(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/;
const CUSTOM_TYPE = /^dev\.cdeventsx\.[a-z0-9][a-z0-9-]*\.[a-z][a-z0-9]*\.\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;
const LINK_TYPE = /^[A-Z][A-Z0-9_]*$/;

interface Envelope {
  readonly mode: 'structured' | 'binary' | 'plain';
  readonly id?: string;
  readonly type?: string;
  readonly source?: string;
}

function ceHeader(ctx: ParseContext, attribute: string): string | undefined {
  for (const p of CE_PREFIXES) {
    const v = header(ctx, `${p}${attribute}`);
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
}

export function parseCdevents(ctx: ParseContext, body: Json): TraceEvent[] {
  if (Array.isArray(body)) {
    if (body.length === 0) fail('expected a CloudEvent, a CDEvent or a non-empty batch of CloudEvents, got an empty array', 'body');
    return (body as readonly Json[]).map((e, i) => structured(ctx, asObject(e, `[${i}]`), `[${i}]`));
  }
  const o = asObject(body, 'body');
  if (o['specversion'] !== undefined && o['context'] === undefined) return [structured(ctx, o, '')];
  if (o['context'] === undefined) {
    fail('expected a CloudEvent (specversion, id, source, type, data) or a CDEvent (context, subject)', 'context');
  }
  const specversion = ceHeader(ctx, 'specversion');
  const envelope: Envelope = specversion
    ? { mode: 'binary', id: ceHeader(ctx, 'id'), type: ceHeader(ctx, 'type'), source: ceHeader(ctx, 'source') }
    : { mode: 'plain' };
  return [cdEvent(ctx, o, '', envelope)];
}

/** A CloudEvent in structured mode: its data (JSON, a JSON string, or base64) is the CDEvent. */
function structured(ctx: ParseContext, o: JsonObject, base: string): TraceEvent {
  const specversion = reqString(o, 'specversion', base);
  if (!specversion.startsWith('1.')) ctx.warnings.push(`${join(base, 'specversion')}: CloudEvents ${specversion}; read as 1.0`);
  const envelope: Envelope = {
    mode: 'structured',
    id: reqString(o, 'id', base),
    type: reqString(o, 'type', base),
    source: reqString(o, 'source', base),
  };
  const dp = join(base, 'data');
  let data: Json | undefined = o['data'];
  if (data === undefined || data === null) {
    const b64 = optString(o, 'data_base64', base);
    if (b64 === undefined) fail('required CDEvent is missing (expected data or data_base64)', dp);
    data = jsonText(Buffer.from(b64, 'base64').toString('utf8'), join(base, 'data_base64'));
  } else if (typeof data === 'string') {
    data = jsonText(data, dp);
  }
  return cdEvent(ctx, asObject(data, dp), dp, envelope);
}

function jsonText(text: string, field: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    fail('expected the CDEvent as JSON', field);
  }
}

interface Ref {
  readonly id: string;
  readonly source?: string;
}

function ref(content: JsonObject, key: string, path: string): Ref | undefined {
  const r = optObject(content, key, path);
  if (!r) return undefined;
  const rp = join(path, key);
  return { id: reqString(r, 'id', rp), source: optString(r, 'source', rp) };
}

function cdEvent(ctx: ParseContext, o: JsonObject, base: string, envelope: Envelope): TraceEvent {
  const context = reqObject(o, 'context', base);
  const cp = join(base, 'context');
  const id = reqString(context, 'id', cp);
  const source = reqString(context, 'source', cp);
  const type = reqString(context, 'type', cp);
  const time = isoFromText(reqString(context, 'timestamp', cp), join(cp, 'timestamp'));
  const specVersion = optString(context, 'specversion', cp) ?? optString(context, 'version', cp);
  const m = TYPE.exec(type);
  if (!m && !CUSTOM_TYPE.test(type))
    fail(`expected a CDEvents type dev.cdevents.<subject>.<predicate>.<version>, got "${type.slice(0, 60)}"`, join(cp, 'type'));
  if (envelope.id !== undefined && envelope.id !== id)
    ctx.warnings.push(`${cp}.id: the CloudEvents id "${envelope.id}" differs from the CDEvent's "${id}"; the CDEvent's is used`);
  if (envelope.type !== undefined && envelope.type !== type)
    ctx.warnings.push(`${cp}.type: the CloudEvents type "${envelope.type}" differs from the CDEvent's "${type}"; the CDEvent's is used`);
  if (envelope.source !== undefined && envelope.source !== source)
    ctx.warnings.push(
      `${cp}.source: the CloudEvents source "${envelope.source}" differs from the CDEvent's "${source}"; the CDEvent's is used`,
    );

  const subject = reqObject(o, 'subject', base);
  const sp = join(base, 'subject');
  const subjectId = reqString(subject, 'id', sp);
  const subjectSource = optString(subject, 'source', sp) ?? source;
  const content = optObject(subject, 'content', sp) ?? {};
  const kp = join(sp, 'content');

  const b = new EventBuilder();
  links(ctx, b, context, cp, source, id);
  const props: Props = {
    mode: envelope.mode,
    specVersion,
    contextId: id,
    contextSource: source,
    chainId: optString(context, 'chainId', cp),
    schemaUri: optString(context, 'schemaUri', cp),
    subjectId,
    subjectSource,
    subjectType: optString(subject, 'type', sp),
    typeVersion: m?.[3],
  };
  const described = m
    ? describeSubject(ctx, b, { subject: m[1]!, predicate: m[2]!, subjectId, subjectSource, content, path: kp, props })
    : unmodelled(props);
  // A predicate the spec does not give its subject (a newer one): the entities found above, as a generic event.
  const predicates = m ? SPEC_PREDICATES[m[1]!] : undefined;
  const shape = predicates && !predicates.has(m![2]!) ? unmodelled(props) : described;
  return b.build(ctx, {
    id: cdeventsEventId(source, id),
    type,
    stage: shape.stage,
    phase: shape.phase,
    outcome: shape.outcome,
    time,
    props,
  });
}

/** `context.links` (embedded links of the v0.4+ links spec; the snake_case standalone form is read too). */
function links(ctx: ParseContext, b: EventBuilder, context: JsonObject, cp: string, source: string, selfId: string): void {
  optArray(context, 'links', cp).forEach((l, i) => {
    const lp = join(join(cp, 'links'), i);
    const lo = asObject(l, lp);
    const linkType = (optString(lo, 'linkType', lp) ?? reqString(lo, 'link_type', lp)).toUpperCase();
    const contextId = (key: string): string | undefined => {
      const end = optObject(lo, key, lp);
      if (!end) return undefined;
      return optString(end, 'contextId', join(lp, key)) ?? optString(end, 'context_id', join(lp, key));
    };
    let type: string;
    let target: string | undefined;
    if (linkType === 'RELATION') {
      const kind = (optString(lo, 'linkKind', lp) ?? optString(lo, 'link_kind', lp) ?? 'RELATION')
        .toUpperCase()
        .replace(/[^A-Z0-9_]/g, '_');
      type = LINK_TYPE.test(kind) ? kind : `RELATION_${kind}`;
      target = contextId('target');
    } else if (linkType === 'PATH' || linkType === 'END') {
      type = linkType;
      target = contextId('from');
      const to = contextId('to');
      if (to !== undefined && to !== selfId)
        ctx.warnings.push(`${lp}: a ${linkType} link to another event (${to}) cannot be an edge of this event; kept only its "from"`);
    } else if (linkType === 'START') {
      return;
    } else {
      type = linkType.replace(/[^A-Z0-9_]/g, '_');
      if (!LINK_TYPE.test(type)) type = `L_${type}`;
      target = contextId('target') ?? contextId('from');
    }
    if (target === undefined) {
      ctx.warnings.push(`${lp}: a ${linkType} link without a context id (a domain id only?) is not an event edge; skipped`);
      return;
    }
    b.link(type, cdeventsEventId(source, target));
  });
}

interface Shape {
  stage: Stage;
  phase?: Phase;
  outcome?: Outcome;
}

interface Subject {
  readonly subject: string;
  readonly predicate: string;
  readonly subjectId: string;
  readonly subjectSource: string;
  readonly content: JsonObject;
  readonly path: string;
  readonly props: Props;
}

const RUN_OUTCOME: Readonly<Record<string, Outcome>> = {
  success: 'success',
  successful: 'success',
  pass: 'success',
  passed: 'success',
  failure: 'failure',
  fail: 'failure',
  failed: 'failure',
  error: 'error',
  cancel: 'canceled',
  canceled: 'canceled',
  cancelled: 'canceled',
  skipped: 'canceled',
};

/** The predicates of each subject in the CDEvents spec (v0.4, v0.5); another is kept as a generic event. */
const SPEC_PREDICATES: Readonly<Record<string, ReadonlySet<string>>> = {
  pipelinerun: new Set(['queued', 'started', 'finished']),
  taskrun: new Set(['started', 'finished']),
  build: new Set(['queued', 'started', 'finished']),
  change: new Set(['created', 'updated', 'reviewed', 'merged', 'abandoned']),
  branch: new Set(['created', 'deleted']),
  repository: new Set(['created', 'modified', 'deleted']),
  artifact: new Set(['packaged', 'published', 'signed', 'deleted', 'downloaded']),
  testcaserun: new Set(['queued', 'started', 'finished', 'skipped']),
  testsuiterun: new Set(['queued', 'started', 'finished']),
  testoutput: new Set(['published']),
  environment: new Set(['created', 'modified', 'deleted']),
  service: new Set(['deployed', 'upgraded', 'rolledback', 'removed', 'published']),
  incident: new Set(['detected', 'reported', 'resolved']),
  ticket: new Set(['created', 'updated', 'closed']),
};

const PHASE: Readonly<Record<string, Phase>> = {
  queued: 'queued',
  started: 'started',
  finished: 'finished',
  created: 'created',
  updated: 'modified',
  modified: 'modified',
  reviewed: 'modified',
  deleted: 'deleted',
  removed: 'deleted',
  closed: 'finished',
};

function outcomeOf(content: JsonObject, path: string): Outcome | undefined {
  const o = optString(content, 'outcome', path);
  if (o === undefined) return undefined;
  return RUN_OUTCOME[o.toLowerCase()] ?? 'inconclusive';
}

/** The repository a CDEvents `repository` reference (or a change's `source`) names, as a clone URL. */
function repositoryUrl(r: Ref): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(r.id) || /^[^@/\s]+@[^:/\s]+:/.test(r.id)) return r.id;
  if (!r.source) return r.id;
  return `${r.source.replace(/\/+$/, '')}/${r.id.replace(/^\/+/, '')}`;
}

function artifact(b: EventBuilder, purl: string, props: Props = {}): EntityRef | undefined {
  const key = artifactKey({ digests: digestsFromPurl(purl), purl });
  return key ? b.entity('Artifact', key.key, { purl, ...props }, key.aliases) : undefined;
}

function environment(b: EventBuilder, r: Ref | undefined, props: Props = {}): EntityRef | undefined {
  return r ? b.entity('Environment', environmentKey(r.id), { source: r.source, ...props }) : undefined;
}

/** A run (pipeline run, task run, build, test run) is keyed by its subject: `<source as host/path>/run/<id>`. */
function run(b: EventBuilder, label: 'Build' | 'TestRun', source: string, id: string, props: Props, url?: string): EntityRef {
  const jenkins = url ? jenkinsBuildFromUrl(url) : undefined;
  const aliases = jenkins ? [buildKey(jenkins.instance, jenkins.job, jenkins.number)] : [];
  return b.entity(label, runKey(source, id), props, aliases);
}

function describeSubject(ctx: ParseContext, b: EventBuilder, s: Subject): Shape {
  const { content, path, props, predicate } = s;
  const str = (key: string) => optString(content, key, path);
  const phase = PHASE[predicate];
  switch (s.subject) {
    case 'pipelinerun':
    case 'taskrun':
    case 'build': {
      // v0.5 renamed `url` to `uri`; read both.
      const url = str('url') ?? str('uri');
      const name = str('pipelineName') ?? str('taskName');
      const outcome = predicate === 'finished' ? outcomeOf(content, path) : undefined;
      props['name'] = name;
      props['url'] = url;
      props['errors'] = str('errors');
      const r = run(b, 'Build', s.subjectSource, s.subjectId, { name, url, kind: s.subject, ...(outcome ? { result: outcome } : {}) }, url);
      b.concerns(r, 'run');
      b.relate(r, 'AT_SITE', b.entity('Site', ctx.origin.site, {}));
      const pipelineRun = ref(content, 'pipelineRun', path);
      if (pipelineRun)
        b.concerns(
          b.entity('Build', runKey(pipelineRun.source ?? s.subjectSource, pipelineRun.id), { kind: 'pipelinerun' }),
          'pipeline-run',
        );
      const artifactId = str('artifactId');
      if (artifactId) {
        const a = artifact(b, artifactId);
        if (a) {
          b.relate(r, 'PRODUCED', a);
          b.concerns(a, 'produced');
        }
      }
      return { stage: 'build', phase, outcome };
    }
    case 'change': {
      const repository = ref(content, 'repository', path);
      const repoUrl = repository ? repositoryUrl(repository) : s.subjectSource;
      const repoKey = repo(ctx, repoUrl);
      const description = str('description');
      props['description'] = description?.slice(0, 500);
      const change = b.entity('Change', changeKey(repoKey, s.subjectId), {
        number: s.subjectId,
        title: description?.split('\n', 1)[0]?.slice(0, 200),
        merged: predicate === 'merged' ? true : undefined,
      });
      b.relate(change, 'IN_REPOSITORY', b.entity('Repository', repoKey, { url: repoUrl }));
      b.concerns(change, 'change');
      for (const wi of workItems(ctx, [description, s.subjectId].filter(Boolean).join('\n'), repoKey))
        b.relate(change, 'REFERENCES', b.entity('WorkItem', wi, {}));
      if (predicate === 'merged') return { stage: 'merge', phase: 'finished', outcome: 'success' };
      if (predicate === 'abandoned') return { stage: 'review', phase: 'finished', outcome: 'canceled' };
      return { stage: 'review', phase };
    }
    case 'branch':
    case 'repository': {
      const repository = ref(content, 'repository', path);
      const url =
        str('url') ?? str('uri') ?? (repository ? repositoryUrl(repository) : repositoryUrl({ id: s.subjectId, source: s.subjectSource }));
      const repoKey = repo(ctx, url);
      b.concerns(b.entity('Repository', repoKey, { url, name: str('name'), owner: str('owner'), viewUrl: str('viewUrl') }), s.subject);
      if (s.subject === 'branch') props['branch'] = s.subjectId;
      return { stage: s.subject === 'branch' ? 'commit' : 'other', phase };
    }
    case 'artifact': {
      const sbom = optObject(content, 'sbom', path);
      props['sbom'] = sbom ? optString(sbom, 'uri', join(path, 'sbom')) : undefined;
      props['signature'] = str('signature');
      props['user'] = str('user');
      const a = artifact(b, s.subjectId, { sbom: props['sbom'] });
      if (a) b.concerns(a, predicate);
      const change = ref(content, 'change', path);
      if (change) {
        const repoUrl = change.source ?? s.subjectSource;
        const repoKey = repo(ctx, repoUrl);
        const c = b.entity('Change', changeKey(repoKey, change.id), { number: change.id });
        b.relate(c, 'IN_REPOSITORY', b.entity('Repository', repoKey, { url: repoUrl }));
        b.concerns(c, 'change');
      }
      switch (predicate) {
        case 'packaged':
          return { stage: 'artifact', phase: 'created' };
        case 'published':
          return { stage: 'publication', phase: 'finished', outcome: 'success' };
        case 'signed':
          return { stage: 'artifact', phase: 'modified' };
        case 'deleted':
          return { stage: 'publication', phase: 'deleted' };
        default:
          return { stage: 'artifact' };
      }
    }
    case 'testcaserun':
    case 'testsuiterun': {
      const outcome = predicate === 'finished' ? outcomeOf(content, path) : predicate === 'skipped' ? 'canceled' : undefined;
      const tc = optObject(content, s.subject === 'testcaserun' ? 'testCase' : 'testSuite', path);
      const tp = join(path, s.subject === 'testcaserun' ? 'testCase' : 'testSuite');
      const testName = tc ? optString(tc, 'name', tp) : undefined;
      props['testId'] = tc ? optString(tc, 'id', tp) : undefined;
      props['testName'] = testName;
      props['testVersion'] = tc ? optString(tc, 'version', tp) : undefined;
      props['testType'] = tc ? optString(tc, 'type', tp) : undefined;
      props['severity'] = str('severity');
      props['reason'] = str('reason');
      props['outcome'] = str('outcome');
      const r = run(b, 'TestRun', s.subjectSource, s.subjectId, {
        name: testName,
        kind: s.subject === 'testcaserun' ? 'test-case' : 'test-suite',
        ...(outcome ? { result: outcome } : {}),
      });
      b.concerns(r, 'run');
      b.relate(r, 'AT_SITE', b.entity('Site', ctx.origin.site, {}));
      const suite = ref(content, 'testSuiteRun', path);
      if (suite)
        b.concerns(b.entity('TestRun', runKey(suite.source ?? s.subjectSource, suite.id), { kind: 'test-suite' }), 'test-suite-run');
      const env = environment(b, ref(content, 'environment', path));
      if (env) b.concerns(env, 'environment');
      const phase2: Phase | undefined = predicate === 'skipped' ? 'canceled' : phase;
      return { stage: 'test', phase: phase2, outcome };
    }
    case 'testoutput': {
      const tcr = ref(content, 'testCaseRun', path);
      if (tcr) b.concerns(b.entity('TestRun', runKey(tcr.source ?? s.subjectSource, tcr.id), { kind: 'test-case' }), 'run');
      props['outputType'] = str('outputType');
      props['uri'] = str('uri');
      return { stage: 'test', phase: 'created' };
    }
    case 'environment': {
      const name = str('name');
      props['name'] = name;
      props['url'] = str('url');
      b.concerns(b.entity('Environment', environmentKey(s.subjectId), { name, url: str('url'), source: s.subjectSource }), predicate);
      return { stage: 'other', phase };
    }
    case 'service': {
      const env = environment(b, ref(content, 'environment', path));
      const artifactId = str('artifactId');
      const a = artifactId ? artifact(b, artifactId) : undefined;
      props['service'] = s.subjectId;
      if (env) b.concerns(env, 'environment');
      if (a) {
        b.concerns(a, predicate === 'removed' ? 'removed' : 'deployed');
        if (env && predicate !== 'removed') b.relate(a, 'DEPLOYED_TO', env);
      }
      switch (predicate) {
        case 'deployed':
        case 'upgraded':
        case 'rolledback':
          return { stage: 'deployment', phase: 'finished', outcome: 'success' };
        case 'removed':
          return { stage: 'deployment', phase: 'deleted' };
        case 'published':
          return { stage: 'release', phase: 'created' };
        default:
          return { stage: 'deployment' };
      }
    }
    case 'incident': {
      const env = environment(b, ref(content, 'environment', path));
      if (env) b.concerns(env, 'environment');
      const service = ref(content, 'service', path);
      props['service'] = service?.id;
      props['description'] = str('description')?.slice(0, 500);
      props['ticketUri'] = str('ticketURI');
      const artifactId = str('artifactId');
      const a = artifactId ? artifact(b, artifactId) : undefined;
      if (a) b.concerns(a, 'affected');
      return predicate === 'resolved' ? { stage: 'other', phase: 'finished', outcome: 'success' } : { stage: 'other', phase: 'created' };
    }
    case 'ticket': {
      const summary = str('summary');
      const uri = str('uri');
      const key = ticketKey(ctx, s.subjectId, uri ?? s.subjectSource);
      props['summary'] = summary?.slice(0, 200);
      props['ticketType'] = str('ticketType');
      props['priority'] = str('priority');
      props['resolution'] = str('resolution');
      props['labels'] = content['labels'] !== undefined ? optStrings(content, 'labels', path) : undefined;
      const wi = b.entity('WorkItem', key, { title: summary?.slice(0, 200), uri, ticketType: str('ticketType'), tracker: s.subjectSource });
      b.concerns(wi, predicate);
      for (const other of workItems(ctx, summary)) if (other !== key) b.concerns(b.entity('WorkItem', other, {}), 'references');
      if (predicate === 'closed') {
        const resolution = str('resolution')?.toLowerCase();
        return {
          stage: 'work-item',
          phase: 'finished',
          outcome: resolution === undefined || resolution === 'completed' ? 'success' : 'canceled',
        };
      }
      return { stage: 'work-item', phase };
    }
    default:
      return { ...unmodelled(props), phase };
  }
}

/** A kind the model does not know (a custom `dev.cdeventsx` event, a subject newer than this parser): kept, counted. */
function unmodelled(props: Props): Shape {
  props['unmodelled'] = true;
  return { stage: 'other' };
}

/**
 * A ticket's work-item key: the id itself when it reads as a tracker key (`PROJ-12`), `<host/path>#<n>` for a
 * bare number (an issue of the repository or tracker its URI or source names), else the id.
 */
function ticketKey(ctx: ParseContext, id: string, where: string): string {
  const found = workItems(ctx, id);
  if (found.length === 1 && found[0] === id.trim()) return found[0]!;
  if (/^\d+$/.test(id.trim())) {
    const base = where.replace(/\/(?:-\/)?issues\/\d+\/?$/, '').replace(/\/browse\/.*$/, '');
    return `${normalizeHost(base)}#${id.trim()}`;
  }
  return id.trim();
}

/** True when the value looks like a CDEvent or a CloudEvent carrying one (used to explain a wrong routing key). */
export function looksLikeCdevents(v: Json): boolean {
  const first = Array.isArray(v) ? v[0] : v;
  if (!isObject(first)) return false;
  const ctx = first['context'];
  if (isObject(ctx) && typeof ctx['type'] === 'string' && ctx['type'].startsWith('dev.cdevents')) return true;
  return typeof first['specversion'] === 'string' && typeof first['type'] === 'string' && first['type'].startsWith('dev.cdevents');
}
