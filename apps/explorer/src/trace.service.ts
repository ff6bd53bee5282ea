import { parseCommitKey } from '@not/events';
import { ConflictException, HttpException, Injectable, NotFoundException } from '@nestjs/common';
import { EntityReads, EventReads, WalkReads, Journeys, type EntityRow, type JourneyRecord } from '@not/graph';
import { assembleJourney } from './journey.js';
import type { ArtifactTraceDto, JourneyDto, TraceDto, UpstreamDto } from './api.schemas.js';
import { WalkService, type WalkResult } from './walk.service.js';

/** "Where is my change now?": a journey downstream from a commit, work item, change or artifact. */
@Injectable()
export class TraceService {
  constructor(
    private readonly entityReads: EntityReads,
    private readonly eventReads: EventReads,
    private readonly walkReads: WalkReads,
    private readonly walker: WalkService,
    private readonly journeys: Journeys,
  ) {}

  async forCommit(sha: string, repo?: string): Promise<TraceDto> {
    const found = await this.entityReads.commitsBySha(sha, repo, 21);
    if (found.length === 0) {
      throw notFound(`no commit whose sha ${sha.length === 40 ? 'is' : 'starts with'} "${sha}"${repo ? ` in repository "${repo}"` : ''}`, [
        'check the sha (git rev-parse HEAD) and, with ?repo=, the normalised repository key (host/path, no scheme or .git)',
        'events reach the graph through a site relay and the correlator: GET /api/v1/events?stage=commit lists the newest commits it knows',
      ]);
    }
    if (found.length > 1)
      throw ambiguous(`the short sha "${sha}" matches ${found.length > 20 ? 'more than 20' : found.length} commits`, found);
    return this.trace({ kind: 'commit', query: sha, key: found[0]!.key }, [found[0]!]);
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

  private async trace(subject: TraceDto['subject'], seeds: EntityRow[], events: string[] = []): Promise<TraceDto> {
    const walked = (await this.walker.walk([{ origin: 't', entities: seeds, events }], 'down')).get('t')!;
    const ids = [...walked.events];
    const entities = [...walked.entities.values()];
    const referencing = entities.filter((x) => x.label === 'Commit' || x.label === 'Change').map((x) => x.eid);
    const [details, workItems, model] = await Promise.all([
      this.eventReads.details(ids),
      this.entityReads.workItemsOf(referencing),
      subject.kind === 'commit' ? this.journeys.byKey(subject.key) : undefined,
    ]);
    const journey = assembleJourney(details.events, details.about, details.links, [...entities, ...workItems], walked.truncated);
    return { subject, ...journey, ...summaryFromModel(model, ids) };
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
function summaryFromModel(
  model: { journey: JourneyRecord; dirty: boolean } | undefined,
  walked: readonly string[],
): Partial<Pick<JourneyDto, 'stages' | 'furthestStage'>> {
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
