import { Inject, Injectable } from '@nestjs/common';
import { ExplorerReads, type EventRow } from '@not/graph';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';
import { dora, groupStats, segmentsOf, type Dora, type GroupStats, type Milestones, type Segment } from './lead-time.stats.js';
import { WalkService } from './walk.service.js';

export type GroupBy = 'stage' | 'area' | 'site';

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

const FAILED = new Set(['failure', 'error']);

/** How long changes take from first commit to a chosen stage, per segment, and where they wait. */
@Injectable()
export class LeadTimeService {
  constructor(
    private readonly reads: ExplorerReads,
    private readonly walker: WalkService,
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
  ) {}

  async leadTime(q: LeadTimeQuery): Promise<LeadTimeDto> {
    const limit = this.config.limits.leadTimeChanges;
    const targets = await this.reads.eventsInWindow(q.until, q.from, q.to, limit);
    // Which commits each target contains: one batched upstream walk for all of them.
    const up = await this.walker.walk(targets.map((t) => ({ origin: t.id, events: [t.id] })), 'up');
    const commits = new Map<string, { eid: string; key: string; label: string; props: Record<string, unknown> }>();
    let truncated = targets.length >= limit;
    for (const r of up.values()) {
      truncated ||= r.truncated;
      for (const x of r.entities.values()) if (x.label === 'Commit' && commits.size < limit) commits.set(x.key, x);
    }
    // Each commit's own journey downstream: when it passed each point.
    const down = await this.walker.walk([...commits.values()].map((c) => ({ origin: c.key, entities: [c] })), 'down');
    const allIds = new Set<string>();
    for (const r of down.values()) for (const id of r.events) allIds.add(id);
    const events = new Map((await this.reads.eventTimes([...allIds])).map((e) => [e.id, e]));

    const perChange: ChangeLeadTimeDto[] = [];
    for (const [key, c] of commits) {
      const walked = down.get(key);
      if (!walked) continue;
      truncated ||= walked.truncated;
      const journey = [...walked.events].map((id) => events.get(id)).filter((e): e is EventRow => !!e).sort((a, b) => (a.time < b.time ? -1 : 1));
      const m = milestones(journey, q.until);
      if (!m || m.points.reached < q.from || m.points.reached >= q.to) continue;
      const area = this.areaOf(typeof c.props['repository'] === 'string' ? c.props['repository'] : key.split('@')[0]!);
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
    const deployments = targets.map((t) => ({ time: t.time, failed: FAILED.has(t.outcome ?? ''), service: t.site }));
    return {
      from: q.from,
      to: q.to,
      until: q.until,
      groupBy: q.groupBy,
      area: q.area ?? null,
      changes: perChange.length,
      overall: groupStats(perChange),
      groups: [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, list]) => ({ name, ...groupStats(list) })),
      dora: dora(deployments, perChange.map((c) => c.total), days),
      perChange,
      truncated,
    };
  }

  private areaOf(repository: string): string {
    return this.config.areas.find((a) => repository.startsWith(a.repositoryPrefix))?.name ?? repository;
  }
}

/** The points one change passed, from its journey (events sorted by time); undefined when it never reached `until`. */
export function milestones(journey: readonly EventRow[], until: string): { points: Milestones } | undefined {
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
