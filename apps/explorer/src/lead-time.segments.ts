/**
 * Lead time's segment boundaries, in one place: the points a change passes on its way to the end
 * stage, which events mark each of them, and the segments between them. Two readers side by side:
 * `milestonesOf` (when a change that reached the end stage passed each point, for `segmentsOf`) and
 * `positionOf` (the segment a change that has not reached it yet is in now, and since when).
 */
import { STOPPED_OUTCOMES } from '@not/events';
import { SEGMENTS, type EventRow, type Segment } from '@not/graph';

/** The segments, in order: segment i runs from point i to point i + 1 of `Milestones` (the list is @not/graph's, which subscriptions share). */
export { SEGMENTS, type Segment };

/** When a change passed each point; a missing point takes the one before it (its segment lasts zero). */
export interface Milestones {
  readonly commit: string;
  readonly merge?: string;
  readonly buildStart?: string;
  readonly buildEnd?: string;
  readonly testEnd?: string;
  readonly promotion?: string;
  readonly reached: string;
}

/** What the boundaries read of an event. */
type Passage = Pick<EventRow, 'stage' | 'phase' | 'outcome' | 'time'>;

const BUILD_STARTS: ReadonlySet<string | null> = new Set(['triggered', 'queued', 'started']);
const isBuildStart = (e: Passage): boolean => e.stage === 'build' && BUILD_STARTS.has(e.phase);
const isBuildDone = (e: Passage): boolean => e.stage === 'build' && e.phase === 'finished';
const isTestDone = (e: Passage): boolean => e.stage === 'test' && (e.phase === 'finished' || e.phase === 'canceled');
/** A finished run passed unless it stopped (failed, errored or was canceled); no outcome at all passes. */
const passed = (e: Passage): boolean => !STOPPED_OUTCOMES.has(e.outcome ?? '');

interface Points {
  readonly commit: string;
  readonly merge?: string;
  /** The first build trigger, queueing or start. */
  readonly buildStart?: string;
  /** The first build that finished and passed, else the first build that finished. */
  readonly buildEnd?: string;
  readonly buildPassed: boolean;
  /** The last test run that finished or was canceled (up to `testLimit`). */
  readonly testEnd?: string;
  readonly testPassed: boolean;
  readonly promotion?: string;
}

/** The points a journey (events sorted by time) passed; tests count up to `testLimit` when it is given. */
function pointsOf(journey: readonly Passage[], testLimit?: string): Points {
  const first = (pred: (e: Passage) => boolean): string | undefined => journey.find(pred)?.time;
  const builds = journey.filter(isBuildDone);
  const buildOk = builds.find(passed);
  const tests = journey.filter((e) => isTestDone(e) && (testLimit === undefined || e.time <= testLimit));
  return {
    commit: first((e) => e.stage === 'commit') ?? journey[0]!.time,
    merge: first((e) => e.stage === 'merge'),
    buildStart: first(isBuildStart),
    buildEnd: (buildOk ?? builds[0])?.time,
    buildPassed: buildOk !== undefined,
    testEnd: tests[tests.length - 1]?.time,
    testPassed: tests.some(passed),
    promotion: first((e) => e.stage === 'promotion'),
  };
}

/**
 * When a change passed each point, from its journey (events sorted by time); undefined when it never
 * reached `until` (its first event there that `isEnd` accepts: a release that is not part of another, a
 * deployment to the environments asked for). Tests after the promotion (or after the end) do not count.
 */
export function milestonesOf<E extends Passage>(
  journey: readonly E[],
  until: string,
  isEnd: (e: E) => boolean = () => true,
): Milestones | undefined {
  const reached = journey.find((e) => e.stage === until && isEnd(e))?.time;
  if (reached === undefined) return undefined;
  const promotion = until === 'promotion' ? reached : journey.find((e) => e.stage === 'promotion')?.time;
  const p = pointsOf(journey, promotion ?? reached);
  return { commit: p.commit, merge: p.merge, buildStart: p.buildStart, buildEnd: p.buildEnd, testEnd: p.testEnd, promotion, reached };
}

/**
 * Where a change that has not reached `until` is now, from its journey (events sorted by time): the
 * segment after the furthest point it passed, since it passed it. A build or test point is passed only by
 * a run that did not stop: a change whose builds all stopped stays at `build` (since the build started),
 * one whose tests all stopped stays at `test` (since its build finished). Tests that ran show the build
 * passed even when its end was not seen. Undefined when the change has reached `until`.
 */
export function positionOf(journey: readonly Passage[], until: string): { stage: Segment; since: string } | undefined {
  if (journey.length === 0 || journey.some((e) => e.stage === until)) return undefined;
  const p = pointsOf(journey);
  if (p.promotion !== undefined) return { stage: 'promotion-to-release', since: p.promotion };
  if (p.buildPassed || (p.buildEnd === undefined && p.testEnd !== undefined)) {
    // A missing point takes the one before it, as in `segmentsOf`.
    const buildEnd = p.buildPassed ? p.buildEnd! : (p.buildStart ?? p.merge ?? p.commit);
    if (!p.testPassed) return { stage: 'test', since: buildEnd };
    return { stage: 'waiting-for-promotion', since: p.testEnd! };
  }
  if (p.buildStart !== undefined || p.buildEnd !== undefined) return { stage: 'build', since: (p.buildStart ?? p.buildEnd)! };
  if (p.merge !== undefined) return { stage: 'waiting-for-build', since: p.merge };
  return { stage: 'coding', since: p.commit };
}

/** Seconds per segment and in total; a point before the one preceding it counts as that one, a point after the end as the end. */
export function segmentsOf(m: Milestones): { total: number; segments: Record<Segment, number> } {
  const points = [m.commit, m.merge, m.buildStart, m.buildEnd, m.testEnd, m.promotion, m.reached];
  const end = Date.parse(m.reached);
  const ms: number[] = [];
  let prev = Date.parse(m.commit);
  for (const p of points) {
    const t = p === undefined ? prev : Math.min(Math.max(Date.parse(p), prev), end);
    ms.push(t);
    prev = t;
  }
  ms[ms.length - 1] = Math.max(end, ms[0]!);
  const segments = {} as Record<Segment, number>;
  SEGMENTS.forEach((s, i) => (segments[s] = (ms[i + 1]! - ms[i]!) / 1000));
  return { total: (ms[ms.length - 1]! - ms[0]!) / 1000, segments };
}

/** Where lead time may start: a change's first commit, or when its work item was created or started. */
export const LEAD_TIME_STARTS = ['commit', 'work-item-created', 'work-item-started'] as const;
export type LeadTimeStart = (typeof LEAD_TIME_STARTS)[number];

/** What is known of a work item's own timeline. */
export interface WorkItemTimes {
  readonly created: string | null;
  readonly started: string | null;
}

/**
 * When lead time starts for a change that began at `commit`: with a work-item start, the earliest
 * creation (or start: moved to a status of the "in progress" category) among the work items it names,
 * when that is before the commit; otherwise the commit, with no work item. The time from there to the
 * commit is the change's `ticket` time; it counts in the total, not in the segments.
 */
export function startOf(
  start: LeadTimeStart,
  commit: string,
  workItems: readonly string[],
  times: ReadonlyMap<string, WorkItemTimes>,
): { at: string; workItem: string | null; ticket: number } {
  if (start === 'commit') return { at: commit, workItem: null, ticket: 0 };
  let best: { at: string; workItem: string } | undefined;
  for (const w of [...workItems].sort()) {
    const t = times.get(w);
    const at = start === 'work-item-created' ? t?.created : t?.started;
    if (at && at < commit && (!best || at < best.at)) best = { at, workItem: w };
  }
  return best ? { ...best, ticket: (Date.parse(commit) - Date.parse(best.at)) / 1000 } : { at: commit, workItem: null, ticket: 0 };
}
