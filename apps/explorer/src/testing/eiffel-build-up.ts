/**
 * A queue build-up in waiting for build at one site, as real Eiffel events with past times, and its
 * truth: when the queue, continued as planned, reaches an objective.
 *
 * Changes of one repository (so one area of their own) are merged at a steady rate, day and night.
 * Until `onset` each waits `baseWaitMs` for its build to be triggered; from then on the wait of a change
 * merged at `a` is `baseWaitMs + growth × (a − onset)`. With merges at rate λ and that wait, the queue at
 * `t` (merged, not yet triggered) is λ × (baseWait + growth × (t − onset)) / (1 + growth): it grows by
 * λ × growth / (1 + growth) changes per unit of time. Only the events up to `now` are published; the plan
 * goes on past it, and `crossing` is the first end of a clock hour at which its queue is at the objective.
 */
import { createHash } from 'node:crypto';

interface EiffelEvent {
  meta: { id: string; type: string; version: string; time: number; source: { domainId: string } };
  data: Record<string, unknown>;
  links: Array<{ type: string; target: string }>;
}

export interface BuildUpOptions {
  readonly now: number;
  /** How far back the history starts, and the build-up's onset before `now`. */
  readonly historyMs: number;
  readonly onsetAgoMs: number;
  /** Time between merges. */
  readonly everyMs: number;
  readonly baseWaitMs: number;
  /** Extra wait per unit of time since the onset (1/15: a change merged a day later waits 1.6 h longer). */
  readonly growth: number;
  readonly objective: number;
}

interface PlannedChange {
  readonly sha: string;
  readonly merged: number;
  readonly triggered: number;
  /** The merge event's id (what a later build trigger links to). */
  readonly merge: string;
}

export interface BuildUp {
  readonly repository: string;
  readonly onset: number;
  /** Every event up to `now`, in time order. */
  readonly events: EiffelEvent[];
  /** The planned queue at `t` (past or future). */
  queueAt(t: number): number;
  /** The first end of a clock hour after `now` at which the planned queue is at the objective (the explorer counts its queue at hour ends). */
  readonly crossing: number;
  /** The build triggers still to come for the changes waiting at `now`, dated `at` (to end the build-up). */
  triggersAt(at: number): EiffelEvent[];
}

const MIN = 60_000;
const HOUR = 60 * MIN;

export function eiffelBuildUp(run: string, o: BuildUpOptions): BuildUp {
  const repoName = `build-up-${run.toLowerCase()}`;
  const repoUri = `https://git.example.com/trends/${repoName}.git`;
  const repository = `git.example.com/trends/${repoName}`;
  const onset = o.now - o.onsetAgoMs;
  let n = 0;
  const id = (): string => {
    const h = createHash('sha256').update(`${run}:build-up:${n++}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  };
  const event = (
    type: string,
    version: string,
    time: number,
    data: Record<string, unknown>,
    links: Array<[string, string]>,
  ): EiffelEvent => ({
    meta: { id: id(), type, version, time: Math.round(time), source: { domainId: 'trends.test' } },
    data,
    links: links.map(([type, target]) => ({ type, target })),
  });
  const trigger = (c: PlannedChange, at: number): EiffelEvent =>
    event('EiffelActivityTriggeredEvent', '5.0.1', at, { name: `${repoName} build`, triggers: [{ type: 'SOURCE_CHANGE' }] }, [
      ['CAUSE', c.merge],
    ]);

  const planned: PlannedChange[] = [];
  const events: EiffelEvent[] = [];
  // Plan well past `now`, so that the queue can be followed to its crossing.
  const until = o.now + 14 * 86_400_000;
  for (let merged = o.now - o.historyMs, k = 0; merged < until; merged += o.everyMs, k++) {
    const wait = o.baseWaitMs + Math.max(0, o.growth * (merged - onset));
    const sha = createHash('sha1').update(`${run}:build-up:${k}`).digest('hex');
    const git = { commitId: sha, repoUri, repoName };
    const committed = merged - 30 * MIN;
    const c: PlannedChange = { sha, merged, triggered: merged + wait, merge: '' };
    if (committed > o.now) {
      planned.push(c);
      continue;
    }
    const scc = event('EiffelSourceChangeCreatedEvent', '5.0.1', committed, { gitIdentifier: { ...git, branch: `feature/${k}` } }, []);
    events.push(scc);
    if (merged > o.now) {
      planned.push(c);
      continue;
    }
    const scs = event('EiffelSourceChangeSubmittedEvent', '4.0.1', merged, { gitIdentifier: { ...git, branch: 'main' } }, [
      ['CHANGE', scc.meta.id],
    ]);
    events.push(scs);
    const change = { ...c, merge: scs.meta.id };
    planned.push(change);
    if (change.triggered > o.now) continue;
    const actT = trigger(change, change.triggered);
    events.push(actT);
    if (change.triggered + 10 * MIN <= o.now)
      events.push(
        event('EiffelActivityFinishedEvent', '4.1.1', change.triggered + 10 * MIN, { outcome: { conclusion: 'SUCCESSFUL' } }, [
          ['ACTIVITY_EXECUTION', actT.meta.id],
        ]),
      );
  }
  events.sort((a, b) => a.meta.time - b.meta.time);

  const queueAt = (t: number): number => planned.filter((c) => c.merged <= t && c.triggered > t).length;
  // The explorer's queue is the count at the end of each clock hour: so is the crossing.
  let crossing = Math.ceil(o.now / HOUR) * HOUR;
  while (queueAt(crossing) < o.objective) {
    crossing += HOUR;
    if (crossing > until) throw new Error('the planned build-up never reaches its objective: give a larger growth');
  }
  return {
    repository,
    onset,
    events,
    queueAt,
    crossing,
    triggersAt: (at) => planned.filter((c) => c.merge && c.triggered > o.now).map((c) => trigger(c, at)),
  };
}
