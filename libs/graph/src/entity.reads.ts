import { Injectable } from '@nestjs/common';
import neo4j from 'neo4j-driver';
import { GraphRepository } from './graph.repository.js';
import { ALIASED_LABELS, aliasId } from './entity-keys.js';
import { ENTITY_FIELDS, type EntityRow } from './read-rows.js';

/** A commit asked for by a sha or its prefix, optionally in one repository. */
export interface CommitLookup {
  readonly prefix: string;
  readonly repository?: string | undefined;
}

/** A commit a {@link CommitLookup} found, with the basis of its clean journey (null: none, or marked for recomputation). */
export type FoundCommit = EntityRow & { journeyBasis: number | null };

/** Entity labels the explorer looks up by key; put into query text only from this fixed list. */
export type EntityLabelName =
  'Commit' | 'Change' | 'WorkItem' | 'Build' | 'TestRun' | 'Artifact' | 'Environment' | 'Release' | 'Repository';

/**
 * Entity lookups: what a trace or a release starts from (an entity by key, alias or prefix) and the
 * entities next to it that a trace names (a change's commits, the work items referenced).
 */
@Injectable()
export class EntityReads {
  constructor(private readonly graph: GraphRepository) {}

  /**
   * For each lookup, the commits whose sha starts with its `prefix` (or equals it), optionally in one
   * repository, first `limit` by key, each with the basis of its journey in the model when that journey
   * is clean (null when it has none or is marked for recomputation): what tells a kept trace of the
   * commit still holds, in the same round trip. Many lookups go in one query (a busy explorer sends the
   * lookups of concurrent requests together): a query's own cost on the server is several times a
   * lookup's.
   */
  async commitsBySha(lookups: readonly CommitLookup[], limit: number): Promise<FoundCommit[][]> {
    const rows = await this.graph.read<{ i: number; x: EntityRow; basis: number | null }>(
      `UNWIND $lookups AS q
       CALL (q) {
         MATCH (c:Commit) WHERE c.sha STARTS WITH q.prefix AND (q.repository IS NULL OR c.repository = q.repository)
         WITH c ORDER BY c.key LIMIT $limit
         OPTIONAL MATCH (j:Journey {key: c.key})
         RETURN ${ENTITY_FIELDS('c')} AS x, CASE WHEN j IS NULL OR j:JourneyDirty THEN null ELSE j.basis END AS basis
       }
       RETURN q.i AS i, x, basis`,
      { lookups: lookups.map((q, i) => ({ i, prefix: q.prefix, repository: q.repository ?? null })), limit: neo4j.int(limit) },
    );
    const found = lookups.map((): FoundCommit[] => []);
    for (const r of rows) found[Number(r.i)]!.push({ ...r.x, journeyBasis: r.basis === null ? null : Number(r.basis) });
    return found;
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

  /**
   * The relations among the given entities (element ids) that carry a journey from one entity to the next
   * (a build to the commit it built and the artifacts it produced, a test run to what it tested, a release
   * to what it contains, a change to its commits and its merge, a commit to the work items it references):
   * `{from, type, to}` element ids.
   */
  async relationsAmong(eids: readonly string[]): Promise<Array<{ from: string; type: string; to: string }>> {
    if (eids.length < 2) return [];
    return this.graph.read<{ from: string; type: string; to: string }>(
      `UNWIND $eids AS eid MATCH (x) WHERE elementId(x) = eid
       MATCH (x)-[r:BUILT|PRODUCED|TESTED|CONTAINS|INCLUDES|MERGED_AS|REFERENCES]->(y) WHERE elementId(y) IN $eids
       RETURN eid AS from, type(r) AS type, elementId(y) AS to`,
      { eids },
    );
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
}
