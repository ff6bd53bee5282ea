import { parseCommitKey } from '@not/events';
import { ConflictException, HttpException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  EntityReads,
  EventReads,
  WalkReads,
  Journeys,
  type CommitLookup,
  type EntityRow,
  type FoundCommit,
  type JourneyRecord,
} from '@not/graph';
import { Coalescer } from './coalescer.js';
import { assembleJourney, joinsThrough } from './journey.js';
import type { ArtifactTraceDto, JourneyDto, TraceDto, UpstreamDto } from './api.schemas.js';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';
import { WalkService, type WalkResult } from './walk.service.js';

type Model = { journey: JourneyRecord; dirty: boolean; basis: number | null } | undefined;

/** A commit trace without its subject, with the journey basis it was computed at and, once asked for, its JSON (less the opening brace). */
interface Kept {
  readonly basis: number | null;
  readonly answer: Omit<TraceDto, 'subject'>;
  json?: string;
}

/** "Where is my change now?": a journey downstream from a commit, work item, change or artifact. */
@Injectable()
export class TraceService {
  /**
   * Commit traces by commit key, with the basis of the journey they were computed with, least recently
   * used first. A journey gets a new basis whenever the correlator recomputes it (an event joined it),
   * so a trace is answered again only while its journey is unchanged and clean; an event written but not
   * yet taken in by the journey step (well under a second when the correlator keeps up) is missing from
   * it until then, as it is from the journey model and the live stream.
   */
  private readonly cache = new Map<string, Kept>();

  /**
   * The commit lookups every commit trace starts with (kept or not), sent together when requests come
   * together: two queries out at most, the asks that come meanwhile in the next (up to 64).
   */
  private readonly lookups = new Coalescer<CommitLookup, FoundCommit[]>((asks) => this.entityReads.commitsBySha(asks, 21), {
    inFlight: 2,
    maxBatch: 64,
  });

  constructor(
    private readonly entityReads: EntityReads,
    private readonly eventReads: EventReads,
    private readonly walkReads: WalkReads,
    private readonly walker: WalkService,
    private readonly journeys: Journeys,
    @Inject(EXPLORER_CONFIG) private readonly config: Pick<ExplorerConfig, 'journeys'>,
  ) {}

  /**
   * The commit trace (a TraceDto) as the JSON the API sends: a kept trace's body is serialised once, not
   * per request (a pipeline's trace is tens of kilobytes, and serialising it was most of what a kept
   * answer cost).
   */
  async forCommitJson(sha: string, repo?: string): Promise<string> {
    const { subject, trace } = await this.commitTrace(sha, repo);
    trace.json ??= JSON.stringify(trace.answer).slice(1);
    return `{"subject":${JSON.stringify(subject)},${trace.json}`;
  }

  private async commitTrace(sha: string, repo: string | undefined): Promise<{ subject: TraceDto['subject']; trace: Kept }> {
    const found = await this.lookups.ask({ prefix: sha, repository: repo });
    if (found.length === 0) {
      throw notFound(`no commit whose sha ${sha.length === 40 ? 'is' : 'starts with'} "${sha}"${repo ? ` in repository "${repo}"` : ''}`, [
        'check the sha (git rev-parse HEAD) and, with ?repo=, the normalised repository key (host/path, no scheme or .git)',
        'events reach the graph through a site relay and the correlator: GET /api/v1/events?stage=commit lists the newest commits it knows',
      ]);
    }
    if (found.length > 1)
      throw ambiguous(`the short sha "${sha}" matches ${found.length > 20 ? 'more than 20' : found.length} commits`, found);
    const { journeyBasis, ...commit } = found[0]!;
    const subject = { kind: 'commit' as const, query: sha, key: commit.key };
    // A kept trace is answered on the lookup's round trip alone; otherwise the journey record and a walk.
    const kept = this.cache.get(subject.key);
    if (journeyBasis !== null && kept?.basis === journeyBasis) {
      this.cache.delete(subject.key);
      this.cache.set(subject.key, kept);
      return { subject, trace: kept };
    }
    const model = await this.journeys.byKey(subject.key);
    const stamp = model && !model.dirty ? model.basis : null;
    const { subject: _, ...answer } = await this.trace(subject, [commit], [], model);
    const trace: Kept = { basis: stamp, answer };
    const size = this.config.journeys.traceCache;
    if (stamp !== null && size > 0) {
      this.cache.delete(subject.key);
      this.cache.set(subject.key, trace);
      while (this.cache.size > size) this.cache.delete(this.cache.keys().next().value!);
    }
    return { subject, trace };
  }

  async forWorkItem(key: string): Promise<TraceDto> {
    const [w] = await this.one('WorkItem', key, 'work item', [
      'work item keys are as found in commit messages and titles (PAY-42) or <repository>#<n>',
    ]);
    const [refs, events] = await Promise.all([this.entityReads.referencing(w.eid), this.walkReads.eventsAbout([{ o: 't', id: w.eid }])]);
    return this.trace(
      { kind: 'work-item', query: key, key: w.key },
      [w, ...refs],
      events.map((e) => e.id),
    );
  }

  async forChange(id: string): Promise<TraceDto> {
    const [c] = await this.one('Change', id, 'change', [
      'a change is <repository>!<number> for pull and merge requests, <gerrit host>/<Change-Id> for Gerrit',
    ]);
    return this.trace({ kind: 'change', query: id, key: c.key }, [c, ...(await this.entityReads.changeCommits(c.eid))]);
  }

  async forArtifact(ref: string): Promise<ArtifactTraceDto> {
    const a = await this.resolveArtifact(ref);
    const [down, up] = await Promise.all([
      this.trace({ kind: 'artifact', query: ref, key: a.key }, [a]),
      this.walker.walk([{ origin: 'u', entities: [a] }], 'up').then((m) => m.get('u')!),
    ]);
    return { ...down, upstream: this.upstream(up) };
  }

  /** Contents of an upstream walk: commits, work items (also through what commits and changes reference), changes, builds, artifacts. */
  upstream(up: WalkResult): UpstreamDto {
    // One pass over what the walk met (a release meets tens of thousands of entities).
    const byLabel = new Map<string, Set<string>>();
    for (const x of up.entities.values()) {
      const set = byLabel.get(x.label);
      if (set) set.add(x.key);
      else byLabel.set(x.label, new Set([x.key]));
    }
    const keys = (label: string): string[] => [...(byLabel.get(label) ?? [])].sort();
    return {
      commits: keys('Commit').map((key) => {
        const c = parseCommitKey(key);
        return { key, sha: c?.sha ?? null, repository: c?.repository ?? null };
      }),
      // Work items come with the walk: upstream, commits and changes lead to what they reference.
      workItems: keys('WorkItem'),
      changes: keys('Change'),
      builds: keys('Build'),
      artifacts: keys('Artifact'),
    };
  }

  async resolveArtifact(ref: string): Promise<EntityRow> {
    const tries = [ref, ...(ref.startsWith('pkg:') ? [`purl:${ref}`] : [])];
    for (const t of tries) {
      const found = await this.entityReads.entity('Artifact', t);
      if (found.length === 1) return found[0]!;
      if (found.length > 1) throw ambiguous(`"${ref}" names ${found.length} artifacts`, found);
    }
    if (/^[0-9a-fA-F]{12,128}$/.test(ref)) {
      const found = await this.entityReads.artifactsLike(`:${ref.toLowerCase()}`);
      if (found.length === 1) return found[0]!;
      if (found.length > 1) throw ambiguous(`the digest "${ref}" matches ${found.length} artifacts`, found);
    }
    throw notFound(`no artifact "${ref}"`, [
      'give a digest (sha256:<hex> or the bare hex), a purl (pkg:maven/group/name@version) or gav:<g>:<a>:<v>',
    ]);
  }

  private async trace(subject: TraceDto['subject'], seeds: EntityRow[], events: string[] = [], model?: Model): Promise<TraceDto> {
    const walked = (await this.walker.walk([{ origin: 't', entities: seeds, events }], 'down')).get('t')!;
    const ids = [...walked.events];
    const entities = [...walked.entities.values()];
    const referencing = entities.filter((x) => x.label === 'Commit' || x.label === 'Change').map((x) => x.eid);
    // The relations among the entities the walk met carry the journey from one tool's events to the next's.
    const [details, workItems, relations] = await Promise.all([
      this.eventReads.details(ids),
      this.entityReads.workItemsOf(referencing),
      this.entityReads.relationsAmong(entities.filter(joinsThrough).map((x) => x.eid)),
    ]);
    const journey = assembleJourney(details.events, details.about, details.links, [...entities, ...workItems], walked.truncated, relations);
    return { subject, ...journey, ...summaryFromModel(model, ids), ...(await this.throughMerges(seeds, events, walked)) };
  }

  /**
   * The merges a walk continued through (a change it met, merged as a commit that is not a seed) and the
   * events it reached only that way: those a walk that stops at merges does not reach.
   */
  private async throughMerges(
    seeds: readonly EntityRow[],
    events: string[],
    walked: WalkResult,
  ): Promise<Pick<TraceDto, 'merges' | 'throughMerge'>> {
    const changes = [...walked.entities.values()].filter((x) => x.label === 'Change').map((x) => x.eid);
    const seeded = new Set(seeds.filter((x) => x.label === 'Commit').map((x) => x.key));
    const met = new Set([...walked.entities.values()].filter((x) => x.label === 'Commit').map((x) => x.key));
    const merges = (await this.entityReads.mergesOf(changes)).filter((m) => !seeded.has(m.commit) && met.has(m.commit));
    if (!merges.length) return { merges: [], throughMerge: [] };
    const before = (await this.walker.walk([{ origin: 't', entities: seeds, events }], 'down', { merges: false })).get('t')!;
    return { merges, throughMerge: [...walked.events].filter((id) => !before.events.has(id)).sort() };
  }

  private async one(label: 'WorkItem' | 'Change', key: string, what: string, hints: string[]): Promise<[EntityRow]> {
    const found = await this.entityReads.entity(label, key);
    if (found.length === 0) throw notFound(`no ${what} "${key}"`, hints);
    if (found.length > 1) throw ambiguous(`"${key}" names ${found.length} ${what}s`, found);
    return [found[0]!];
  }
}

/**
 * A commit's stage bar from the journey model, when the model has taken in exactly the events the
 * walk found (else the walk's own, which the model will match once the correlator has caught up).
 */
function summaryFromModel(model: Model, walked: readonly string[]): Partial<Pick<JourneyDto, 'stages' | 'furthestStage'>> {
  if (!model || model.dirty || model.journey.events.length !== walked.length) return {};
  const have = new Set(model.journey.events.map((e) => e.id));
  if (!walked.every((id) => have.has(id))) return {};
  return { stages: model.journey.stages, furthestStage: model.journey.furthestStage };
}

export function notFound(message: string, hints: string[]): HttpException {
  return new NotFoundException({ statusCode: 404, error: 'Not Found', message, hint: hints.join('; ') });
}

export function ambiguous(message: string, candidates: readonly EntityRow[]): HttpException {
  return new ConflictException({
    statusCode: 409,
    error: 'Conflict',
    message: `${message}: give more of it`,
    candidates: candidates.slice(0, 20).map((c) => c.key),
  });
}
