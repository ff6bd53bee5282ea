import { Inject, Injectable } from '@nestjs/common';
import {
  DeliveryReads,
  EventSearchReads,
  Journeys,
  type DeliveryEventRow,
  type IncidentEventRow,
  type JourneyEvent,
  type JourneyPassages,
  type JourneyStage,
} from '@not/graph';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';
import { FAILED_OUTCOMES } from '@not/events';
import { dora, groupStats, summarize, type Deployment, type Incident } from './lead-time.stats.js';
import { milestonesOf, segmentsOf, startOf, type LeadTimeStart, type WorkItemTimes } from './lead-time.segments.js';
import type { ChangeLeadTimeDto, LeadTimeDto } from './api.schemas.js';
import { deliversChange, deploymentsOf, isProduction, releasesOf, type DeploymentRecord } from './deployments.js';
import { WalkService } from './walk.service.js';

type GroupBy = LeadTimeDto['groupBy'];

export interface LeadTimeQuery {
  readonly from: string;
  readonly to: string;
  /** The stage a change must reach in the window; lead time ends there. */
  readonly until: string;
  readonly area?: string;
  readonly groupBy: GroupBy;
  /** With `until=deployment`: the environment whose deployments count (default: the production ones). */
  readonly environment?: string;
  /** Where lead time starts (default: the explorer's `leadTime.start`). */
  readonly start?: LeadTimeStart;
}

/** A deployment (or release, or other end-stage event) with the areas of the commits it carried. */
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
    private readonly searchReads: EventSearchReads,
    private readonly deliveries: DeliveryReads,
    private readonly walker: WalkService,
    private readonly journeys: Journeys,
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
  ) {}

  async leadTime(q: LeadTimeQuery): Promise<LeadTimeDto> {
    return (await this.measure(q)).result;
  }

  /**
   * The lead-time answer and what it was computed from. With `environments: false` the figures of each
   * environment are left out (`environments` is empty) and, unless `until` is the deployment, neither the
   * window's deployments nor the journeys that passed them are read: the delivery figures need only the
   * end stage's, and on a busy window those reads are most of the work.
   */
  async measure(q: LeadTimeQuery, { environments: perEnvironment = true }: { environments?: boolean } = {}): Promise<LeadTimeMeasure> {
    const limit = this.config.limits.leadTimeChanges;
    const production = this.config.environments.production;
    const toDeployment = q.until === 'deployment';
    const readDeployments = toDeployment || perEnvironment;
    await this.journeys.settled(this.config.journeys.waitMs);
    // The changes that reached the end stage in the window, the end stage's events there (the deployments),
    // the deployments to every environment, and the incidents.
    const [reached, atDeployment, deploymentRows, releaseRows, otherTargets, incidentEvents] = await Promise.all([
      toDeployment ? Promise.resolve([]) : this.journeys.reachedIn(q.until as JourneyStage, q.from, q.to, limit),
      readDeployments ? this.deliveries.journeysAt('deployment', q.from, q.to, limit) : Promise.resolve([]),
      readDeployments ? this.deliveries.inWindow('deployment', q.from, q.to, limit) : Promise.resolve([]),
      q.until === 'release' ? this.deliveries.inWindow('release', q.from, q.to, limit) : Promise.resolve([]),
      q.until !== 'release' && !toDeployment ? this.searchReads.eventsInWindow(q.until, q.from, q.to, limit) : Promise.resolve([]),
      this.searchReads.incidentEventsInWindow(q.from, q.to, limit),
    ]);
    let truncated = [reached, atDeployment, deploymentRows, releaseRows, otherTargets].some((l) => l.length >= limit);
    // What each journey's release and deployment events are (some lie before the window).
    const info = new Map<string, DeliveryEventRow>([...deploymentRows, ...releaseRows].map((r) => [r.id, r]));
    const unknown = new Set<string>();
    for (const j of [...reached, ...atDeployment])
      for (const e of j.events) if ((e.stage === 'deployment' || e.stage === 'release') && !info.has(e.id)) unknown.add(e.id);
    for (const r of await this.deliveries.byIds([...unknown])) info.set(r.id, r);
    const inScope = (env: string | null): boolean => (q.environment !== undefined ? env === q.environment : isProduction(env, production));
    const deliveredTo =
      (accept: (env: string | null) => boolean) =>
      (e: JourneyEvent): boolean => {
        const r = info.get(e.id);
        return r !== undefined && deliversChange(r) && accept(r.environments[0] ?? null);
      };
    const isEnd: (e: JourneyEvent) => boolean = toDeployment
      ? deliveredTo(inScope)
      : q.until === 'release'
        ? (e) => info.get(e.id)?.nested !== true
        : () => true;
    const start = q.start ?? this.config.leadTime.start;
    // With a work-item start, when the work items of the changes (those per environment too) were created and started.
    const times =
      start === 'commit'
        ? new Map<string, WorkItemTimes>()
        : await this.deliveries.workItemTimes([...new Set([...reached, ...atDeployment].flatMap((j) => j.workItems))]);
    const perChange = this.changesOf(toDeployment ? atDeployment : reached, q, isEnd, start, times);
    for (const j of toDeployment ? atDeployment : reached) truncated ||= j.truncated;
    const groups = new Map<string, ChangeLeadTimeDto[]>();
    for (const c of perChange) {
      const name = q.groupBy === 'area' ? c.area : q.groupBy === 'site' ? c.site : 'all';
      const group = groups.get(name);
      if (group) group.push(c);
      else groups.set(name, [c]);
    }
    const days = (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000;
    const incidents = incidentsOf(incidentEvents);
    // Every deployment of the window (for the environments), and the ones that count for `until`.
    const allDeployments = deploymentsOf(deploymentRows);
    const targets: DeploymentRecord[] = toDeployment
      ? allDeployments.filter((d) => inScope(d.environment))
      : q.until === 'release'
        ? releasesOf(releaseRows)
        : otherTargets.map((t) => ({
            key: t.id,
            events: [t.id],
            time: t.time,
            site: t.site,
            failed: FAILED_OUTCOMES.has(t.outcome ?? ''),
            service: t.site,
            environment: null,
            rollback: false,
            artifacts: [],
            commits: [],
          }));
    // What each deployment carried: the areas of the journeys that passed it, and (for incidents) its artifacts.
    const records = [...new Map([...targets, ...allDeployments].map((d) => [d.key, d])).values()];
    const passing = await this.journeys.passing(
      [...new Set(records.flatMap((d) => d.events))],
      [...new Set(incidents.flatMap((i) => i.artifacts))],
    );
    const carried = await this.artifactsCarried(records, passing);
    const measured = new Map<string, AreaDeployment>(
      records.map((d) => [
        d.key,
        {
          ...d,
          artifacts: [...new Set([...d.artifacts, ...(carried.get(d.key) ?? [])])].sort(),
          areas: [
            ...new Set(d.events.flatMap((id) => passing.get(id)?.repositories ?? []).map((r) => areaOf(this.config.areas, r))),
          ].sort(),
        },
      ]),
    );
    const inArea = (list: readonly DeploymentRecord[]): AreaDeployment[] =>
      list.map((d) => measured.get(d.key)!).filter((d) => q.area === undefined || d.areas.includes(q.area));
    const deployments = inArea(targets);
    const environments = [...new Set(allDeployments.map((d) => d.environment).filter((e): e is string => e !== null))].sort();
    const result: LeadTimeDto = {
      from: q.from,
      to: q.to,
      until: q.until,
      start,
      groupBy: q.groupBy,
      area: q.area ?? null,
      environment: q.environment ?? null,
      production,
      changes: perChange.length,
      overall: groupStats(perChange),
      groups: [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, list]) => ({ name, ...groupStats(list) })),
      dora: dora(
        deployments,
        perChange.map((c) => c.total),
        days,
        // An incident that names no environment is a production one.
        incidents.filter(
          (i) => i.environments?.length || !toDeployment || q.environment === undefined || isProduction(q.environment, production),
        ),
      ),
      environments: (perEnvironment ? environments : []).map((name) => {
        const changes = this.changesOf(
          atDeployment,
          q,
          deliveredTo((env) => env === name),
          start,
          times,
        ).map((c) => c.total);
        return {
          name,
          production: isProduction(name, production),
          changes: changes.length,
          leadTime: summarize(changes),
          // An incident counts in the environments it names; one that names none, in the production ones.
          dora: dora(
            inArea(allDeployments.filter((d) => d.environment === name)),
            changes,
            days,
            incidents.filter((i) => (i.environments?.length ? i.environments.includes(name) : isProduction(name, production))),
          ),
        };
      }),
      perChange,
      truncated,
    };
    return { result, deployments, incidents };
  }

  /** The lead time of each change whose end point (the first event of `until` that `isEnd` accepts) lies in the window. */
  private changesOf(
    journeys: readonly JourneyPassages[],
    q: LeadTimeQuery,
    isEnd: (e: JourneyEvent) => boolean,
    start: LeadTimeStart,
    times: ReadonlyMap<string, WorkItemTimes>,
  ): ChangeLeadTimeDto[] {
    const out: ChangeLeadTimeDto[] = [];
    for (const j of journeys) {
      const journey = j.events;
      const m = milestonesOf(journey, q.until, isEnd);
      if (!m || m.reached < q.from || m.reached >= q.to) continue;
      const area = areaOf(this.config.areas, j.repository);
      if (q.area !== undefined && area !== q.area) continue;
      const site = journey.find((e) => e.stage === 'commit')?.site ?? journey[0]!.site;
      const { total, segments } = segmentsOf(m);
      const from = startOf(start, m.commit, j.workItems, times);
      out.push({
        commit: j.key,
        area,
        site,
        start: from.at,
        workItem: from.workItem,
        ticket: from.ticket,
        reached: m.reached,
        total: total + from.ticket,
        segments,
      });
    }
    return out.sort((a, b) => (a.reached < b.reached ? -1 : a.reached > b.reached ? 1 : a.commit < b.commit ? -1 : 1));
  }

  /**
   * The artifacts each deployment carried, for the deployments an incident could be blamed on: those
   * whose journeys reached an artifact an incident names (`named` in `passing`). Only those are walked
   * upstream (a journey's artifacts include ones built from the change but never deployed).
   */
  private async artifactsCarried(
    targets: readonly DeploymentRecord[],
    passing: ReadonlyMap<string, { named: boolean }>,
  ): Promise<Map<string, string[]>> {
    const suspects = targets.filter((t) => t.events.some((id) => passing.get(id)?.named === true));
    if (!suspects.length) return new Map();
    const up = await this.walker.walkMany(
      suspects.map((t) => ({ origin: t.key, events: [...t.events] })),
      'up',
    );
    const out = new Map<string, string[]>();
    for (const [key, r] of up)
      out.set(
        key,
        [...r.entities.values()].filter((x) => x.label === 'Artifact').map((x) => x.key),
      );
    return out;
  }
}

/** The area a repository belongs to: the first configured prefix that matches, else the repository itself. */
export function areaOf(areas: ExplorerConfig['areas'], repository: string): string {
  return areas.find((a) => repository.startsWith(a.repositoryPrefix))?.name ?? repository;
}

/** Incidents from their events: detected at the first detection or report, resolved at the first resolution after it. */
export function incidentsOf(events: readonly IncidentEventRow[]): Incident[] {
  const by = new Map<string, { detected?: string; resolved: string[]; artifacts: Set<string>; service?: string; envs: Set<string> }>();
  for (const e of events) {
    const i = by.get(e.incident) ?? { resolved: [], artifacts: new Set<string>(), envs: new Set<string>() };
    by.set(e.incident, i);
    for (const a of e.artifacts) i.artifacts.add(a);
    for (const x of e.environments ?? []) i.envs.add(x);
    if (e.service) i.service ??= e.service;
    if (e.predicate === 'resolved') i.resolved.push(e.time);
    else if (i.detected === undefined || Date.parse(e.time) < Date.parse(i.detected)) i.detected = e.time;
  }
  const out: Incident[] = [];
  for (const [id, i] of by) {
    if (i.detected === undefined) continue; // resolved in the window, detected before it
    const at = Date.parse(i.detected);
    const resolved = i.resolved.filter((t) => Date.parse(t) >= at).sort((a, b) => Date.parse(a) - Date.parse(b))[0];
    out.push({
      id,
      detected: i.detected,
      ...(resolved !== undefined ? { resolved } : {}),
      artifacts: [...i.artifacts].sort(),
      ...(i.service !== undefined ? { service: i.service } : {}),
      ...(i.envs.size ? { environments: [...i.envs].sort() } : {}),
    });
  }
  return out.sort((a, b) => Date.parse(a.detected) - Date.parse(b.detected));
}
