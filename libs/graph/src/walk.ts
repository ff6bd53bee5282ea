import type { EntityRow } from './read-rows.js';
import type { Tagged, WalkReads } from './walk.reads.js';

/** How far a walk goes: events per origin, and steps. */
export interface WalkLimits {
  /** Events per origin before the walk stops and says it was truncated. */
  readonly events: number;
  /** Steps a walk may take before it stops (a guard against cycles of bad links). */
  readonly walkSteps: number;
}

/**
 * Link types never followed when walking a journey: they point at history
 * (an earlier version, the base a change started from) or at shared context
 * (a flow context, an environment), not at cause and effect, and following
 * them would pull every later commit or every run in the same context in.
 */
export const SKIPPED_LINKS: readonly string[] = [
  'PREVIOUS_VERSION',
  'BASE',
  'FLOW_CONTEXT',
  'ENVIRONMENT',
  'RUNTIME_ENVIRONMENT',
  'MODIFIED_ANNOUNCEMENT',
];

export type Direction = 'down' | 'up';

/**
 * Entity relations a walk follows, by direction in the graph (`into`: relations that end at the entity,
 * `out`: relations that start from it). Downstream goes from what a thing is to what was made of it;
 * upstream from a thing to what it was made of and why. `MERGED_AS` (change -> the commit it landed as)
 * carries a commit on a feature branch on to its merge commit's builds, through the change that includes
 * it; upstream it leads from a merge commit to its change. Relationship type expressions for the walk's reads.
 */
export const FOLLOWED_RELATIONS: Readonly<Record<Direction, { readonly into: string; readonly out: string }>> = {
  down: { into: 'INCLUDES|BUILT|TESTED|CONTAINS', out: 'PRODUCED|DEPLOYED_TO|MERGED_AS' },
  up: { into: 'PRODUCED|MERGED_AS', out: 'INCLUDES|BUILT|CONTAINS|REFERENCES' },
};

/** The relations {@link FOLLOWED_RELATIONS} names; without `merges`, a change does not lead to its merge commit. */
export function followedRelations(direction: Direction, merges: boolean): { into: string; out: string } {
  const { into, out } = FOLLOWED_RELATIONS[direction];
  const drop = (types: string): string =>
    merges
      ? types
      : types
          .split('|')
          .filter((t) => t !== 'MERGED_AS')
          .join('|');
  return { into: drop(into), out: drop(out) };
}

/** Entities whose events take part in a journey (a repository, site or environment is shared by too much). */
export const EXPANDED_LABELS: readonly string[] = ['Commit', 'Change', 'Build', 'TestRun', 'Artifact', 'Release'];
/** Entities collected on the way (reported, not expanded). */
export const COLLECTED_LABELS: readonly string[] = [...EXPANDED_LABELS, 'WorkItem', 'Environment'];

/** Origins per walk in {@link GraphWalker.walkMany}. */
export const WALK_CHUNK = 200;
/** Walks {@link GraphWalker.walkMany} has in flight at once. */
export const WALK_PARALLEL = 2;

export interface WalkSeed {
  readonly origin: string;
  readonly entities?: readonly EntityRow[];
  readonly events?: readonly string[];
}

export interface WalkOptions {
  /** Events per origin before the walk stops and says it was truncated (default: limits.events). */
  readonly maxEvents?: number;
  /**
   * False when the caller only needs which entities were met: entities reached through relations
   * in one-origin walks then come without their properties (a release meets tens of thousands).
   */
  readonly props?: boolean;
  /** False: a merged change does not lead on to the commit it landed as (what a commit reached before its merge). */
  readonly merges?: boolean;
}

export interface WalkResult {
  readonly events: Set<string>;
  /** element id -> entity */
  readonly entities: Map<string, EntityRow>;
  /** True when the walk stopped at a limit rather than at the end of the graph. */
  truncated: boolean;
}

/**
 * The walk of a journey, shared by the explorer (traces, lead time) and the correlator's journey
 * read model (libs/graph journeys.ts), so both follow the same rules.
 *
 * Walks the two layers together from seeds, one step per round trip, for many
 * origins at once: events linked to events (down: those that link here; up:
 * those linked to), events to the entities they are about, entities to
 * related entities, and entities back to their events. A walk for one origin
 * takes each closure together with the step from the entities it reaches
 * ({@link WalkReads.reach}); the answer is the same.
 */
export class GraphWalker {
  constructor(
    private readonly reads: WalkReads,
    private readonly limits: () => WalkLimits,
  ) {}

  /**
   * The same walk for many origins, `chunk` origins at a time: each round trip's result (and the
   * graph store's transaction memory) stays bounded however many origins there are. Two chunks are
   * walked at once (the store works on one while the other's answer is read); the result keeps the
   * seeds' order.
   */
  async walkMany(seeds: readonly WalkSeed[], direction: Direction, chunk = WALK_CHUNK): Promise<Map<string, WalkResult>> {
    const chunks: Array<Map<string, WalkResult>> = [];
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (next < seeds.length && !failed) {
        const start = next;
        next += chunk;
        try {
          chunks[start / chunk] = await this.walk(seeds.slice(start, start + chunk), direction);
        } catch (err) {
          failed = true; // the other walk takes no further chunk
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: WALK_PARALLEL }, worker));
    const out = new Map<string, WalkResult>();
    for (const walked of chunks) for (const [o, r] of walked) out.set(o, r);
    return out;
  }

  async walk(seeds: readonly WalkSeed[], direction: Direction, options: WalkOptions = {}): Promise<Map<string, WalkResult>> {
    const maxEvents = options.maxEvents ?? this.limits().events;
    const out = new Map<string, WalkResult>();
    let entFrontier: Tagged[] = [];
    let evFrontier: Tagged[] = [];
    // Events reached through a link, or given as seeds, tell what they are about; an event reached
    // because it is about a known entity does not (a push about ten commits must not pull the other nine in).
    let describe: Tagged[] = [];
    for (const s of seeds) {
      const r: WalkResult = out.get(s.origin) ?? { events: new Set(), entities: new Map(), truncated: false };
      out.set(s.origin, r);
      for (const e of s.entities ?? []) {
        if (r.entities.has(e.eid)) continue;
        r.entities.set(e.eid, e);
        entFrontier.push({ o: s.origin, id: e.eid });
      }
      for (const id of s.events ?? []) {
        if (r.events.has(id)) continue;
        r.events.add(id);
        evFrontier.push({ o: s.origin, id });
        describe.push({ o: s.origin, id });
      }
    }
    const addEvent = (o: string, id: string, into: Tagged[]): boolean => {
      const r = out.get(o)!;
      if (r.events.has(id)) return false;
      if (r.events.size >= maxEvents) {
        r.truncated = true;
        return false;
      }
      r.events.add(id);
      into.push({ o, id });
      return true;
    };
    const addEntity = (o: string, x: EntityRow, into: Tagged[]): boolean => {
      const r = out.get(o)!;
      if (r.entities.has(x.eid)) return false;
      r.entities.set(x.eid, x);
      into.push({ o, id: x.eid });
      return true;
    };
    // One origin (a trace, a release): each closure also takes the next step from the entities it
    // reaches, in the same round trip; those with further events about them come back in `about`.
    const [only] = out.size === 1 ? [...out.keys()] : [];
    const single = only !== undefined ? out.get(only)! : undefined;
    const labels = { skip: SKIPPED_LINKS, collect: COLLECTED_LABELS, expand: EXPANDED_LABELS };
    let about: Tagged[] = [];
    for (
      let step = 0;
      step < this.limits().walkSteps && (entFrontier.length || evFrontier.length || describe.length || about.length);
      step++
    ) {
      const nextEnt: Tagged[] = [];
      const nextEv: Tagged[] = [];
      const nextAbout: Tagged[] = [];
      const expandable = entFrontier.filter((t) => EXPANDED_LABELS.includes(out.get(t.o)!.entities.get(t.id)!.label));
      const [viaAbout, neighbours, reached] = await Promise.all([
        // With one origin, what it already has is left out in the database (a release reaches tens of thousands).
        this.reads.eventsAbout([...expandable, ...about], single ? [...single.events] : []),
        this.reads.step(
          { entities: entFrontier, expand: [], events: [], describe },
          direction,
          SKIPPED_LINKS,
          COLLECTED_LABELS,
          options.merges ?? true,
        ),
        single
          ? this.reads.reach(
              evFrontier.map((t) => t.id),
              direction,
              labels,
              options.props ?? true,
              options.merges ?? true,
            )
          : this.reads.closure(evFrontier, direction, SKIPPED_LINKS, COLLECTED_LABELS),
      ]);
      for (const r of viaAbout) addEvent(r.o, r.id, nextEv);
      for (const r of neighbours) if (r.x) addEntity(r.o, r.x, nextEnt);
      // The closure already holds everything linked beyond these events: they need no further link step.
      const closed: Tagged[] = [];
      if (Array.isArray(reached)) {
        for (const r of reached) {
          addEvent(r.o, r.id, closed);
          for (const x of r.xs) addEntity(r.o, x, nextEnt);
        }
      } else {
        const o = only!;
        for (const id of reached.events) addEvent(o, id, closed);
        // Stepped from in the database already: only their further events are left to read, for
        // those met for the first time (the others were expanded when they were met).
        const fresh = new Set<string>();
        for (const x of reached.entities) if (addEntity(o, x, [])) fresh.add(x.eid);
        for (const eid of reached.more) if (fresh.has(eid)) nextAbout.push({ o, id: eid });
        for (const x of reached.neighbours) addEntity(o, x, nextEnt);
        for (const x of reached.leaves) addEntity(o, x, []);
      }
      entFrontier = nextEnt;
      evFrontier = nextEv;
      about = nextAbout;
      describe = [];
      if (step === this.limits().walkSteps - 1 && (entFrontier.length || evFrontier.length || about.length)) {
        for (const t of [...entFrontier, ...evFrontier, ...about]) out.get(t.o)!.truncated = true;
      }
    }
    return out;
  }
}
