import { randomUUID } from 'node:crypto';
import neo4j from 'neo4j-driver';
import { GraphRepository } from './graph.repository.js';
import { isoTime } from './read-rows.js';
import {
  JOURNEY_ORDER,
  JOURNEY_PASSAGES,
  JOURNEY_RECORD,
  journeyFromProps,
  journeyOf,
  journeyProps,
  passagesFromProps,
  stageProperty,
  type JourneyEvent,
  type JourneyPassages,
  type JourneyRecord,
  type JourneyStage,
} from './journey.js';
import { eventFirings, journeyFirings, type FiringRow, type Subscription, type WatchedEvent } from './subscription.js';
import { normalizeEvent, type EntityRow, type EventRow } from './read-rows.js';
import { RECORD_FIRINGS } from './subscriptions.js';
import { GraphWalker, type WalkLimits } from './walk.js';
import type { WalkReads } from './walk.reads.js';

/** Every journey of a window, by first commit (`Journeys.changedSince` without a cursor). */
const CHANGED_IN_WINDOW = `MATCH (j:Journey) WHERE j.commitFirst >= $from
WITH j ORDER BY j.updatedAt, j.key LIMIT $limit
RETURN ${JOURNEY_PASSAGES} AS j, j.updatedAt.epochMillis AS at`;

/**
 * The journeys of a window written since a cursor (`Journeys.changedSince`): few, so they are sought in
 * write order and the window's bound filters them. Left to itself, the planner may read the whole window
 * by first commit and sort it, every round of every reader.
 */
export const CHANGED_SINCE = `MATCH (j:Journey) USING INDEX j:Journey(updatedAt)
WHERE j.updatedAt >= datetime({epochMillis: $since}) AND j.commitFirst >= $from
WITH j ORDER BY j.updatedAt, j.key LIMIT $limit
RETURN ${JOURNEY_PASSAGES} AS j, j.updatedAt.epochMillis AS at`;

/** The newest event taken in and journey written, each read from the end of its index (`Journeys.lastChange`). */
export const LAST_CHANGE = `CALL {
  MATCH (e:Event) WHERE e.ingestedAt IS NOT NULL
  RETURN e.ingestedAt AS t ORDER BY e.ingestedAt DESC LIMIT 1
  UNION ALL
  MATCH (j:Journey) WHERE j.updatedAt IS NOT NULL
  RETURN j.updatedAt AS t ORDER BY j.updatedAt DESC LIMIT 1
}
RETURN max(t).epochMillis AS at`;

/**
 * Whether any event's own time lies in one of the spans [from, to) (epoch ms; `Journeys.anyEventIn`):
 * one seek on the event-time index per span, ended by the first event found.
 */
export const ANY_EVENT_IN = `UNWIND $spans AS s
RETURN EXISTS {
  MATCH (e:Event) WHERE e.time >= datetime({epochMillis: s.from}) AND e.time < datetime({epochMillis: s.to})
} AS any`;

/**
 * The journey read model in the graph store (see docs/architecture.md, "Journeys"):
 *
 * 1. the batch that writes new events labels them `:JourneyPending`, in its own transaction;
 * 2. {@link Journeys.propagate} walks upstream from pending events to the commits they belong to,
 *    marks those commits' `:Journey` nodes `:JourneyDirty` and takes the pending label off, in one
 *    transaction;
 * 3. {@link Journeys.recompute} walks downstream from each dirty journey's commit (the explorer's
 *    walk, {@link GraphWalker}), computes the record with the pure {@link journeyOf} and writes it,
 *    clearing the mark unless the journey was marked again meanwhile.
 *
 * Every mark is durable, so a correlator that stops between steps leaves work, never a wrong
 * journey; every step is idempotent, so several correlators may run them at once.
 * {@link Journeys.rebuild} marks every commit's journey dirty and runs step 3 until none is left.
 *
 * Given the subscriptions to watch, steps 2 and 3 also record the firings their new facts cause, in the
 * transaction that records those facts (events' conditions in step 2, journeys' in step 3), so a match is
 * recorded exactly once whatever the order, repeats or delay of the events (see subscription.ts).
 */
export class Journeys {
  private readonly walker: GraphWalker;
  /** Firings recorded by this instance so far (the counter the correlator exports). */
  private fired = 0;

  constructor(
    private readonly graph: GraphRepository,
    reads: WalkReads,
    limits: () => WalkLimits,
    private readonly watch?: () => Promise<readonly Subscription[]>,
  ) {
    this.walker = new GraphWalker(reads, limits);
  }

  /** One bounded round of steps 2 and 3; how many events and journeys it handled. */
  async step(limit = 500): Promise<{ events: number; journeys: number; firings: number }> {
    const before = this.fired;
    const events = await this.propagate(limit);
    const journeys = await this.recompute(limit);
    return { events, journeys, firings: this.fired - before };
  }

  /** Runs rounds until nothing is pending or dirty (a rebuild, a test). */
  async drain(limit = 500, progress?: (done: number) => void): Promise<number> {
    let done = 0;
    for (;;) {
      const r = await this.step(limit);
      done += r.journeys;
      if (r.journeys) progress?.(done);
      if (r.events === 0 && r.journeys === 0) return done;
    }
  }

  /** Step 2: pending events -> the journeys of the commits upstream of them, marked dirty. */
  async propagate(limit = 500): Promise<number> {
    const pending = await this.graph.read<{ id: string; at: number }>(
      `MATCH (e:JourneyPending) RETURN e.id AS id, coalesce(e.ingestedAt, datetime.realtime()).epochMillis AS at LIMIT $limit`,
      { limit: neo4j.int(limit) },
    );
    if (!pending.length) return 0;
    const firings = await this.eventFirings(pending);
    const up = await this.walker.walkMany(
      pending.map((p) => ({ origin: p.id, events: [p.id] })),
      'up',
    );
    const keys = new Set<string>();
    // Each event joins its journeys now (recompute confirms or drops it), so a reader of one event knows
    // which journeys to wait for.
    const passes: Array<{ id: string; keys: string[] }> = [];
    for (const [id, r] of up) {
      const mine = [...r.entities.values()].filter((x) => x.label === 'Commit').map((x) => x.key);
      for (const k of mine) keys.add(k);
      if (mine.length) passes.push({ id, keys: mine });
    }
    // Cause time: the earliest arrival among these events, so a reader can wait for what it caused.
    const since = Math.min(...pending.map((p) => p.at));
    await this.graph.write(
      `CALL () {
         UNWIND $keys AS k
         MERGE (j:Journey {key: k})
         SET j:JourneyDirty, j.dirtyToken = $token,
             j.dirtySince = CASE WHEN j.dirtySince IS NULL OR j.dirtySince > $since THEN $since ELSE j.dirtySince END
       }
       CALL () {
         UNWIND $passes AS p MATCH (e:Event {id: p.id})
         UNWIND p.keys AS k MATCH (j:Journey {key: k})
         MERGE (j)-[:PASSED]->(e)
       }
       CALL () { ${RECORD_FIRINGS} }
       UNWIND $ids AS id MATCH (e:Event {id: id}) REMOVE e:JourneyPending`,
      { keys: [...keys], passes, ids: pending.map((p) => p.id), token: randomUUID(), since: neo4j.int(since), firings },
    );
    return pending.length;
  }

  /** The firings of event conditions for pending events (read with their bodies only when such conditions exist). */
  private async eventFirings(pending: ReadonlyArray<{ id: string; at: number }>): Promise<Array<Record<string, unknown>>> {
    const subs = (await this.watch?.())?.filter((s) => s.enabled && s.condition.on === 'event') ?? [];
    if (!subs.length) return [];
    const types = [...new Set(subs.map((s) => (s.condition.on === 'event' ? s.condition.type : '')))];
    const events = await this.graph.read<WatchedEvent & { at: number }>(
      `UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE e.type IN $types
       RETURN e.id AS id, e.type AS type, e.site AS site, e.time AS time, e.raw AS raw,
              coalesce(e.ingestedAt, datetime.realtime()).epochMillis AS at`,
      { ids: pending.map((p) => p.id), types },
    );
    const at = new Map(events.map((e) => [e.id, e.at]));
    const firings = eventFirings(subs, events);
    this.fired += firings.length;
    return firings.map((f) => firingParam(f, at.get(f.subject) ?? null));
  }

  /** Step 3: the oldest dirty journeys recomputed; how many. */
  async recompute(limit = 500): Promise<number> {
    const subs =
      (await this.watch?.())?.filter(
        (s) => s.enabled && (s.condition.on === 'stage' || s.condition.on === 'artifact' || s.condition.on === 'failure'),
      ) ?? [];
    // The record being replaced is read only when there are conditions to compare it with.
    const dirty = await this.graph.read<{
      key: string;
      token: string;
      basis: number;
      since: number | null;
      prev: Record<string, unknown> | null;
    }>(
      `MATCH (j:JourneyDirty) WITH j ORDER BY j.dirtySince LIMIT $limit
       RETURN j.key AS key, j.dirtyToken AS token, datetime.realtime().epochMillis AS basis, j.dirtySince AS since,
              CASE WHEN $prev AND j.evIds IS NOT NULL THEN j {${JOURNEY_RECORD}} END AS prev`,
      { limit: neo4j.int(limit), prev: subs.length > 0 },
    );
    if (!dirty.length) return 0;
    // Artifacts' other keys only when an artifact condition may need them.
    const aliases = subs.some((s) => s.condition.on === 'artifact') ? new Map<string, string[]>() : undefined;
    const records = await this.compute(
      dirty.map((d) => d.key),
      aliases,
    );
    const rows = dirty.map((d) => {
      const r = records.get(d.key);
      const firings: FiringRow[] = r && subs.length ? journeyFirings(subs, d.prev ? journeyFromProps(d.prev) : undefined, r, aliases) : [];
      this.fired += firings.length;
      return {
        key: d.key,
        token: d.token,
        basis: neo4j.int(d.basis),
        props: r ? journeyProps(r) : null,
        events: r?.events.map((e) => e.id) ?? [],
        firings: firings.map((f) => firingParam(f, d.since)),
      };
    });
    // A journey is written only by the newest computation (`basis`: when its facts were read), and its
    // mark cleared only when nobody marked it again since it was read. A commit that is gone (merged into
    // another by an alias) takes its journey with it.
    const gone = rows.filter((r) => r.props === null);
    if (gone.length) {
      await this.graph.write(`UNWIND $rows AS r MATCH (j:Journey {key: r.key}) WHERE coalesce(j.basis, -1) <= r.basis DETACH DELETE j`, {
        rows: gone,
      });
    }
    await this.graph.write(
      `UNWIND $rows AS r
       MATCH (j:Journey {key: r.key}) WHERE coalesce(j.basis, -1) <= r.basis
       SET j += r.props, j.basis = r.basis, j.updatedAt = datetime.realtime()
       WITH j, r
       CALL (j, r) {
         MATCH (j)-[p:PASSED]->(e:Event) WHERE NOT e.id IN r.events
         DELETE p
       }
       CALL (j, r) {
         UNWIND r.events AS id
         MATCH (e:Event {id: id})
         MERGE (j)-[:PASSED]->(e)
       }
       CALL (r) {
         WITH r.firings AS firings
         ${RECORD_FIRINGS.replace('$firings', 'firings')}
       }
       WITH j, r WHERE j.dirtyToken = r.token
       REMOVE j:JourneyDirty, j.dirtyToken, j.dirtySince`,
      { rows: rows.filter((r) => r.props !== null) },
    );
    return dirty.length;
  }

  /**
   * The journeys of the given commits, computed from the graph (what the model holds after step 3);
   * `aliases`, when given, gets each artifact's other keys (for subscriptions' artifact patterns).
   */
  async compute(keys: readonly string[], aliases?: Map<string, string[]>): Promise<Map<string, JourneyRecord>> {
    const commits = await this.graph.read<{ x: EntityRow }>(
      `UNWIND $keys AS k MATCH (c:Commit {key: k})
       RETURN {eid: elementId(c), label: 'Commit', key: c.key, props: properties(c)} AS x`,
      { keys },
    );
    const down = await this.walker.walkMany(
      commits.map(({ x }) => ({ origin: x.key, entities: [x] })),
      'down',
    );
    const ids = new Set<string>();
    const referencing: Array<{ o: string; eids: string[] }> = [];
    for (const [o, r] of down) {
      for (const id of r.events) ids.add(id);

      const eids = [...r.entities.values()].filter((x) => x.label === 'Commit' || x.label === 'Change').map((x) => x.eid);
      referencing.push({ o, eids });
    }
    const [events, workItems] = await Promise.all([
      this.eventTimes([...ids]),
      this.graph.read<{ o: string; keys: string[] }>(
        `UNWIND $rows AS r
         RETURN r.o AS o, COLLECT { UNWIND r.eids AS eid MATCH (c) WHERE elementId(c) = eid MATCH (c)-[:REFERENCES]->(w:WorkItem) RETURN DISTINCT w.key } AS keys`,
        { rows: referencing },
      ),
    ]);
    if (aliases) {
      // The walk's entities come without properties: an artifact's other keys are read here, at once.
      const keys = new Set<string>();
      for (const r of down.values()) for (const x of r.entities.values()) if (x.label === 'Artifact') keys.add(x.key);
      const rows = await this.graph.read<{ key: string; aliases: string[] | null }>(
        `UNWIND $keys AS k MATCH (a:Artifact {key: k}) RETURN a.key AS key, a.aliases AS aliases`,
        { keys: [...keys] },
      );
      for (const r of rows) if (r.aliases?.length) aliases.set(r.key, r.aliases);
    }
    const byId = new Map<string, JourneyEvent>(events.map((e) => [e.id, e]));
    const items = new Map(workItems.map((w) => [w.o, w.keys]));
    const out = new Map<string, JourneyRecord>();
    for (const { x } of commits) {
      const r = down.get(x.key)!;
      const evs = [...r.events].map((id) => byId.get(id)).filter((e): e is JourneyEvent => e !== undefined);
      const entities = [
        ...[...r.entities.values()].map((e) => ({ label: e.label, key: e.key })),
        ...(items.get(x.key) ?? []).map((key) => ({ label: 'WorkItem', key })),
      ];
      out.set(x.key, journeyOf(x, evs, entities, r.truncated));
    }
    return out;
  }

  /**
   * Recomputes every journey from the graph: journeys of commits that are gone are deleted, every
   * commit's journey is marked dirty and recomputed. Safe while correlators run.
   */
  async rebuild(progress?: (done: number, total: number) => void): Promise<number> {
    await this.graph.write(`MATCH (j:Journey) WHERE NOT EXISTS { MATCH (c:Commit {key: j.key}) } DETACH DELETE j`);
    const keys = (await this.graph.read<{ key: string }>(`MATCH (c:Commit) RETURN c.key AS key`)).map((r) => r.key);
    return this.rebuildOf(keys, progress);
  }

  /** Recomputes the journeys of the given commits as {@link rebuild} does (a part of the graph). */
  async rebuildOf(keys: readonly string[], progress?: (done: number, total: number) => void): Promise<number> {
    for (let i = 0; i < keys.length; i += 5000) {
      await this.graph.write(
        `UNWIND $keys AS k MERGE (j:Journey {key: k})
         SET j:JourneyDirty, j.dirtyToken = $token, j.dirtySince = coalesce(j.dirtySince, datetime.realtime().epochMillis)`,
        { keys: keys.slice(i, i + 5000), token: randomUUID() },
      );
    }
    return this.drain(500, (done) => progress?.(done, keys.length));
  }

  /**
   * Waits until the model holds every event the graph held when called (nothing pending or dirty
   * because of earlier writes), for at most `maxMs`; true when it does.
   */
  async settled(maxMs: number): Promise<boolean> {
    const deadline = Date.now() + maxMs;
    let now: number | undefined;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      const [r] = await this.graph.read<{ now: number; busy: boolean }>(
        `WITH coalesce($now, datetime.realtime().epochMillis) AS now
         RETURN now, EXISTS { MATCH (e:JourneyPending) WHERE e.ingestedAt IS NULL OR e.ingestedAt.epochMillis <= now }
                  OR EXISTS { MATCH (j:JourneyDirty) WHERE j.dirtySince <= now } AS busy`,
        { now: now === undefined ? null : neo4j.int(now) },
      );
      now = r!.now;
      if (!r!.busy) return true;
      if (Date.now() + delay > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** Journeys that first reached `stage` in [from, to), oldest first, at most `limit`. */
  async reachedIn(stage: JourneyStage, from: string, to: string, limit: number): Promise<JourneyPassages[]> {
    const p = stageProperty(stage, 'First');
    const rows = await this.graph.read<{ j: Record<string, unknown> }>(
      `MATCH (j:Journey) WHERE j.${p} >= $from AND j.${p} < $to
       WITH j ORDER BY j.${p}, j.key LIMIT $limit
       RETURN ${JOURNEY_PASSAGES} AS j`,
      { from: isoTime(from), to: isoTime(to), limit: neo4j.int(limit) },
    );
    return rows.map((r) => passagesFromProps(r.j));
  }

  /**
   * Journeys whose first commit is at or after `from` and that were written at or after `since`
   * (epoch ms; null: all of them), oldest write first, at most `limit`, with their passages: what
   * changed since a reader's last round. `cursor` is the last one's write time (the next round's `since`).
   */
  async changedSince(from: string, since: number | null, limit: number): Promise<{ journeys: JourneyPassages[]; cursor: number | null }> {
    const rows = await this.graph.read<{ j: Record<string, unknown>; at: number }>(since === null ? CHANGED_IN_WINDOW : CHANGED_SINCE, {
      from: isoTime(from),
      since: since === null ? null : neo4j.int(since),
      limit: neo4j.int(limit),
    });
    return { journeys: rows.map((r) => passagesFromProps(r.j)), cursor: rows.length ? Number(rows[rows.length - 1]!.at) : since };
  }

  /**
   * When the graph last changed in a way the journeys' readers see: the newest event taken in or journey
   * written (epoch ms; null on an empty graph). Two index-ordered reads of one row each, whatever the graph's size.
   */
  async lastChange(): Promise<number | null> {
    const rows = await this.graph.read<{ at: number | null }>(LAST_CHANGE);
    const at = rows[0]?.at;
    return at === null || at === undefined ? null : Number(at);
  }

  /**
   * Whether any event's own time lies in one of `spans` ([from, to), epoch ms): a reader that read a window
   * learns whether sliding it moved any event in or out, without reading it again.
   */
  async anyEventIn(spans: ReadonlyArray<{ from: number; to: number }>): Promise<boolean> {
    const open = spans.filter((s) => s.to > s.from).map((s) => ({ from: neo4j.int(s.from), to: neo4j.int(s.to) }));
    if (!open.length) return false;
    const rows = await this.graph.read<{ any: boolean }>(ANY_EVENT_IN, { spans: open });
    return rows.some((r) => r.any);
  }

  /**
   * One commit's journey as the model holds it, whether it is marked for recomputation, and its `basis`
   * (when the facts of the record were read: a new record has a new basis).
   */
  async byKey(key: string): Promise<{ journey: JourneyRecord; dirty: boolean; basis: number | null } | undefined> {
    const [row] = await this.graph.read<{ j: Record<string, unknown>; dirty: boolean; basis: number | null }>(
      `MATCH (j:Journey {key: $key}) RETURN j {${JOURNEY_RECORD}} AS j, j:JourneyDirty AS dirty, j.basis AS basis`,
      { key },
    );
    return row ? { journey: journeyFromProps(row.j), dirty: row.dirty, basis: row.basis === null ? null : Number(row.basis) } : undefined;
  }

  /**
   * What the model says of each given event: whether the journey step has taken it in yet (`settled`:
   * not pending, and none of its journeys waiting to be recomputed), the journeys it belongs to, their
   * work items and releases, and the stages it made them reach (it is the first of its stage in their
   * record). Events unknown to the graph are left out.
   */
  async news(ids: readonly string[]): Promise<Map<string, EventNews>> {
    const out = new Map<string, EventNews>();
    if (!ids.length) return out;
    const rows = await this.graph.read<{
      id: string;
      stage: string;
      pending: boolean;
      js: Array<{ key: string; dirty: boolean; workItems: string[] | null; releases: string[] | null; first: string | null }>;
    }>(
      `UNWIND $ids AS id MATCH (e:Event {id: id})
       RETURN id, e.stage AS stage, e:JourneyPending AS pending,
              [(j:Journey)-[:PASSED]->(e) | {key: j.key, dirty: j:JourneyDirty, workItems: j.workItems, releases: j.releases,
                first: [i IN range(0, size(coalesce(j.evIds, [])) - 1) WHERE j.evStages[i] = e.stage | j.evIds[i]][0]}] AS js`,
      { ids },
    );
    for (const r of rows) {
      const js = [...r.js].sort((a, b) => (a.key < b.key ? -1 : 1));
      out.set(r.id, {
        settled: !r.pending && js.every((j) => !j.dirty),
        commits: js.map((j) => j.key),
        workItems: [...new Set(js.flatMap((j) => j.workItems ?? []))].sort(),
        releases: [...new Set(js.flatMap((j) => j.releases ?? []))].sort(),
        reached: (JOURNEY_ORDER as readonly string[]).includes(r.stage)
          ? js.filter((j) => j.first === r.id).map((j) => ({ commit: j.key, stage: r.stage }))
          : [],
      });
    }
    return out;
  }

  /**
   * What passed each of the given events: the repositories of the journeys, and whether one of them
   * reached an artifact of `named` (an incident names it). Summed up in the store: a release of ten
   * thousand commits answers with one row.
   */
  async passing(ids: readonly string[], named: readonly string[]): Promise<Map<string, { repositories: string[]; named: boolean }>> {
    const out = new Map<string, { repositories: string[]; named: boolean }>();
    if (!ids.length) return out;
    const rows = await this.graph.read<{ id: string; repositories: string[]; named: boolean }>(
      `UNWIND $ids AS id MATCH (e:Event {id: id})
       OPTIONAL MATCH (j:Journey)-[:PASSED]->(e)
       WITH id, collect(DISTINCT j.repository) AS repositories, collect(j) AS js
       RETURN id, repositories,
              CASE WHEN size($named) = 0 THEN false ELSE any(x IN js WHERE any(a IN coalesce(x.artifacts, []) WHERE a IN $named)) END AS named`,
      { ids, named },
    );
    for (const r of rows) out.set(r.id, { repositories: r.repositories, named: r.named });
    return out;
  }

  /** Only when and where events happened, and how they ended (a journey needs no more, for tens of thousands). */
  private async eventTimes(ids: readonly string[]): Promise<EventRow[]> {
    const out: EventRow[] = [];
    // In slices, so a lead-time query over many changes never needs one huge transaction.
    for (let i = 0; i < ids.length; i += 20_000) {
      const rows = await this.graph.read<{ e: EventRow }>(
        `UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder
         RETURN {id: e.id, type: e.type, stage: e.stage, phase: e.phase, outcome: e.outcome, time: toString(e.time),
                 site: e.site, source: e.source, format: e.format, props: {}} AS e`,
        { ids: ids.slice(i, i + 20_000) },
      );
      for (const r of rows) out.push(normalizeEvent(r.e));
    }
    return out;
  }
}

/** What the journey model says of one event ({@link Journeys.news}). */
export interface EventNews {
  readonly settled: boolean;
  /** The commits (journeys) it belongs to. */
  readonly commits: string[];
  readonly workItems: string[];
  readonly releases: string[];
  /** The journeys it took to a stage for the first time: it is the first event of its stage in their record. */
  readonly reached: Array<{ commit: string; stage: string }>;
}

/** A firing as a query parameter, with when its cause arrived (for the evaluation latency). */
function firingParam(f: FiringRow, causeAt: number | null): Record<string, unknown> {
  return { ...f, causeAt: causeAt === null ? null : neo4j.int(causeAt) };
}
