import { Inject, Injectable } from '@nestjs/common';
import { ExplorerReads, Journeys, type EventRow, type IncidentEventRow, type JourneyEvent, type JourneyStage } from '@not/graph';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';
import { FAILED_OUTCOMES } from '@not/events';
import {
  dora,
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
    private readonly journeys: Journeys,
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
  ) {}

  async leadTime(q: LeadTimeQuery): Promise<LeadTimeDto> {
    return (await this.measure(q)).result;
  }

  async measure(q: LeadTimeQuery): Promise<LeadTimeMeasure> {
    const limit = this.config.limits.leadTimeChanges;
    await this.journeys.settled(this.config.journeys.waitMs);
    // The changes that first reached the end stage in the window, and the end stage's events there (the deployments).
    const [reached, targets, incidentEvents] = await Promise.all([
      this.journeys.reachedIn(q.until as JourneyStage, q.from, q.to, limit),
      this.reads.eventsInWindow(q.until, q.from, q.to, limit),
      this.reads.incidentEventsInWindow(q.from, q.to, limit),
    ]);
    let truncated = targets.length >= limit || reached.length >= limit;
    const perChange: ChangeLeadTimeDto[] = [];
    for (const j of reached) {
      truncated ||= j.truncated;
      const journey = j.events.map(asEventRow);
      const m = milestones(journey, q.until);
      if (!m || m.points.reached < q.from || m.points.reached >= q.to) continue;
      const area = areaOf(this.config.areas, j.repository);
      if (q.area !== undefined && area !== q.area) continue;
      const site = journey.find((e) => e.stage === 'commit')?.site ?? journey[0]!.site;
      const { total, segments } = segmentsOf(m.points);
      perChange.push({ commit: j.key, area, site, start: m.points.commit, reached: m.points.reached, total, segments });
    }
    perChange.sort((a, b) => (a.reached < b.reached ? -1 : a.reached > b.reached ? 1 : a.commit < b.commit ? -1 : 1));
    const groups = new Map<string, ChangeLeadTimeDto[]>();
    for (const c of perChange) {
      const name = q.groupBy === 'area' ? c.area : q.groupBy === 'site' ? c.site : 'all';
      groups.set(name, [...(groups.get(name) ?? []), c]);
    }
    const days = (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000;
    // What each deployment carried: the areas of the journeys that passed it, and (for incidents) its artifacts.
    const incidents = incidentsOf(incidentEvents);
    const passing = await this.journeys.passing(targets.map((t) => t.id));
    const carried = await this.artifactsCarried(targets, passing, incidents);
    const deployments: AreaDeployment[] = targets.map((t) => ({
      time: t.time,
      failed: FAILED_OUTCOMES.has(t.outcome ?? ''),
      service: t.site,
      artifacts: carried.get(t.id) ?? [],
      areas: [...new Set((passing.get(t.id) ?? []).map((j) => areaOf(this.config.areas, j.repository)))],
    }));
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

  /**
   * The artifacts each deployment carried, for the deployments an incident could be blamed on: those
   * whose journeys reached an artifact the incident names. Only those are walked upstream (a
   * journey's artifacts include ones built from the change but never deployed).
   */
  private async artifactsCarried(
    targets: readonly EventRow[],
    passing: ReadonlyMap<string, ReadonlyArray<{ artifacts: readonly string[] }>>,
    incidents: readonly Incident[],
  ): Promise<Map<string, string[]>> {
    const named = new Set(incidents.flatMap((i) => i.artifacts));
    if (!named.size) return new Map();
    const suspects = targets.filter((t) => (passing.get(t.id) ?? []).some((j) => j.artifacts.some((a) => named.has(a))));
    const up = await this.walker.walkMany(
      suspects.map((t) => ({ origin: t.id, events: [t.id] })),
      'up',
    );
    const out = new Map<string, string[]>();
    for (const [id, r] of up)
      out.set(
        id,
        [...r.entities.values()].filter((x) => x.label === 'Artifact').map((x) => x.key),
      );
    return out;
  }
}

/** A journey's event as the lead-time arithmetic reads events. */
function asEventRow(e: JourneyEvent): EventRow {
  return { ...e, type: '', source: '', format: '', props: {} };
}

/** The area a repository belongs to: the first configured prefix that matches, else the repository itself. */
export function areaOf(areas: ExplorerConfig['areas'], repository: string): string {
  return areas.find((a) => repository.startsWith(a.repositoryPrefix))?.name ?? repository;
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
