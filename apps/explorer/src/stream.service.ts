import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { FAILED_OUTCOMES, parseCommitKey } from '@not/events';
import { EventReads, EventSearchReads, Journeys, type EventNews, type EventRow } from '@not/graph';
import { Observable, Subject, filter, map } from 'rxjs';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';
import { WalkService } from './walk.service.js';
import type { GraphChange } from './api.schemas.js';

export interface StreamFilter {
  readonly commit?: string;
  readonly workItem?: string;
  readonly release?: string;
  readonly site?: string;
}

export interface SseMessage {
  readonly type: string;
  readonly id: string;
  readonly data: GraphChange;
}

/** Most events one poll reads: in a burst of more per poll interval, the live stream carries the newest. */
const POLL_LIMIT = 1000;

/**
 * Polls the graph for events it has not seen (newest first, within the
 * configured look-back) while anyone listens, and fans the changes out to the
 * subscribers whose filter matches. What each event belongs to (commits, work
 * items, releases) and the stages it made changes reach come from the journey
 * model: an event waits, at most `journeys.waitMs`, until the journey step has
 * taken it in. An event that belongs to no journey (a work item's own event)
 * is walked upstream instead.
 */
@Injectable()
export class StreamService implements OnModuleDestroy {
  private readonly log = new Logger(StreamService.name);
  private readonly changes = new Subject<GraphChange>();
  /** Ids the last poll returned (everything newer than the look-back that it could hold). */
  private seen = new Set<string>();
  private subscribers = 0;
  private timer?: NodeJS.Timeout;
  private primed = false;
  private polling = false;
  /** New events whose journeys are not settled yet, in arrival order, with when they were first seen. */
  private waiting = new Map<string, { event: EventRow; since: number }>();

  constructor(
    private readonly eventReads: EventReads,
    private readonly searchReads: EventSearchReads,
    private readonly walker: WalkService,
    private readonly journeys: Journeys,
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
  ) {}

  subscribe(f: StreamFilter): Observable<SseMessage> {
    return new Observable<GraphChange>((sub) => {
      const s = this.changes.subscribe(sub);
      if (this.subscribers++ === 0) this.start();
      return () => {
        s.unsubscribe();
        if (--this.subscribers === 0) this.stop();
      };
    }).pipe(
      filter((c) => matches(c, f)),
      map((c) => ({ type: c.kind, id: c.event.id, data: c })),
    );
  }

  onModuleDestroy(): void {
    this.stop();
    this.changes.complete();
  }

  private start(): void {
    this.timer = setInterval(() => void this.poll(), this.config.stream.pollMs);
    void this.poll();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // The next listener starts from what is there then, not from what arrived while nobody listened.
    this.primed = false;
    this.seen.clear();
    this.waiting.clear();
  }

  /** One poll; the first only learns what is already there, so a new listener gets what happens next. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      // By arrival, not by the event's own time: a site's backlog after an outage is news when it lands.
      const ids = await this.searchReads.idsIngestedWithin(this.config.stream.lookbackSeconds, POLL_LIMIT);
      const freshIds = ids.filter((id) => !this.seen.has(id)).reverse();
      this.seen = new Set(ids);
      if (!this.primed) {
        this.primed = true;
        return;
      }
      if (freshIds.length) {
        const byId = new Map((await this.eventReads.events(freshIds)).map((e) => [e.id, e]));
        for (const id of freshIds) {
          const e = byId.get(id);
          if (e && !this.waiting.has(id)) this.waiting.set(id, { event: e, since: Date.now() });
        }
      }
      if (!this.waiting.size) return;
      const news = await this.journeys.news([...this.waiting.keys()]);
      const ready: Array<{ event: EventRow; news: EventNews | undefined }> = [];
      for (const [id, w] of this.waiting) {
        const n = news.get(id);
        if (n && !n.settled && Date.now() - w.since < this.config.journeys.waitMs) continue;
        this.waiting.delete(id);
        ready.push({ event: w.event, news: n });
      }
      // Events no journey passes (a work item's, a repository's) say what they belong to through a walk.
      const alone = ready.filter((r) => !r.news?.commits.length).map((r) => r.event);
      const up = alone.length
        ? await this.walker.walk(
            alone.map((e) => ({ origin: e.id, events: [e.id] })),
            'up',
            { maxEvents: 5000 },
          )
        : new Map();
      for (const { event: e, news: n } of ready) {
        const ents = [...(up.get(e.id)?.entities.values() ?? [])];
        const keys = (label: string): string[] =>
          ents
            .filter((x) => x.label === label)
            .map((x) => x.key)
            .sort();
        const fromModel = n !== undefined && n.commits.length > 0;
        this.changes.next({
          kind: FAILED_OUTCOMES.has(e.outcome ?? '') ? 'failure' : 'event',
          event: { id: e.id, type: e.type, stage: e.stage, phase: e.phase, outcome: e.outcome, time: e.time, site: e.site },
          commits: fromModel ? n.commits : keys('Commit'),
          workItems: fromModel ? n.workItems : keys('WorkItem'),
          releases: fromModel ? n.releases : keys('Release'),
          reached: fromModel ? n.reached : [],
        });
      }
    } catch (err) {
      this.log.warn(`stream poll failed: ${(err as Error).message}`);
    } finally {
      this.polling = false;
    }
  }
}

export function matches(c: GraphChange, f: StreamFilter): boolean {
  if (f.site && c.event.site !== f.site) return false;
  if (f.commit && !c.commits.some((k) => (parseCommitKey(k)?.sha ?? '').startsWith(f.commit!) || k === f.commit)) return false;
  if (f.workItem && !c.workItems.includes(f.workItem)) return false;
  if (f.release && !c.releases.includes(f.release)) return false;
  return true;
}
