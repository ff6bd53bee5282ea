import { createHash } from 'node:crypto';
import { eiffelEmitter, type SiteEvent } from '@not/events';
import type { JourneyEvent } from '@not/graph';
import type { Segment } from '../lead-time.segments.js';
import type { Dimension } from '../trends/trends.series.js';

/**
 * A generated delivery history for the trend evaluation and tests: changes arrive at several sites
 * and areas with working-hours and weekend seasonality, move through the pipeline with log-normal
 * times per segment and a base failure rate, and known episodes are injected on top. Seeded: the
 * same options give the same history. Times are epoch milliseconds.
 */

export type EpisodeType = 'drift' | 'failure-shift' | 'build-up' | 'stuck' | 'quiet';

export interface Episode {
  readonly type: EpisodeType;
  readonly segment: Segment;
  /** What it is injected into; `all` for a quiet period (every site and area). */
  readonly dimension: Dimension;
  readonly group: string;
  readonly start: number;
  readonly end: number;
  /**
   * drift: growth of the segment's time per day (0.1 = +10 %/day, compounding); build-up: the time grows
   * by `size` times its usual value per day (linearly, so its queue grows linearly); failure-shift: the failure rate.
   */
  readonly size: number;
}

export interface HistoryOptions {
  readonly start: number;
  readonly days: number;
  readonly seed: number;
  readonly areas: readonly string[];
  readonly sites: readonly string[];
  /** Changes per hour per (area, site) in working hours (weekdays 08–18 UTC). */
  readonly workRate: number;
  readonly episodes: readonly Episode[];
}

export interface GeneratedChange {
  readonly key: string;
  readonly repository: string;
  readonly area: string;
  readonly site: string;
  readonly events: JourneyEvent[];
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Median seconds per segment; a waiting segment takes 1.5 times as long outside working hours. */
const BASE_SECONDS: Record<Segment, number> = {
  coding: 2 * 3600,
  'waiting-for-build': 600,
  build: 900,
  test: 2400,
  'waiting-for-promotion': 3 * 3600,
  'promotion-to-release': 3600,
};
const BASE_FAILURE = { build: 0.08, test: 0.1 };

/** A seeded uniform random number generator (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function isWorkingHour(t: number): boolean {
  const d = new Date(t);
  const day = d.getUTCDay();
  const h = d.getUTCHours();
  return day !== 0 && day !== 6 && h >= 8 && h < 18;
}

/** Arrival rate (per hour per area and site) at `t`: working hours, evenings, nights and weekends differ. */
function rateAt(t: number, work: number): number {
  const d = new Date(t);
  const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
  const h = d.getUTCHours();
  const base = h >= 8 && h < 18 ? work : h >= 18 && h < 22 ? work * 0.25 : work * 0.05;
  return weekend ? base * 0.1 : base;
}

function applies(e: Episode, area: string, site: string): boolean {
  return (
    e.dimension === 'all' || (e.dimension === 'area' ? e.group === area : e.dimension === 'site' ? e.group === site : e.group === area)
  );
}

/** The changes, and for each stuck episode the change that got stuck (the first to enter its segment in its group after its start). */
export function generateHistory(o: HistoryOptions): { changes: GeneratedChange[]; stuck: Map<Episode, string> } {
  const rnd = mulberry32(o.seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const changes: GeneratedChange[] = [];
  const end = o.start + o.days * DAY;
  const stuck = new Map<Episode, string>();
  let n = 0;
  for (const area of o.areas) {
    for (const site of o.sites) {
      // Poisson arrivals by thinning.
      const max = o.workRate;
      for (let t = o.start; ;) {
        t += (-Math.log(1 - rnd()) / max) * HOUR;
        if (t >= end) break;
        let rate = rateAt(t, o.workRate);
        for (const e of o.episodes) if (e.type === 'quiet' && t >= e.start && t < e.end) rate *= 0.05;
        if (rnd() * max > rate) continue;
        n++;
        const key = `git.example.com/acme/${area}@${n.toString(16).padStart(8, '0')}`;
        const repository = `git.example.com/acme/${area}`;
        const events: JourneyEvent[] = [];
        const ev = (stage: string, time: number, phase: string | null = null, outcome: string | null = null): void =>
          void events.push({ id: `${key}/${events.length}`, stage, phase, outcome, time: new Date(Math.round(time)).toISOString(), site });
        const span = (segment: Segment, at: number): number => {
          let s = BASE_SECONDS[segment] * Math.exp(0.5 * normal());
          const waiting = segment === 'waiting-for-build' || segment === 'waiting-for-promotion';
          if (waiting && !isWorkingHour(at)) s *= 1.5;
          for (const e of o.episodes) {
            if (e.segment !== segment || !applies(e, area, site) || at < e.start || at >= e.end) continue;
            if (e.type === 'drift') s *= Math.pow(1 + e.size, (at - e.start) / DAY);
            if (e.type === 'build-up') s *= 1 + (e.size * (at - e.start)) / DAY;
          }
          return s * 1000;
        };
        const fails = (segment: 'build' | 'test', at: number): boolean => {
          let p = BASE_FAILURE[segment];
          for (const e of o.episodes)
            if (e.type === 'failure-shift' && e.segment === segment && applies(e, area, site) && at >= e.start && at < e.end) p = e.size;
          return rnd() < p;
        };
        // A stuck change: the first change entering the episode's segment at its start, in its group.
        const stuckHere = (segment: Segment, at: number): Episode | undefined => {
          for (const e of o.episodes)
            if (e.type === 'stuck' && !stuck.has(e) && e.segment === segment && applies(e, area, site) && at >= e.start && at < e.end) {
              stuck.set(e, key);
              return e;
            }
          return undefined;
        };
        let at = t;
        ev('commit', at);
        const order: Segment[] = ['coding', 'waiting-for-build', 'build', 'test', 'waiting-for-promotion', 'promotion-to-release'];
        for (const segment of order) {
          if (stuckHere(segment, at)) break;
          at += span(segment, at);
          if (segment === 'coding') ev('merge', at);
          else if (segment === 'waiting-for-build') ev('build', at, 'triggered');
          else if (segment === 'build') {
            const failed = fails('build', at);
            ev('build', at, 'finished', failed ? 'failure' : 'success');
            if (failed) break;
          } else if (segment === 'test') {
            const failed = fails('test', at);
            ev('test', at, 'finished', failed ? 'failure' : 'success');
            if (failed) break;
          } else if (segment === 'waiting-for-promotion') ev('promotion', at);
          else ev('release', at);
        }
        changes.push({ key, repository, area, site, events });
      }
    }
  }
  return { changes, stuck };
}

/** A generated history as real Eiffel events, and how to tell its changes in the graph. */
export interface EiffelHistory {
  /** Every event with the site that sends it, in time order (as the tools send them). */
  readonly events: Array<SiteEvent<string>>;
  /** The generated change's key by its commit's key in the graph (`<repository>@<sha>`). */
  readonly keys: Map<string, string>;
  /** The repository prefix (`git.example.com/<run>/`) of every change, and each area's repository. */
  readonly prefix: string;
  readonly areas: Array<{ name: string; repositoryPrefix: string }>;
}

/**
 * The Eiffel events a generated history's tools would send, for running it through the mesh: per change
 * a source change created (its commit) and submitted (its merge), a build triggered and finished (with
 * an artifact created when it succeeds), a test suite started and finished, a confidence level and a
 * composition (its release) — each at the time and site of the generated milestone it stands for, and
 * nothing past where the change stopped. `run` makes every id, sha and repository new (one area is one
 * repository, `git.example.com/<run>/<area>`), so histories never meet in one graph.
 */
export function eiffelHistory(run: string, changes: readonly GeneratedChange[]): EiffelHistory {
  const { events, emit } = eiffelEmitter<string>(run, 'trends.eval');
  const keys = new Map<string, string>();
  const prefix = `git.example.com/${run}/`;
  const areas = new Set<string>();
  for (const c of changes) {
    areas.add(c.area);
    const sha = createHash('sha1').update(`${run}:${c.key}`).digest('hex');
    const repoUri = `https://${prefix}${c.area}.git`;
    keys.set(`${prefix}${c.area}@${sha}`, c.key);
    const git = { commitId: sha, repoUri, repoName: c.area };
    let scc = '';
    let scs = '';
    let act = '';
    let art = '';
    let tss = '';
    let tsf = '';
    for (const e of c.events) {
      const at = Date.parse(e.time);
      const on = (type: string, version: string, data: Record<string, unknown>, links: Array<[string, string]>): string =>
        emit(e.site, type, version, at, data, links);
      if (e.stage === 'commit')
        scc = on('EiffelSourceChangeCreatedEvent', '5.0.1', { gitIdentifier: { ...git, branch: `feature/${sha.slice(0, 8)}` } }, []);
      else if (e.stage === 'merge')
        scs = on('EiffelSourceChangeSubmittedEvent', '4.0.1', { gitIdentifier: { ...git, branch: 'main' } }, [['CHANGE', scc]]);
      else if (e.stage === 'build' && e.phase === 'triggered')
        act = on('EiffelActivityTriggeredEvent', '5.0.1', { name: `${c.area} build`, triggers: [{ type: 'SOURCE_CHANGE' }] }, [
          ['CAUSE', scs],
        ]);
      else if (e.stage === 'build') {
        const ok = e.outcome === 'success';
        if (ok) {
          const digest = createHash('sha256').update(`${run}:${c.key}:artifact`).digest('hex');
          art = on(
            'EiffelArtifactCreatedEvent',
            '4.0.2',
            {
              identity: `pkg:generic/${run}/${c.area}@${sha.slice(0, 12)}`,
              fileInformation: [{ name: `${c.area}.tar.gz`, integrityProtection: { alg: 'SHA-256', digest } }],
            },
            [['CONTEXT', act]],
          );
          // The suite starts as the build finishes: the test segment runs from the build's end to the suite's.
          tss = on('EiffelTestSuiteStartedEvent', '4.0.1', { name: `${c.area} suite` }, [['CAUSE', art]]);
        }
        on('EiffelActivityFinishedEvent', '4.1.1', { outcome: { conclusion: ok ? 'SUCCESSFUL' : 'UNSUCCESSFUL' } }, [
          ['ACTIVITY_EXECUTION', act],
        ]);
      } else if (e.stage === 'test') {
        tsf = on(
          'EiffelTestSuiteFinishedEvent',
          '4.1.1',
          { outcome: { verdict: e.outcome === 'success' ? 'PASSED' : 'FAILED', conclusion: 'SUCCESSFUL' } },
          [['TEST_SUITE_EXECUTION', tss]],
        );
      } else if (e.stage === 'promotion')
        on('EiffelConfidenceLevelModifiedEvent', '4.0.1', { name: 'integration-tested', value: 'SUCCESS' }, [
          ['SUBJECT', art],
          ['CAUSE', tsf],
        ]);
      else if (e.stage === 'release')
        on('EiffelCompositionDefinedEvent', '4.0.1', { name: `${c.area}-service`, version: sha.slice(0, 12) }, [['ELEMENT', art]]);
      else throw new Error(`eiffelHistory: no Eiffel event stands for a generated "${e.stage}" milestone`);
    }
  }
  events.sort((a, b) => a.event.meta.time - b.event.meta.time);
  return { events, keys, prefix, areas: [...areas].map((name) => ({ name, repositoryPrefix: `${prefix}${name}` })) };
}
