import { Injectable } from '@nestjs/common';
import neo4j from 'neo4j-driver';
import { GraphRepository } from './graph.repository.js';
import { cypherIdent } from './graph.schema.js';
import { ENTITY_FIELDS, type EntityRow } from './read-rows.js';
import { followedRelations, type Direction } from './walk.js';

/**
 * The walk's reads ({@link GraphWalker} in walk.ts holds the walk and the rules of what it follows):
 * a step at a time, so that every step is an index seek (event id, element id) whatever the size of
 * the graph, or a closure over links in one round trip.
 */

/** A walk position tagged with the origin it belongs to, so many walks share one round trip. */
export interface Tagged {
  readonly o: string;
  readonly id: string;
}

/** An event reached by {@link WalkReads.closure}, with what it is about. */
export interface ClosureRow {
  readonly o: string;
  readonly id: string;
  readonly xs: EntityRow[];
}

/** Items per row of {@link WalkReads.reach}'s answer. */
const REACH_CHUNK = 1000;

/** What {@link WalkReads.reach} finds for one walk. */
export interface ReachResult {
  /** Ids of the events reached over links. */
  readonly events: string[];
  /** The entities those events are about, without their properties. */
  readonly entities: EntityRow[];
  /** Element ids of those entities with events about them that are not among `events`. */
  readonly more: string[];
  /** Entities related to `entities` in the walk's direction, with their properties when asked for. */
  readonly neighbours: EntityRow[];
  /** Related entities with nothing beyond them: no relations in the walk's direction, no events to expand. */
  readonly leaves: EntityRow[];
}

/** A walk step's result: an event id (`id`) or an entity (`x`), for origin `o`. */
export interface StepRow {
  readonly o: string;
  readonly id: string | null;
  readonly x: EntityRow | null;
}

/** An entity without its properties, for walks that only need to know it was met. */
const ENTITY_REF = (v: string): string =>
  `{eid: elementId(${v}), label: [l IN labels(${v}) WHERE l <> 'Placeholder'][0], key: ${v}.key, props: {}}`;

/** Tagged rows grouped by what they point at: `{id, os}` with every origin that reached `id`. */
function byTarget(rows: readonly Tagged[]): Array<{ id: string; os: string[] }> {
  const by = new Map<string, Set<string>>();
  for (const r of rows) {
    const os = by.get(r.id);
    if (os) os.add(r.o);
    else by.set(r.id, new Set([r.o]));
  }
  return [...by].map(([id, os]) => ({ id, os: [...os] }));
}

/** True when every row has the same origin (a trace, a release): the plain queries are cheaper then. */
function oneOrigin(rows: readonly Tagged[]): boolean {
  return rows.every((r) => r.o === rows[0]!.o);
}

/** Back to one tagged row per origin, without repeats. */
function untag(rows: ReadonlyArray<{ os: readonly string[]; id: string }>): Tagged[] {
  const seen = new Set<string>();
  const out: Tagged[] = [];
  for (const r of rows) {
    for (const o of r.os) {
      const k = `${o}\u0000${r.id}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ o, id: r.id });
    }
  }
  return out;
}

@Injectable()
export class WalkReads {
  constructor(private readonly graph: GraphRepository) {}

  /** Events about the given entities (tagged by origin). */
  async eventsAbout(rows: readonly Tagged[], known: readonly string[] = []): Promise<Tagged[]> {
    if (!rows.length) return [];
    // `known`: event ids the caller has already (for every origin in `rows`), left out in the database.
    if (oneOrigin(rows)) {
      return this.graph.read<Tagged>(
        `UNWIND $rows AS r MATCH (x) WHERE elementId(x) = r.id
         MATCH (x)<-[:ABOUT]-(e:Event) WHERE NOT e.id IN $known RETURN DISTINCT r.o AS o, e.id AS id`,
        { rows, known },
      );
    }
    // Many origins: each entity is read once, however many of them reached it.
    const found = await this.graph.read<{ os: string[]; ids: string[] }>(
      `UNWIND $rows AS r MATCH (x) WHERE elementId(x) = r.id
       RETURN r.os AS os, [(x)<-[:ABOUT]-(e:Event) WHERE NOT e.id IN $known | e.id] AS ids`,
      { rows: byTarget(rows), known },
    );
    return untag(found.flatMap((f) => f.ids.map((id) => ({ os: f.os, id }))));
  }

  /**
   * One step of a walk over both layers in a single round trip: from the entity frontier, related
   * entities and (for `expand`) the events about them; from the event frontier, linked events
   * (not through `skip` link types); from `describe`, the entities (of `collect` labels) those events are about.
   */
  async step(
    frontier: { entities: readonly Tagged[]; expand: readonly Tagged[]; events: readonly Tagged[]; describe: readonly Tagged[] },
    direction: Direction,
    skip: readonly string[],
    collect: readonly string[],
    merges = true,
  ): Promise<StepRow[]> {
    if (!frontier.entities.length && !frontier.expand.length && !frontier.events.length && !frontier.describe.length) return [];
    const { into, out } = followedRelations(direction, merges);
    const linked = direction === 'down' ? '(x)<-[l]-(d:Event)' : '(x)-[l]->(d:Event)';
    // Each entity is stepped from once, however many origins reached it (walks from many events of one
    // change meet the same commit, build and artifact): rows carry every origin that asked (`os`).
    const rows = await this.graph.read<{ os: string[]; id: string | null; x: EntityRow | null }>(
      `CALL () {
         UNWIND $entities AS r MATCH (x) WHERE elementId(x) = r.id
         CALL (x) { MATCH (x)<-[:${into}]-(y) RETURN y UNION MATCH (x)-[:${out}]->(y) RETURN y }
         RETURN r.os AS os, null AS id, y AS n
         UNION
         UNWIND $describe AS r MATCH (e:Event {id: r.id})-[:ABOUT]->(y) WHERE any(lb IN labels(y) WHERE lb IN $collect)
         RETURN r.os AS os, null AS id, y AS n
         UNION
         UNWIND $expand AS r MATCH (x) WHERE elementId(x) = r.id MATCH (x)<-[:ABOUT]-(d:Event)
         RETURN r.os AS os, d.id AS id, null AS n
         UNION
         UNWIND $events AS r MATCH (x:Event {id: r.id}) MATCH ${linked} WHERE NOT type(l) IN $skip AND NOT d:Placeholder
         RETURN r.os AS os, d.id AS id, null AS n
       }
       RETURN os, id, CASE WHEN n IS NULL THEN null ELSE ${ENTITY_FIELDS('n')} END AS x`,
      {
        entities: byTarget(frontier.entities),
        expand: byTarget(frontier.expand),
        events: byTarget(frontier.events),
        describe: byTarget(frontier.describe),
        skip,
        collect,
      },
    );
    const outRows: StepRow[] = [];
    for (const r of rows) for (const o of r.os) outRows.push({ o, id: r.id, x: r.x });
    return outRows;
  }

  /**
   * Every event reachable over links from each frontier event, in one round trip (a breadth-first
   * search per origin, up to 30 links deep, not through `skip` link types), each with the entities
   * (of `collect` labels) it is about, without their properties.
   */
  async closure(rows: readonly Tagged[], direction: Direction, skip: readonly string[], collect: readonly string[]): Promise<ClosureRow[]> {
    if (!rows.length) return [];
    // A pruned breadth-first expansion from each start (each event once per start, whatever the number of
    // paths), over links only: the other relationships that touch an event are ABOUT (to an entity) and
    // PASSED (from a journey). Cheaper than a shortest-path search per reached event, with the same answer.
    const linked =
      direction === 'down'
        ? `(x)<-[ls*1..30]-(d:Event) WHERE all(l IN ls WHERE NOT type(l) IN ['ABOUT', 'PASSED'] AND NOT type(l) IN $skip)`
        : `(x)-[ls*1..30]->(d:Event) WHERE all(l IN ls WHERE NOT type(l) IN ['ABOUT', 'PASSED'] AND NOT type(l) IN $skip)`;
    if (oneOrigin(rows)) {
      return this.graph.read<ClosureRow>(
        `UNWIND $rows AS r MATCH (x:Event {id: r.id})
         MATCH ${linked} AND NOT d:Placeholder
         WITH DISTINCT r.o AS o, d
         RETURN o, d.id AS id, [(d)-[:ABOUT]->(y) WHERE any(lb IN labels(y) WHERE lb IN $collect) | ${ENTITY_REF('y')}] AS xs`,
        { rows, skip, collect },
      );
    }
    // Many origins: one search per distinct event, however many origins share it (walks from many
    // deployments meet the same shared history), and each reached event described once.
    const found = await this.graph.read<{ oss: string[][]; id: string; xs: EntityRow[] }>(
      `UNWIND $rows AS r MATCH (x:Event {id: r.id})
       MATCH ${linked} AND NOT d:Placeholder
       WITH DISTINCT r, d
       WITH d, collect(r.os) AS oss
       RETURN oss, d.id AS id, [(d)-[:ABOUT]->(y) WHERE any(lb IN labels(y) WHERE lb IN $collect) | ${ENTITY_REF('y')}] AS xs`,
      { rows: byTarget(rows), skip, collect },
    );
    const out: ClosureRow[] = [];
    for (const f of found) for (const o of new Set(f.oss.flat())) out.push({ o, id: f.id, xs: f.xs });
    return out;
  }

  /**
   * A closure for one walk, with the next step of the entities it reaches done in the same round
   * trip: every event reachable over links from `ids` (breadth first, each event once, up to 30
   * links deep, not through `skip` link types), the entities of `collect` labels those events are
   * about, the entities related to those (the direction's relations), and which of them (of
   * `expand` labels) have events about them beyond the ones reached. Lists rather than rows: a
   * release reaches tens of thousands of events, and one row per event costs more to move than
   * to find.
   */
  async reach(
    ids: readonly string[],
    direction: Direction,
    labels: { skip: readonly string[]; collect: readonly string[]; expand: readonly string[] },
    props = true,
    merges = true,
  ): Promise<ReachResult> {
    const found: ReachResult = { events: [], entities: [], more: [], neighbours: [], leaves: [] };
    if (!ids.length) return found;
    const { into, out } = followedRelations(direction, merges);
    // Pruned breadth-first expansion: each node once per start, whatever the number of paths.
    // Links only: ABOUT (event to entity) is the one relationship out of an event that is not a link.
    const linked = direction === 'down' ? '(x)<-[ls*1..30]-(d:Event)' : '(x)-[ls*1..30]->(d:Event)';
    const label = (v: string): string => `[l IN labels(${v}) WHERE l <> 'Placeholder'][0]`;
    // Label expressions from the caller's fixed lists (checked identifiers): cheaper than comparing label lists.
    const collect = labels.collect.map(cypherIdent).join('|');
    const expand = labels.expand.map(cypherIdent).join('|');
    const rows = await this.graph.read<{ kind: keyof ReachResult; items: unknown[] }>(
      `UNWIND $ids AS id MATCH (x:Event {id: id})
       MATCH ${linked} WHERE all(l IN ls WHERE type(l) <> 'ABOUT' AND NOT type(l) IN $skip) AND NOT d:Placeholder
       WITH collect(DISTINCT d) AS ds
       CALL (ds) {
         UNWIND ds AS d MATCH (d)-[:ABOUT]->(y:${collect})
         WITH y, count(*) AS seen
         RETURN collect(y) AS ys, collect(CASE WHEN y:${expand} AND COUNT { (y)<-[:ABOUT]-() } > seen THEN elementId(y) END) AS more
       }
       CALL (ys) { UNWIND ys AS y MATCH (y)<-[:${into}]-(n) RETURN collect(DISTINCT n) AS n1 }
       CALL (ys) { UNWIND ys AS y MATCH (y)-[:${out}]->(n) RETURN collect(DISTINCT n) AS n2 }
       WITH ds, ys, more, n1 + n2 AS ns
       CALL (ds, ys, more, ns) {
         UNWIND range(0, size(ds) - 1, $chunk) AS i RETURN 'events' AS kind, [d IN ds[i..i + $chunk] | d.id] AS items
         UNION ALL
         UNWIND range(0, size(ys) - 1, $chunk) AS i RETURN 'entities' AS kind, [y IN ys[i..i + $chunk] | [elementId(y), ${label('y')}, y.key]] AS items
         UNION ALL
         UNWIND range(0, size(more) - 1, $chunk) AS i RETURN 'more' AS kind, more[i..i + $chunk] AS items
         UNION ALL
         UNWIND range(0, size(ns) - 1, $chunk) AS i
         RETURN 'neighbours' AS kind,
                [n IN ns[i..i + $chunk] | [elementId(n), ${label('n')}, n.key, CASE WHEN $props THEN properties(n) END,
                  EXISTS { (n)<-[:${into}]-() } OR EXISTS { (n)-[:${out}]->() } OR (n:${expand} AND EXISTS { (n)<-[:ABOUT]-() })]] AS items
       }
       RETURN kind, items`,
      { ids, skip: labels.skip, props, chunk: neo4j.int(REACH_CHUNK) },
    );
    // Rows of up to REACH_CHUNK items, entities as [eid, label, key, props] lists: the driver reads
    // those several times faster than one huge row or a map per entity.
    type Packed = [string, string, string, Record<string, unknown> | null, boolean?];
    const entity = ([eid, label, key, p]: Packed): EntityRow => ({ eid, label, key, props: p ?? {} });
    for (const r of rows) {
      if (r.kind === 'events') found.events.push(...(r.items as string[]));
      else if (r.kind === 'more') found.more.push(...(r.items as string[]));
      else if (r.kind === 'entities') found.entities.push(...(r.items as Packed[]).map(entity));
      // A neighbour with no relations to follow and no events to read has nothing beyond it (a work item).
      else for (const n of r.items as Packed[]) (n[4] ? found.neighbours : found.leaves).push(entity(n));
    }
    return found;
  }
}
