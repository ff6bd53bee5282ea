import { JOURNEY_ORDER, furthestOf, groupBy, stageSummaries, type AboutRow, type EntityRow, type EventRow, type LinkRow } from '@not/graph';
import type { JourneyDto } from './api.schemas.js';

type EventDto = JourneyDto['events'][number];
type StageDto = JourneyDto['stages'][number];
type BuildDto = JourneyDto['builds'][number];
type TestRunDto = JourneyDto['testRuns'][number];
type ArtifactDto = JourneyDto['artifacts'][number];
type StepEventDto = JourneyDto['promotions'][number];
type StoppedDto = NonNullable<JourneyDto['stoppedAt']>;
type JoinDto = JourneyDto['joins'][number];

/** A relation between two entities of a journey, by element id (`Build -PRODUCED-> Artifact`). */
export interface RelationRow {
  readonly from: string;
  readonly type: string;
  readonly to: string;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : null);
const seconds = (a: string | null, b: string | null): number | null =>
  a && b ? Math.max(0, (Date.parse(b) - Date.parse(a)) / 1000) : null;
const byTime = (a: { time: string; id?: string }, b: { time: string; id?: string }): number =>
  a.time < b.time ? -1 : a.time > b.time ? 1 : (a.id ?? '') < (b.id ?? '') ? -1 : 1;

/** Assembles a journey from the events a walk reached, what they are about, their links and the entities met. */
export function assembleJourney(
  rows: readonly EventRow[],
  about: readonly AboutRow[],
  links: readonly LinkRow[],
  entities: readonly EntityRow[],
  truncated: boolean,
  relations: readonly RelationRow[] = [],
): JourneyDto {
  const events = [...rows].sort(byTime);
  const aboutBy = groupBy(about, (a) => a.event);
  const linksBy = groupBy(links, (l) => l.from);
  const eventById = new Map(events.map((e) => [e.id, e]));
  const dtos: EventDto[] = events.map((e) => ({
    ...e,
    links: (linksBy.get(e.id) ?? []).map((l) => ({ type: l.type, target: l.to })),
    about: (aboutBy.get(e.id) ?? []).map((a) => ({ label: a.entity.label, key: a.entity.key, role: a.role })),
  }));

  // The stage bar: the same function the journey model uses (libs/graph journey.ts).
  const stages: StageDto[] = stageSummaries(events);
  // How far it got and where it stopped: the journey model's rule too.
  const { furthest, stopped, failing } = furthestOf(events);

  // Entities: every one the walk met, plus those the events are about.
  const ents = new Map<string, EntityRow>();
  for (const x of entities) ents.set(`${x.label}|${x.key}`, x);
  for (const a of about) ents.set(`${a.entity.label}|${a.entity.key}`, a.entity);
  const of = (label: string): EntityRow[] => [...ents.values()].filter((x) => x.label === label).sort((a, b) => (a.key < b.key ? -1 : 1));
  const eventsOf = (x: EntityRow): EventRow[] =>
    about
      .filter((a) => a.entity.label === x.label && a.entity.key === x.key)
      .map((a) => eventById.get(a.event))
      .filter((e): e is EventRow => !!e)
      .sort(byTime);

  const builds = of('Build').map((b) => buildDto(b, eventsOf(b)));
  const testRuns = of('TestRun').map((t) => testRunDto(t, eventsOf(t)));
  const step = (e: EventRow): StepEventDto => ({
    event: e.id,
    type: e.type,
    time: e.time,
    site: e.site,
    outcome: e.outcome,
    details: e.props,
  });

  let stoppedAt: StoppedDto | null = null;
  if (stopped && failing) {
    const build = builds.find((b) => b.events.includes(failing.id));
    const testRun = testRuns.find((t) => t.events.includes(failing.id));
    const what = build ? `build ${build.key}` : testRun ? `test run ${testRun.key}` : `${failing.type} ${failing.id}`;
    stoppedAt = {
      stage: stopped,
      reason: `${what} ended with ${failing.outcome} at ${failing.site}`,
      event: step(failing),
      build: build?.key ?? null,
      testRun: testRun?.key ?? null,
    };
  }

  return {
    furthestStage: furthest,
    stoppedAt,
    stages,
    sites: [...new Set(events.map((e) => e.site))].sort(),
    commits: of('Commit').map((c) => ({ key: c.key, sha: str(c.props['sha']), repository: str(c.props['repository']) })),
    changes: of('Change').map((c) => ({ key: c.key, props: withoutKey(c.props) })),
    workItems: of('WorkItem').map((w) => ({ key: w.key, props: withoutKey(w.props) })),
    builds,
    testRuns,
    artifacts: of('Artifact').map((a) => artifactDto(a, eventsOf(a))),
    publications: events.filter((e) => e.stage === 'publication').map(step),
    promotions: events.filter((e) => e.stage === 'promotion').map(step),
    deployments: events.filter((e) => e.stage === 'deployment').map(step),
    releases: of('Release').map((r) => ({
      key: r.key,
      product: str(r.props['product']),
      version: str(r.props['version']),
      time: eventsOf(r)[0]?.time ?? null,
    })),
    events: dtos,
    joins: journeyJoins(events, about, links, [...ents.values()], relations),
    truncated,
  };
}

/** Entities that join the events of one journey across tools (a repository, site or environment is shared by too much). */
const JOINING_ORDER = ['WorkItem', 'Commit', 'Change', 'Build', 'TestRun', 'Artifact', 'Release'];
const JOINING = new Set(JOINING_ORDER);
/** Whether events join through this entity (and so whether its relations matter to {@link journeyJoins}). */
export const joinsThrough = (x: Pick<EntityRow, 'label'>): boolean => JOINING.has(x.label);
/** For each relation that carries a journey on, which end comes first (the walk follows the same ones downstream). */
const UPSTREAM_END: Readonly<Record<string, 'from' | 'to'>> = {
  REFERENCES: 'to', // Commit | Change -> WorkItem: the ticket, then its commits
  BUILT: 'to', // Build -> Commit: the commit, then its build
  PRODUCED: 'from', // Build -> Artifact
  TESTED: 'to', // TestRun -> Artifact | Commit | Build
  CONTAINS: 'to', // Release -> Artifact, composite -> component
  INCLUDES: 'to', // Change -> Commit
  MERGED_AS: 'from', // Change -> the commit it landed as
};

/**
 * How the events of a journey join through what they are about, for drawing it as one flow: in stage
 * order, each event about a commit, build, artifact (…) joins the one before it about the same entity,
 * and the last event about an entity joins the first about the entity it led to (the build of a commit,
 * the artifact a build produced, the test run of an artifact) unless an event about both joins them
 * already. One join per pair of events, naming every entity it goes through (the later-stage one first);
 * pairs already linked by the events' own links are left to those.
 */
export function journeyJoins(
  events: readonly EventRow[],
  about: readonly AboutRow[],
  links: readonly LinkRow[],
  entities: readonly EntityRow[],
  relations: readonly RelationRow[],
): JoinDto[] {
  const rank = (stage: string): number => {
    const i = (JOURNEY_ORDER as readonly string[]).indexOf(stage);
    return i < 0 ? JOURNEY_ORDER.length : i;
  };
  const byId = new Map(events.map((e) => [e.id, e]));
  const before = (a: EventRow, b: EventRow): number => rank(a.stage) - rank(b.stage) || byTime(a, b);
  const linked = new Set(links.flatMap((l) => [`${l.from}|${l.to}`, `${l.to}|${l.from}`]));
  const refOf = (x: EntityRow): string => `${x.label}|${x.key}`;

  // The events about each joining entity, in stage order.
  const eventsAbout = new Map<string, EventRow[]>();
  for (const a of about) {
    const e = byId.get(a.event);
    if (!e || !JOINING.has(a.entity.label)) continue;
    const list = eventsAbout.get(refOf(a.entity)) ?? [];
    if (!list.includes(e)) list.push(e);
    eventsAbout.set(refOf(a.entity), list);
  }
  for (const list of eventsAbout.values()) list.sort(before);

  const joins = new Map<string, { from: EventRow; to: EventRow; via: Map<string, { label: string; key: string }> }>();
  const join = (a: EventRow, b: EventRow, x: EntityRow): void => {
    if (a.id === b.id || linked.has(`${a.id}|${b.id}`)) return;
    const [from, to] = before(a, b) <= 0 ? [a, b] : [b, a];
    const k = `${from.id}|${to.id}`;
    const j = joins.get(k) ?? { from, to, via: new Map() };
    j.via.set(refOf(x), { label: x.label, key: x.key });
    joins.set(k, j);
  };

  const entityByRef = new Map(entities.map((x) => [refOf(x), x]));
  for (const [ref, list] of eventsAbout) {
    const x = entityByRef.get(ref) ?? about.find((a) => refOf(a.entity) === ref)!.entity;
    for (let i = 1; i < list.length; i++) join(list[i - 1]!, list[i]!, x);
  }

  const byEid = new Map(entities.map((x) => [x.eid, x]));
  for (const a of about) byEid.set(a.entity.eid, a.entity);
  for (const r of relations) {
    const end = UPSTREAM_END[r.type];
    const [up, down] = end === 'from' ? [byEid.get(r.from), byEid.get(r.to)] : [byEid.get(r.to), byEid.get(r.from)];
    if (!end || !up || !down || !JOINING.has(up.label) || !JOINING.has(down.label)) continue;
    const ups = eventsAbout.get(refOf(up)) ?? [];
    const downs = eventsAbout.get(refOf(down)) ?? [];
    const first = downs[0];
    // An event about both already joins the two entities' events.
    if (!first || downs.some((e) => ups.includes(e))) continue;
    // The last event about the upstream entity before the downstream one begins (else its first).
    const earlier = ups.filter((e) => !downs.includes(e) && before(e, first) < 0);
    const last = earlier[earlier.length - 1] ?? ups.find((e) => !downs.includes(e));
    if (last) join(last, first, up);
  }

  return [...joins.values()]
    .sort((a, b) => before(a.from, b.from) || before(a.to, b.to))
    .map((j) => ({
      from: j.from.id,
      to: j.to.id,
      // The later-stage entity first: a build's two events name the build before the commit it built.
      via: [...j.via.values()].sort((a, b) => JOINING_ORDER.indexOf(b.label) - JOINING_ORDER.indexOf(a.label)),
    }));
}

function buildDto(b: EntityRow, evs: EventRow[]): BuildDto {
  const aliases = asStrings(b.props['aliases']);
  const refs = [...aliases, b.key].map(parseBuildKey).filter((r) => r !== undefined);
  const ref = refs.find((r) => r.job !== null) ?? refs[0];
  const phase = (...p: string[]): string | null => evs.find((e) => e.phase && p.includes(e.phase))?.time ?? null;
  const triggered = phase('triggered', 'queued');
  const started = phase('started');
  const finishedEv = [...evs].reverse().find((e) => e.phase === 'finished' || e.phase === 'canceled');
  const finished = finishedEv?.time ?? null;
  return {
    key: b.key,
    aliases,
    site: evs[0]?.site ?? null,
    ci: ref?.ci ?? null,
    job: ref?.job ?? null,
    number: ref?.number ?? null,
    name: str(b.props['name']) ?? str(evs.find((e) => e.props['name'])?.props['name']),
    url: str(b.props['url']) ?? str(evs.find((e) => e.props['executionUri'])?.props['executionUri']),
    result: str(b.props['result']) ?? finishedEv?.outcome ?? null,
    triggered,
    started,
    finished,
    queueSeconds: seconds(triggered, started),
    runSeconds: seconds(started ?? triggered, finished),
    events: evs.map((e) => e.id),
  };
}

function testRunDto(t: EntityRow, evs: EventRow[]): TestRunDto {
  const started = evs.find((e) => e.phase === 'started' || e.phase === 'triggered')?.time ?? null;
  const finishedEv = [...evs].reverse().find((e) => e.phase === 'finished' || e.phase === 'canceled');
  return {
    key: t.key,
    site: evs[0]?.site ?? null,
    name: str(t.props['name']) ?? str(t.props['testCase']) ?? str(evs.find((e) => e.props['name'])?.props['name']),
    result: str(t.props['result']) ?? finishedEv?.outcome ?? null,
    started,
    finished: finishedEv?.time ?? null,
    seconds: seconds(started, finishedEv?.time ?? null),
    events: evs.map((e) => e.id),
  };
}

function artifactDto(a: EntityRow, evs: EventRow[]): ArtifactDto {
  const all = [a.key, ...asStrings(a.props['aliases'])];
  return {
    key: a.key,
    aliases: asStrings(a.props['aliases']),
    digests: all.filter((k) => /^[a-z0-9]+:[0-9a-f]{16,}$/.test(k)),
    purls: all.filter((k) => k.startsWith('purl:')).map((k) => k.slice(5)),
    name: str(a.props['name']),
    sites: [...new Set(evs.map((e) => e.site))].sort(),
    created: evs.find((e) => e.stage === 'artifact')?.time ?? evs[0]?.time ?? null,
  };
}

/** `<ci>/<job>#<number>` or `<ci>/run/<id>`. */
export function parseBuildKey(key: string): { ci: string; job: string | null; number: string } | undefined {
  const run = /^(.+?)\/run\/(.+)$/.exec(key);
  if (run) return { ci: run[1]!, job: null, number: run[2]! };
  const m = /^([^/]+(?:\/[^/#]+)*?)\/(.+)#([^#]+)$/.exec(key);
  if (m) return { ci: m[1]!, job: m[2]!, number: m[3]! };
  return undefined;
}

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function withoutKey(p: Record<string, unknown>): Record<string, unknown> {
  const { key: _k, ...rest } = p;
  return rest;
}
