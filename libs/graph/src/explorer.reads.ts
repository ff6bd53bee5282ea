import { Injectable } from '@nestjs/common';
import neo4j from 'neo4j-driver';
import { GraphRepository } from './graph.repository.js';
import { ALIASED_LABELS, aliasId } from './entity-keys.js';
import { cypherIdent } from './graph.schema.js';

/**
 * The explorer's reads: fixed query texts, parameters only. Walks are done a
 * step at a time so that every step is an index seek (event id, element id),
 * whatever the size of the graph; the rules of what to follow live in the
 * explorer's services.
 */

/** An event node as the explorer reads it; `time` is ISO-8601 UTC. */
export interface EventRow {
  readonly id: string;
  readonly type: string;
  readonly stage: string;
  readonly phase: string | null;
  readonly outcome: string | null;
  readonly time: string;
  readonly site: string;
  readonly source: string;
  readonly format: string;
  readonly props: Record<string, unknown>;
}

export interface EntityRow {
  /** The node's element id: later steps seek it directly. */
  readonly eid: string;
  readonly label: string;
  readonly key: string;
  readonly props: Record<string, unknown>;
}

export interface LinkRow {
  readonly from: string;
  readonly type: string;
  readonly to: string;
}

export interface AboutRow {
  readonly event: string;
  readonly role: string;
  readonly entity: EntityRow;
}

export interface RelationRow {
  readonly from: string;
  readonly type: string;
  readonly to: string;
}

/** A walk position tagged with the origin it belongs to, so many walks share one round trip. */
export interface Tagged {
  readonly o: string;
  readonly id: string;
}

export type Direction = 'down' | 'up';

/** An event reached by {@link ExplorerReads.closure}, with what it is about. */
export interface ClosureRow {
  readonly o: string;
  readonly id: string;
  readonly xs: EntityRow[];
}

/** Items per row of {@link ExplorerReads.reach}'s answer. */
const REACH_CHUNK = 1000;

/** What {@link ExplorerReads.reach} finds for one walk. */
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

const EVENT_FIELDS = `{id: e.id, type: e.type, stage: e.stage, phase: e.phase, outcome: e.outcome, time: toString(e.time),
  site: e.site, source: e.source, format: e.format, props: properties(e)}`;
const ENTITY_FIELDS = (v: string): string =>
  `{eid: elementId(${v}), label: [l IN labels(${v}) WHERE l <> 'Placeholder'][0], key: ${v}.key, props: properties(${v})}`;

/** An entity without its properties, for walks that only need to know it was met. */
const ENTITY_REF = (v: string): string =>
  `{eid: elementId(${v}), label: [l IN labels(${v}) WHERE l <> 'Placeholder'][0], key: ${v}.key, props: {}}`;

/**
 * Entity relations followed downstream (from what a thing is to what was made of it), by direction in
 * the graph. `MERGED_AS` (change -> the commit it landed as) carries a commit on a feature branch on to
 * its merge commit's builds: from the branch commit through the change that includes it.
 */
const DOWN_IN = 'INCLUDES|BUILT|TESTED|CONTAINS';
const DOWN_OUT = 'PRODUCED|DEPLOYED_TO|MERGED_AS';
/** ... and upstream (from a thing to what it was made of and why; from a merge commit to its change). */
const UP_OUT = 'INCLUDES|BUILT|CONTAINS|REFERENCES';
const UP_IN = 'PRODUCED|MERGED_AS';

/** The relation types a walk follows into and out of an entity; without `merges`, a change does not lead to its merge commit. */
function relationsOf(direction: Direction, merges: boolean): [into: string, out: string] {
  const [into, out] = direction === 'down' ? [DOWN_IN, DOWN_OUT] : [UP_IN, UP_OUT];
  const drop = (types: string): string =>
    merges
      ? types
      : types
          .split('|')
          .filter((t) => t !== 'MERGED_AS')
          .join('|');
  return [drop(into), drop(out)];
}

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
export class ExplorerReads {
  constructor(private readonly graph: GraphRepository) {}

  /** Commits whose sha starts with `prefix` (or equals it), optionally in one repository. */
  async commitsBySha(prefix: string, repository: string | undefined, limit: number): Promise<EntityRow[]> {
    const rows = await this.graph.read<{ x: EntityRow }>(
      `MATCH (c:Commit) WHERE c.sha STARTS WITH $prefix AND ($repository IS NULL OR c.repository = $repository)
       RETURN ${ENTITY_FIELDS('c')} AS x ORDER BY c.key LIMIT $limit`,
      { prefix, repository: repository ?? null, limit: neo4j.int(limit) },
    );
    return rows.map((r) => r.x);
  }

  /**
   * An entity by its key, else by one of its aliases: through the alias nodes' index for labels
   * that have them; other labels' alias lists are searched only when no key matched.
   */
  async entity(label: EntityLabelName, key: string): Promise<EntityRow[]> {
    const byAlias = ALIASED_LABELS.has(label)
      ? `MATCH (:Alias {id: $alias})-[:ALIAS_OF]->(x:${label}) RETURN x`
      : `MATCH (x:${label}) WHERE $key IN x.aliases RETURN x`;
    const rows = await this.graph.read<{ x: EntityRow }>(
      `OPTIONAL MATCH (k:${label} {key: $key})
       CALL (k) { WITH k WHERE k IS NOT NULL RETURN k AS x UNION WITH k WHERE k IS NULL ${byAlias} }
       RETURN ${ENTITY_FIELDS('x')} AS x LIMIT 20`,
      { key, alias: aliasId(label, key) },
    );
    return rows.map((r) => r.x);
  }

  /** Artifacts whose key or alias ends with `suffix` after an algorithm or scheme (e.g. a bare hex digest). */
  async artifactsLike(value: string): Promise<EntityRow[]> {
    const rows = await this.graph.read<{ x: EntityRow }>(
      `MATCH (x:Artifact) WHERE x.key ENDS WITH $value OR any(a IN coalesce(x.aliases, []) WHERE a ENDS WITH $value OR a = $value)
       RETURN ${ENTITY_FIELDS('x')} AS x LIMIT 20`,
      { value },
    );
    return rows.map((r) => r.x);
  }

  /** Releases of a product, newest key first (for hints). */
  async releasesOf(product: string): Promise<string[]> {
    const rows = await this.graph.read<{ version: string }>(
      `MATCH (r:Release) WHERE r.product = $product RETURN r.version AS version ORDER BY version DESC LIMIT 20`,
      { product },
    );
    return rows.map((r) => r.version);
  }

  /** Commits and changes that reference a work item. */
  async referencing(workItemEid: string): Promise<EntityRow[]> {
    const rows = await this.graph.read<{ x: EntityRow }>(
      `MATCH (w) WHERE elementId(w) = $eid MATCH (x)-[:REFERENCES]->(w) RETURN ${ENTITY_FIELDS('x')} AS x`,
      { eid: workItemEid },
    );
    return rows.map((r) => r.x);
  }

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

  /** Entities the given events are about, limited to the labels given. */
  async aboutEntities(rows: readonly Tagged[], labels: readonly string[]): Promise<Array<{ o: string; x: EntityRow }>> {
    if (!rows.length) return [];
    return this.graph.read<{ o: string; x: EntityRow }>(
      `UNWIND $rows AS r MATCH (e:Event {id: r.id})-[:ABOUT]->(x) WHERE any(l IN labels(x) WHERE l IN $labels)
       RETURN DISTINCT r.o AS o, ${ENTITY_FIELDS('x')} AS x`,
      { rows, labels },
    );
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
    const [into, out] = relationsOf(direction, merges);
    const linked = direction === 'down' ? '(x)<-[l]-(d:Event)' : '(x)-[l]->(d:Event)';
    return this.graph.read<StepRow>(
      `CALL () {
         UNWIND $entities AS r MATCH (x) WHERE elementId(x) = r.id
         CALL (x) { MATCH (x)<-[:${into}]-(y) RETURN y UNION MATCH (x)-[:${out}]->(y) RETURN y }
         RETURN r.o AS o, null AS id, y AS n
         UNION
         UNWIND $describe AS r MATCH (e:Event {id: r.id})-[:ABOUT]->(y) WHERE any(lb IN labels(y) WHERE lb IN $collect)
         RETURN r.o AS o, null AS id, y AS n
         UNION
         UNWIND $expand AS r MATCH (x) WHERE elementId(x) = r.id MATCH (x)<-[:ABOUT]-(d:Event)
         RETURN r.o AS o, d.id AS id, null AS n
         UNION
         UNWIND $events AS r MATCH (x:Event {id: r.id}) MATCH ${linked} WHERE NOT type(l) IN $skip AND NOT d:Placeholder
         RETURN r.o AS o, d.id AS id, null AS n
       }
       RETURN o, id, CASE WHEN n IS NULL THEN null ELSE ${ENTITY_FIELDS('n')} END AS x`,
      { entities: frontier.entities, expand: frontier.expand, events: frontier.events, describe: frontier.describe, skip, collect },
    );
  }

  /**
   * Every event reachable over links from each frontier event, in one round trip (a breadth-first
   * search per origin, up to 30 links deep, not through `skip` link types), each with the entities
   * (of `collect` labels) it is about, without their properties.
   */
  async closure(rows: readonly Tagged[], direction: Direction, skip: readonly string[], collect: readonly string[]): Promise<ClosureRow[]> {
    if (!rows.length) return [];
    const hop = direction === 'down' ? '()<-[l WHERE NOT type(l) IN $skip]-(:Event)' : '()-[l WHERE NOT type(l) IN $skip]->(:Event)';
    if (oneOrigin(rows)) {
      return this.graph.read<ClosureRow>(
        `UNWIND $rows AS r MATCH (x:Event {id: r.id})
         MATCH ANY SHORTEST (x)(${hop}){1,30}(d:Event) WHERE NOT d:Placeholder
         WITH DISTINCT r.o AS o, d
         RETURN o, d.id AS id, [(d)-[:ABOUT]->(y) WHERE any(lb IN labels(y) WHERE lb IN $collect) | ${ENTITY_REF('y')}] AS xs`,
        { rows, skip, collect },
      );
    }
    // Many origins: one search per distinct event, however many origins share it (walks from many
    // deployments meet the same shared history), and each reached event described once.
    const found = await this.graph.read<{ oss: string[][]; id: string; xs: EntityRow[] }>(
      `UNWIND $rows AS r MATCH (x:Event {id: r.id})
       MATCH ANY SHORTEST (x)(${hop}){1,30}(d:Event) WHERE NOT d:Placeholder
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
    const [into, out] = relationsOf(direction, merges);
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

  /** One step of the event layer for given link types (Eiffel search); `null` types means every type. */
  async eventStepTyped(ids: readonly string[], direction: Direction, types: readonly string[] | null): Promise<LinkRow[]> {
    if (!ids.length) return [];
    const pattern = direction === 'down' ? '(x)<-[l]-(d:Event)' : '(x)-[l]->(d:Event)';
    return this.graph.read<LinkRow>(
      `UNWIND $ids AS id MATCH (x:Event {id: id}) MATCH ${pattern}
       WHERE ($types IS NULL OR type(l) IN $types) AND NOT d:Placeholder
       RETURN DISTINCT startNode(l).id AS from, type(l) AS type, endNode(l).id AS to`,
      { ids, types },
    );
  }

  async events(ids: readonly string[]): Promise<EventRow[]> {
    if (!ids.length) return [];
    const rows = await this.graph.read<{ e: EventRow }>(
      `UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder RETURN ${EVENT_FIELDS} AS e`,
      { ids },
    );
    return rows.map((r) => normalizeEvent(r.e));
  }

  /** Only when and where events happened, and how they ended (lead time needs no more, for tens of thousands). */
  async eventTimes(ids: readonly string[]): Promise<EventRow[]> {
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

  /** Events with their outgoing links and what they are about, in one round trip. */
  async details(ids: readonly string[]): Promise<{ events: EventRow[]; links: LinkRow[]; about: AboutRow[] }> {
    if (!ids.length) return { events: [], links: [], about: [] };
    const rows = await this.graph.read<{
      e: EventRow;
      links: Array<{ type: string; to: string }>;
      about: Array<{ role: string; entity: EntityRow }>;
    }>(
      `UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder
       RETURN ${EVENT_FIELDS} AS e,
              [(e)-[l]->(t:Event) | {type: type(l), to: t.id}] AS links,
              [(e)-[a:ABOUT]->(x) | {role: a.role, entity: ${ENTITY_FIELDS('x')}}] AS about`,
      { ids },
    );
    return {
      events: rows.map((r) => normalizeEvent(r.e)),
      links: rows.flatMap((r) => r.links.map((l) => ({ from: r.e.id, type: l.type, to: l.to }))),
      about: rows.flatMap((r) => r.about.map((a) => ({ event: r.e.id, role: a.role, entity: a.entity }))),
    };
  }

  /** The links among and out of the given events (targets may lie outside the set). */
  async linksOf(ids: readonly string[]): Promise<LinkRow[]> {
    if (!ids.length) return [];
    return this.graph.read<LinkRow>(
      `UNWIND $ids AS id MATCH (e:Event {id: id})-[l]->(t:Event) RETURN e.id AS from, type(l) AS type, t.id AS to`,
      { ids },
    );
  }

  /** What each event is about. */
  async aboutOf(ids: readonly string[]): Promise<AboutRow[]> {
    if (!ids.length) return [];
    return this.graph.read<AboutRow>(
      `UNWIND $ids AS id MATCH (e:Event {id: id})-[a:ABOUT]->(x) RETURN e.id AS event, a.role AS role, ${ENTITY_FIELDS('x')} AS entity`,
      { ids },
    );
  }

  /** Relations among a set of entities (by element id). */
  async relationsAmong(eids: readonly string[]): Promise<RelationRow[]> {
    if (!eids.length) return [];
    return this.graph.read<RelationRow>(
      `UNWIND $eids AS eid MATCH (a) WHERE elementId(a) = eid MATCH (a)-[r]->(b) WHERE elementId(b) IN $eids AND type(r) <> 'ABOUT'
       RETURN a.key AS from, type(r) AS type, b.key AS to`,
      { eids },
    );
  }

  /** The commits the given changes (element ids) were merged as: `{change, commit}` keys. */
  async mergesOf(changeEids: readonly string[]): Promise<Array<{ change: string; commit: string }>> {
    if (!changeEids.length) return [];
    return this.graph.read<{ change: string; commit: string }>(
      `UNWIND $eids AS eid MATCH (c:Change) WHERE elementId(c) = eid MATCH (c)-[:MERGED_AS]->(m:Commit)
       RETURN c.key AS change, m.key AS commit ORDER BY change, commit`,
      { eids: changeEids },
    );
  }

  /** The commits a change includes. */
  async changeCommits(changeEid: string): Promise<EntityRow[]> {
    const rows = await this.graph.read<{ x: EntityRow }>(
      `MATCH (c) WHERE elementId(c) = $eid MATCH (c)-[:INCLUDES]->(x:Commit) RETURN ${ENTITY_FIELDS('x')} AS x`,
      { eid: changeEid },
    );
    return rows.map((r) => r.x);
  }

  /** Work items referenced by the given commits or changes (element ids). */
  async workItemsOf(eids: readonly string[]): Promise<EntityRow[]> {
    if (!eids.length) return [];
    const rows = await this.graph.read<{ x: EntityRow }>(
      `UNWIND $eids AS eid MATCH (c) WHERE elementId(c) = eid MATCH (c)-[:REFERENCES]->(w:WorkItem) RETURN DISTINCT ${ENTITY_FIELDS('w')} AS x`,
      { eids },
    );
    return rows.map((r) => r.x);
  }

  /** Events of one stage in a time window (uses the stage and time indexes). */
  async eventsInWindow(stage: string, from: string, to: string, limit: number): Promise<EventRow[]> {
    const rows = await this.graph.read<{ e: EventRow }>(
      `MATCH (e:Event) WHERE e.time >= datetime($from) AND e.time < datetime($to) AND e.stage = $stage
       RETURN ${EVENT_FIELDS} AS e ORDER BY e.time LIMIT $limit`,
      { stage, from, to, limit: neo4j.int(limit) },
    );
    return rows.map((r) => normalizeEvent(r.e));
  }

  /**
   * Incident events (CDEvents `incident.*`) in the window, oldest first, each with
   * its incident (subject source and id), its predicate, the artifacts it names, and the service
   * and environment it names.
   */
  async incidentEventsInWindow(from: string, to: string, limit: number): Promise<IncidentEventRow[]> {
    return this.graph.read<IncidentEventRow>(
      `MATCH (e:Event) WHERE e.stage = 'other' AND e.time >= datetime($from) AND e.time < datetime($to)
         AND e.type STARTS WITH 'dev.cdevents.incident.' AND NOT e:Placeholder
       WITH e ORDER BY e.time LIMIT $limit
       RETURN e.id AS id, coalesce(e.subjectSource, e.source) + '|' + e.subjectId AS incident,
              split(e.type, '.')[3] AS predicate, toString(e.time) AS time,
              [(e)-[:ABOUT]->(a:Artifact) | a.key] AS artifacts, e.service AS service,
              [(e)-[:ABOUT]->(x:Environment) | x.key] AS environments`,
      { from, to, limit: neo4j.int(limit) },
    );
  }

  /** Events by type with paging (Eiffel `GET /events`), newest first. */
  async eventsPage(filter: EventFilter, skip: number, limit: number): Promise<{ total: number; items: EventRow[] }> {
    const where = `WHERE NOT e:Placeholder AND ($type IS NULL OR e.type = $type) AND ($site IS NULL OR e.site = $site)
      AND ($stage IS NULL OR e.stage = $stage) AND ($from IS NULL OR e.time >= datetime($from)) AND ($to IS NULL OR e.time < datetime($to))`;
    const params = {
      type: filter.type ?? null,
      site: filter.site ?? null,
      stage: filter.stage ?? null,
      from: filter.from ?? null,
      to: filter.to ?? null,
    };
    const [count] = await this.graph.read<{ n: number }>(`MATCH (e:Event) ${where} RETURN count(e) AS n`, params);
    const rows = await this.graph.read<{ e: EventRow }>(
      `MATCH (e:Event) ${where} RETURN ${EVENT_FIELDS} AS e ORDER BY e.time DESC, e.id SKIP $skip LIMIT $limit`,
      { ...params, skip: neo4j.int(skip), limit: neo4j.int(limit) },
    );
    return { total: count?.n ?? 0, items: rows.map((r) => normalizeEvent(r.e)) };
  }

  /**
   * Ids of the newest events written in the last `seconds` by the graph store's own clock
   * (`ingestedAt`, set by the correlator when an event first arrives), newest first.
   */
  async idsIngestedWithin(seconds: number, limit: number): Promise<string[]> {
    const rows = await this.graph.read<{ id: string }>(
      `MATCH (e:Event) WHERE e.ingestedAt >= datetime.realtime() - duration({seconds: $seconds}) AND NOT e:Placeholder
       RETURN e.id AS id ORDER BY e.ingestedAt DESC LIMIT $limit`,
      { seconds: neo4j.int(seconds), limit: neo4j.int(limit) },
    );
    return rows.map((r) => r.id);
  }
}

export interface IncidentEventRow {
  readonly id: string;
  /** `<subject source>|<subject id>`: the same for every event of one incident. */
  readonly incident: string;
  /** detected, reported or resolved */
  readonly predicate: string;
  readonly time: string;
  readonly artifacts: string[];
  /** The service the incident names (CDEvents `service` reference), if any. */
  readonly service?: string | null;
  /** The environments it names (CDEvents `environment` reference). */
  readonly environments?: string[];
}

export interface EventFilter {
  readonly type?: string;
  readonly site?: string;
  readonly stage?: string;
  readonly from?: string;
  readonly to?: string;
}

/** Entity labels the explorer looks up by key; put into query text only from this fixed list. */
export type EntityLabelName =
  'Commit' | 'Change' | 'WorkItem' | 'Build' | 'TestRun' | 'Artifact' | 'Environment' | 'Release' | 'Repository';

const HIDDEN_PROPS = new Set(['id', 'type', 'stage', 'phase', 'outcome', 'time', 'site', 'source', 'format', 'hash']);

function normalizeEvent(e: EventRow): EventRow {
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.props)) if (!HIDDEN_PROPS.has(k)) props[k] = v;
  return { ...e, time: isoTime(e.time), phase: e.phase ?? null, outcome: e.outcome ?? null, props };
}

/** Neo4j prints datetimes without zero seconds (`2026-11-02T09:00Z`); make every time full ISO-8601. */
function isoTime(t: string): string {
  const ms = Date.parse(t.replace(/\[.*\]$/, ''));
  return Number.isFinite(ms) ? new Date(ms).toISOString() : t;
}
