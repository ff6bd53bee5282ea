import { Inject, Injectable } from '@nestjs/common';
import { ExplorerReads, type EntityRow, type EventRow, type IncidentEventRow } from '@not/graph';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';
import {
  dora,
  FAILED_OUTCOMES,
  groupStats,
  segmentsOf,
  type Deployment,
  type Dora,
  type GroupStats,
  type Incident,
  type Milestones,
  type Segment,
} from './lead-time.stats.js';
import { WalkService } from './walk.service.js';

type GroupBy = 'stage' | 'area' | 'site';

export interface LeadTimeQuery {
  readonly from: string;
  readonly to: string;
  /** The stage a change must reach in the window; lead time ends there. */
  readonly until: string;
  readonly area?: string;
  readonly groupBy: GroupBy;
}

export interface ChangeLeadTimeDto {
  readonly commit: string;
  readonly area: string;
  readonly site: string;
  readonly start: string;
  readonly reached: string;
  readonly total: number;
  readonly segments: Record<Segment, number>;
}

export interface LeadTimeDto {
  readonly from: string;
  readonly to: string;
  readonly until: string;
  readonly groupBy: GroupBy;
  readonly area: string | null;
  readonly changes: number;
  readonly overall: GroupStats;
  readonly groups: Array<{ name: string } & GroupStats>;
  readonly dora: Dora;
  readonly perChange: ChangeLeadTimeDto[];
  readonly truncated: boolean;
}

/** A deployment (an event of the chosen end stage) with the areas of the commits it carried. */
export interface AreaDeployment extends Deployment {
  readonly areas: readonly string[];
}

/** A lead-time answer with what it was computed from, for the delivery figures. */
export interface LeadTimeMeasure {
  readonly result: LeadTimeDto;
  readonly deployments: readonly AreaDeployment[];
  readonly incidents: readonly Incident[];
}

/** How long changes take from first commit to a chosen stage, per segment, and where they wait. */
@Injectable()
export class LeadTimeService {
  constructor(
    private readonly reads: ExplorerReads,
    private readonly walker: WalkService,
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
  ) {}

  async leadTime(q: LeadTimeQuery): Promise<LeadTimeDto> {
    return (await this.measure(q)).result;
  }

  async measure(q: LeadTimeQuery): Promise<LeadTimeMeasure> {
    const limit = this.config.limits.leadTimeChanges;
    const [targets, incidentEvents] = await Promise.all([
      this.reads.eventsInWindow(q.until, q.from, q.to, limit),
      this.reads.incidentEventsInWindow(q.from, q.to, limit),
    ]);
    // Which commits each target contains: one batched upstream walk for all of them.
    const up = await this.walker.walkMany(
      targets.map((t) => ({ origin: t.id, events: [t.id] })),
      'up',
    );
    const commits = new Map<string, EntityRow>();
    let truncated = targets.length >= limit;
    for (const r of up.values()) {
      truncated ||= r.truncated;
      for (const x of r.entities.values()) if (x.label === 'Commit' && commits.size < limit) commits.set(x.key, x);
    }
    // Each commit's own journey downstream: when it passed each point.
    const down = await this.walker.walkMany(
      [...commits.values()].map((c) => ({ origin: c.key, entities: [c] })),
      'down',
    );
    const allIds = new Set<string>();
    for (const r of down.values()) for (const id of r.events) allIds.add(id);
    const events = new Map((await this.reads.eventTimes([...allIds])).map((e) => [e.id, e]));

    const perChange: ChangeLeadTimeDto[] = [];
    for (const [key, c] of commits) {
      const walked = down.get(key);
      if (!walked) continue;
      truncated ||= walked.truncated;
      const journey = [...walked.events]
        .map((id) => events.get(id))
        .filter((e): e is EventRow => !!e)
        .sort((a, b) => (a.time < b.time ? -1 : 1));
      const m = milestones(journey, q.until);
      if (!m || m.points.reached < q.from || m.points.reached >= q.to) continue;
      const area = areaOf(this.config.areas, repositoryOf(c));
      if (q.area !== undefined && area !== q.area) continue;
      const site = journey.find((e) => e.stage === 'commit')?.site ?? journey[0]!.site;
      const { total, segments } = segmentsOf(m.points);
      perChange.push({ commit: key, area, site, start: m.points.commit, reached: m.points.reached, total, segments });
    }
    perChange.sort((a, b) => (a.reached < b.reached ? -1 : a.reached > b.reached ? 1 : a.commit < b.commit ? -1 : 1));

    const groups = new Map<string, ChangeLeadTimeDto[]>();
    for (const c of perChange) {
      const name = q.groupBy === 'area' ? c.area : q.groupBy === 'site' ? c.site : 'all';
      groups.set(name, [...(groups.get(name) ?? []), c]);
    }
    const days = (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000;
    // What each deployment carried: its artifacts (for incidents) and the areas of its commits.
    const deployments: AreaDeployment[] = targets.map((t) => {
      const carried = [...(up.get(t.id)?.entities.values() ?? [])];
      return {
        time: t.time,
        failed: FAILED_OUTCOMES.has(t.outcome ?? ''),
        service: t.site,
        artifacts: carried.filter((x) => x.label === 'Artifact').map((x) => x.key),
        areas: [...new Set(carried.filter((x) => x.label === 'Commit').map((x) => areaOf(this.config.areas, repositoryOf(x))))],
      };
    });
    const incidents = incidentsOf(incidentEvents);
    const inArea = q.area === undefined ? deployments : deployments.filter((d) => d.areas.includes(q.area!));
    const result: LeadTimeDto = {
      from: q.from,
      to: q.to,
      until: q.until,
      groupBy: q.groupBy,
      area: q.area ?? null,
      changes: perChange.length,
      overall: groupStats(perChange),
      groups: [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, list]) => ({ name, ...groupStats(list) })),
      dora: dora(
        inArea,
        perChange.map((c) => c.total),
        days,
        incidents,
      ),
      perChange,
      truncated,
    };
    return { result, deployments, incidents };
  }
}

/** The area a repository belongs to: the first configured prefix that matches, else the repository itself. */
export function areaOf(areas: ExplorerConfig['areas'], repository: string): string {
  return areas.find((a) => repository.startsWith(a.repositoryPrefix))?.name ?? repository;
}

/** A commit entity's repository: its property, else the part of its key before `@`. */
export function repositoryOf(commit: Pick<EntityRow, 'key' | 'props'>): string {
  const repo = commit.props['repository'];
  return typeof repo === 'string' ? repo : commit.key.split('@')[0]!;
}

/** Incidents from their events: detected at the first detection or report, resolved at the first resolution after it. */
export function incidentsOf(events: readonly IncidentEventRow[]): Incident[] {
  const by = new Map<string, { detected?: string; resolved: string[]; artifacts: Set<string> }>();
  for (const e of events) {
    const i = by.get(e.incident) ?? { resolved: [], artifacts: new Set<string>() };
    by.set(e.incident, i);
    for (const a of e.artifacts) i.artifacts.add(a);
    if (e.predicate === 'resolved') i.resolved.push(e.time);
    else if (i.detected === undefined || Date.parse(e.time) < Date.parse(i.detected)) i.detected = e.time;
  }
  const out: Incident[] = [];
  for (const [id, i] of by) {
    if (i.detected === undefined) continue; // resolved in the window, detected before it
    const at = Date.parse(i.detected);
    const resolved = i.resolved.filter((t) => Date.parse(t) >= at).sort((a, b) => Date.parse(a) - Date.parse(b))[0];
    out.push({ id, detected: i.detected, ...(resolved !== undefined ? { resolved } : {}), artifacts: [...i.artifacts].sort() });
  }
  return out.sort((a, b) => Date.parse(a.detected) - Date.parse(b.detected));
}

/** The points one change passed, from its journey (events sorted by time); undefined when it never reached `until`. */
function milestones(journey: readonly EventRow[], until: string): { points: Milestones } | undefined {
  const reachedEv = journey.find((e) => e.stage === until);
  if (!reachedEv) return undefined;
  const reached = reachedEv.time;
  const first = (pred: (e: EventRow) => boolean): string | undefined => journey.find(pred)?.time;
  const commit = first((e) => e.stage === 'commit') ?? journey[0]!.time;
  const promotion = until === 'promotion' ? reached : first((e) => e.stage === 'promotion');
  const testLimit = promotion ?? reached;
  const tests = journey.filter((e) => e.stage === 'test' && (e.phase === 'finished' || e.phase === 'canceled') && e.time <= testLimit);
  const buildsDone = journey.filter((e) => e.stage === 'build' && e.phase === 'finished');
  return {
    points: {
      commit,
      merge: first((e) => e.stage === 'merge'),
      buildStart: first((e) => e.stage === 'build' && (e.phase === 'triggered' || e.phase === 'queued' || e.phase === 'started')),
      buildEnd: (buildsDone.find((e) => e.outcome === 'success') ?? buildsDone[0])?.time,
      testEnd: tests[tests.length - 1]?.time,
      promotion,
      reached,
    },
  };
}
