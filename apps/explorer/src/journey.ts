import { furthestOf, stageSummaries, type AboutRow, type EntityRow, type EventRow, type LinkRow } from '@not/graph';
import type { JourneyDto } from './api.schemas.js';

type EventDto = JourneyDto['events'][number];
type StageDto = JourneyDto['stages'][number];
type BuildDto = JourneyDto['builds'][number];
type TestRunDto = JourneyDto['testRuns'][number];
type ArtifactDto = JourneyDto['artifacts'][number];
type StepEventDto = JourneyDto['promotions'][number];
type StoppedDto = NonNullable<JourneyDto['stoppedAt']>;

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
): JourneyDto {
  const events = [...rows].sort(byTime);
  const aboutBy = group(about, (a) => a.event);
  const linksBy = group(links, (l) => l.from);
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
    truncated,
  };
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

function group<T>(list: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of list) {
    const k = key(x);
    const arr = m.get(k);
    if (arr) arr.push(x);
    else m.set(k, [x]);
  }
  return m;
}
