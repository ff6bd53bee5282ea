import { parseCommitKey, STOPPED_OUTCOMES } from '@not/events';
import type { EntityRow, EventRow } from './read-rows.js';

/**
 * A journey: what one change (a commit) went through downstream, as facts for
 * readers that must not walk the graph per request (lead time, DORA, the
 * delivery gauges, a trace's stage bar). Pure functions: the same facts give
 * the same record, whether the correlator computes it as events arrive or
 * `traces rebuild-journeys` recomputes it from the whole graph.
 */

/**
 * The order a change moves through the pipeline, used for "how far did it get".
 * Artifacts come before tests here (a build produces what the tests then take),
 * unlike the model's list of stages, which is only a vocabulary.
 */
export const JOURNEY_ORDER = [
  'work-item',
  'commit',
  'review',
  'merge',
  'build',
  'artifact',
  'test',
  'publication',
  'promotion',
  'deployment',
  'release',
] as const;
export type JourneyStage = (typeof JOURNEY_ORDER)[number];

/** Marks new events (by id) for the journey step, in the transaction that writes them. */
export const MARK_JOURNEYS_PENDING = 'UNWIND $ids AS id MATCH (e:Event {id: id}) SET e:JourneyPending';

/** One event of a journey: only what the journey's readers need. */
export type JourneyEvent = Pick<EventRow, 'id' | 'stage' | 'phase' | 'outcome' | 'time' | 'site'>;

/** One stage of the stage bar. */
export interface StageSummary {
  readonly stage: JourneyStage;
  readonly reached: boolean;
  readonly first: string | null;
  readonly last: string | null;
  readonly events: number;
  readonly sites: string[];
  /** `failure` when the last event with an outcome at this stage failed. */
  readonly outcome: string | null;
}

export interface JourneyRecord {
  /** The commit's key (`<repository>@<sha>`). */
  readonly key: string;
  readonly repository: string;
  readonly sha: string | null;
  /** The journey's events, by time (then id). */
  readonly events: JourneyEvent[];
  readonly stages: StageSummary[];
  readonly furthestStage: JourneyStage | null;
  /** The furthest stage when its last outcome failed: where the change stopped. */
  readonly stoppedStage: JourneyStage | null;
  readonly sites: string[];
  readonly workItems: string[];
  readonly changes: string[];
  readonly builds: string[];
  readonly testRuns: string[];
  readonly artifacts: string[];
  readonly releases: string[];
  /** The walk stopped at a limit: the journey may go further than recorded. */
  readonly truncated: boolean;
}

/** Events by time, then id: one order whatever order they were read in. */
export function byTimeThenId(a: { time: string; id: string }, b: { time: string; id: string }): number {
  return a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The stage bar from a journey's events (sorted by time). */
export function stageSummaries(events: readonly JourneyEvent[]): StageSummary[] {
  return JOURNEY_ORDER.map((stage) => {
    const at = events.filter((e) => e.stage === stage);
    const withOutcome = at.filter((e) => e.outcome);
    const last = withOutcome[withOutcome.length - 1];
    return {
      stage,
      reached: at.length > 0,
      first: at[0]?.time ?? null,
      last: at[at.length - 1]?.time ?? null,
      events: at.length,
      sites: [...new Set(at.map((e) => e.site))].sort(),
      outcome: last ? (STOPPED_OUTCOMES.has(last.outcome!) ? 'failure' : last.outcome) : null,
    };
  });
}

/**
 * How far a journey got, and where it stopped on a failure, from its events (sorted by time): the
 * stage bar's furthest stage, unless a stage's last outcome failed and no event of a later stage (in
 * {@link JOURNEY_ORDER}) came after that failure. Then the change stopped there, whatever later stages
 * it had reached before: tests that fail after a deployment to staging stop the change at `test`, not
 * at `deployment`. Of several such stages the furthest counts. `failing` is the event that stopped it.
 * The one rule for traces, the journey model, lead time's gauges and subscriptions (`stuck`).
 */
export function furthestOf<E extends Pick<JourneyEvent, 'stage' | 'outcome' | 'time'>>(
  events: readonly E[],
): { furthest: JourneyStage | null; stopped: JourneyStage | null; failing: E | null } {
  const rank = (stage: string): number => (JOURNEY_ORDER as readonly string[]).indexOf(stage);
  let furthest = -1;
  // The last event with an outcome at each stage, and the time of the last event at each stage.
  const lastOutcome = new Map<number, E>();
  const lastAt = new Map<number, string>();
  for (const e of events) {
    const r = rank(e.stage);
    if (r < 0) continue;
    furthest = Math.max(furthest, r);
    if (e.outcome) lastOutcome.set(r, e);
    if (!lastAt.has(r) || e.time > lastAt.get(r)!) lastAt.set(r, e.time);
  }
  for (let r = furthest; r >= 0; r--) {
    const failing = lastOutcome.get(r);
    if (!failing || !STOPPED_OUTCOMES.has(failing.outcome!)) continue;
    let carriedOn = false;
    for (let later = r + 1; later <= furthest && !carriedOn; later++) carriedOn = (lastAt.get(later) ?? '') > failing.time;
    if (!carriedOn) return { furthest: JOURNEY_ORDER[r]!, stopped: JOURNEY_ORDER[r]!, failing };
  }
  return { furthest: furthest < 0 ? null : JOURNEY_ORDER[furthest]!, stopped: null, failing: null };
}

/**
 * The journey of one commit from what a downstream walk from it met: the events (any order, repeats
 * allowed), the entities, and the work items its commits and changes reference.
 */
export function journeyOf(
  commit: Pick<EntityRow, 'key' | 'props'>,
  events: readonly JourneyEvent[],
  entities: ReadonlyArray<Pick<EntityRow, 'label' | 'key'>>,
  truncated: boolean,
): JourneyRecord {
  const byId = new Map<string, JourneyEvent>();
  for (const e of events) if (!byId.has(e.id)) byId.set(e.id, pick(e));
  const sorted = [...byId.values()].sort(byTimeThenId);
  const stages = stageSummaries(sorted);
  const { furthest, stopped } = furthestOf(sorted);
  const keys = (label: string): string[] => [...new Set(entities.filter((x) => x.label === label).map((x) => x.key))].sort();
  const repo = commit.props['repository'];
  const sha = commit.props['sha'];
  return {
    key: commit.key,
    repository: typeof repo === 'string' ? repo : (parseCommitKey(commit.key)?.repository ?? commit.key),
    sha: typeof sha === 'string' ? sha : (parseCommitKey(commit.key)?.sha ?? null),
    events: sorted,
    stages,
    furthestStage: furthest,
    stoppedStage: stopped,
    sites: [...new Set(sorted.map((e) => e.site))].sort(),
    workItems: keys('WorkItem'),
    changes: keys('Change'),
    builds: keys('Build'),
    testRuns: keys('TestRun'),
    artifacts: keys('Artifact'),
    releases: keys('Release'),
    truncated,
  };
}

function pick(e: JourneyEvent): JourneyEvent {
  return { id: e.id, stage: e.stage, phase: e.phase ?? null, outcome: e.outcome ?? null, time: e.time, site: e.site };
}

/** `work-item` -> `workItem`: the prefix of a stage's properties on a journey node. */
export function stageProperty(stage: JourneyStage, suffix: 'First' | 'Last' | 'Sites' | 'Outcome'): string {
  return stage.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) + suffix;
}

type JourneyValue = string | number | boolean | null | string[];

/**
 * The properties of a `:Journey` node (see docs/graph-model.md). Lists cannot hold nulls in the
 * graph store: a missing phase or outcome is stored as ''. Times are ISO-8601 UTC strings, which
 * order as the times do. A stage not reached has no properties (null removes them on write).
 */
export function journeyProps(r: JourneyRecord): Record<string, JourneyValue> {
  const p: Record<string, JourneyValue> = {
    key: r.key,
    repository: r.repository,
    sha: r.sha,
    evIds: r.events.map((e) => e.id),
    evStages: r.events.map((e) => e.stage),
    evPhases: r.events.map((e) => e.phase ?? ''),
    evOutcomes: r.events.map((e) => e.outcome ?? ''),
    evTimes: r.events.map((e) => e.time),
    evSites: r.events.map((e) => e.site),
    passages: packPassages(r.events),
    furthestStage: r.furthestStage,
    stoppedStage: r.stoppedStage,
    sites: r.sites,
    workItems: r.workItems,
    changes: r.changes,
    builds: r.builds,
    testRuns: r.testRuns,
    artifacts: r.artifacts,
    releases: r.releases,
    truncated: r.truncated,
  };
  for (const s of r.stages) {
    p[stageProperty(s.stage, 'First')] = s.first;
    p[stageProperty(s.stage, 'Last')] = s.last;
    p[stageProperty(s.stage, 'Sites')] = s.reached ? s.sites : null;
    p[stageProperty(s.stage, 'Outcome')] = s.outcome;
  }
  return p;
}

/**
 * A journey's events as one string (`passages`): JSON of `[id, stage, phase, outcome, time, site]` per
 * event, in the order of the `ev*` lists. The lists serve queries in the store; a reader of thousands
 * of journeys takes this one string each instead of six lists of short strings, which cost the store
 * and the driver several times more to send and decode.
 */
function packPassages(events: readonly JourneyEvent[]): string {
  return JSON.stringify(events.map((e) => [e.id, e.stage, e.phase ?? '', e.outcome ?? '', e.time, e.site]));
}

/**
 * The properties {@link passagesFromProps} reads, as a Cypher expression of `j`: `passages` where the
 * journey step wrote it, else (a record written before it existed) the lists.
 */
export const JOURNEY_PASSAGES =
  'CASE WHEN j.passages IS NULL THEN j {.key, .repository, .evIds, .evStages, .evPhases, .evOutcomes, .evTimes, .evSites, .workItems, .truncated} ' +
  'ELSE j {.key, .repository, .passages, .workItems, .truncated} END';

/**
 * The properties {@link journeyFromProps} reads, as a Cypher map projection of `j`: a reader returns
 * `j {${JOURNEY_RECORD}}` rather than all of the node's properties (the per-stage ones are for indexed
 * lookups and are recomputed from the events).
 */
export const JOURNEY_RECORD =
  '.key, .repository, .sha, .evIds, .evStages, .evPhases, .evOutcomes, .evTimes, .evSites, .sites, .workItems, .changes, .builds, .testRuns, .artifacts, .releases, .truncated';

/**
 * What lead time and the delivery positions read of a journey: when and where it passed each event, its
 * repository and work items — not its stage bar or entity lists, which a window of ten thousand changes
 * would carry for nothing. Read with `${JOURNEY_PASSAGES} AS j`.
 */
export type JourneyPassages = Pick<JourneyRecord, 'key' | 'repository' | 'events' | 'workItems' | 'truncated'>;

const listProp = (p: Record<string, unknown>, k: string): string[] => (Array.isArray(p[k]) ? (p[k] as unknown[]).map(String) : []);
const stringProp = (p: Record<string, unknown>, k: string): string | null => (typeof p[k] === 'string' ? (p[k] as string) : null);

/** A journey's passages back from its node's properties. */
export function passagesFromProps(p: Record<string, unknown>): JourneyPassages {
  const base = {
    key: stringProp(p, 'key') ?? '',
    repository: stringProp(p, 'repository') ?? '',
    workItems: listProp(p, 'workItems'),
    truncated: p['truncated'] === true,
  };
  const packed = stringProp(p, 'passages');
  if (packed !== null) {
    const rows = JSON.parse(packed) as Array<[string, string, string, string, string, string]>;
    const events = rows.map(([id, stage, phase, outcome, time, site]) => ({
      id,
      stage,
      phase: phase || null,
      outcome: outcome || null,
      time,
      site,
    }));
    return { ...base, events };
  }
  const ids = listProp(p, 'evIds');
  const [stagesOf, phases, outcomes, times, sites] = ['evStages', 'evPhases', 'evOutcomes', 'evTimes', 'evSites'].map((k) =>
    listProp(p, k),
  ) as [string[], string[], string[], string[], string[]];
  const events: JourneyEvent[] = ids.map((id, i) => ({
    id,
    stage: stagesOf[i] ?? 'other',
    phase: phases[i] || null,
    outcome: outcomes[i] || null,
    time: times[i] ?? '',
    site: sites[i] ?? '',
  }));
  return { ...base, events };
}

/** A journey back from its node's properties. */
export function journeyFromProps(p: Record<string, unknown>): JourneyRecord {
  const passages = passagesFromProps(p);
  const { furthest, stopped } = furthestOf(passages.events);
  return {
    ...passages,
    sha: stringProp(p, 'sha'),
    stages: stageSummaries(passages.events),
    furthestStage: furthest,
    stoppedStage: stopped,
    sites: listProp(p, 'sites'),
    changes: listProp(p, 'changes'),
    builds: listProp(p, 'builds'),
    testRuns: listProp(p, 'testRuns'),
    artifacts: listProp(p, 'artifacts'),
    releases: listProp(p, 'releases'),
  };
}
