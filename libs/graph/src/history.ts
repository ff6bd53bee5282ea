import neo4j from 'neo4j-driver';
import { GraphRepository } from './graph.repository.js';

/**
 * Reads for a release's history: commit ancestry as the graph knows it, the releases of a product in
 * time order, what the artifacts of a release are called, and the product artifacts a composition
 * ships. Fixed query texts, parameters only.
 */

/** How one commit is known to come after another. */
export type HistoryEdge = 'parent' | 'previous-version' | 'push' | 'merge';

export interface HistoryStep {
  readonly from: string;
  readonly to: string;
  /** `push-list`: another commit of the push `from` is the head of (its history is the push's `before`). */
  readonly via: HistoryEdge | 'push-list';
}

/** Chains read in one round trip by {@link HistoryReads.earlierAround}: steps back of one kind. */
const AROUND_DEPTH = 200;

/**
 * The steps back of commit `c` (see {@link HistoryReads.earlierAround}), one list per kind: pattern
 * comprehensions, one row per commit, cheaper than a union of subqueries.
 */
const STEPS_BACK = `[(c)-[:PARENT]->(p:Commit) | p.key] AS parent,
  [(c)<-[:ABOUT]-(s:Event)-[:PREVIOUS_VERSION]->(:Event)-[:ABOUT]->(p:Commit)
    WHERE s.stage IN ['commit', 'merge'] AND p <> c | p.key] AS previousVersion,
  [(c)<-[:ABOUT {role: 'head'}]-(:Event)-[:ABOUT {role: 'pushed'}]->(p:Commit) WHERE p <> c | p.key] AS pushList,
  [(c)<-[:ABOUT {role: 'merge'}]-(pr:Event)-[:ABOUT {role: 'head'}]->(p:Commit)
    WHERE p <> c AND EXISTS { (pr)-[:ABOUT]->(:Change) } | p.key] AS merge,
  COLLECT {
    MATCH (c)<-[:ABOUT {role: 'head'}]-(push:Event) WHERE push.before IS NOT NULL
    MATCH (p:Commit {key: c.repository + '@' + toLower(push.before)}) WHERE p <> c
    RETURN p.key
  } AS push`;

/** One commit's steps back as {@link STEPS_BACK} reads them. */
interface StepsRow {
  readonly from: string;
  readonly parent: string[];
  readonly previousVersion: string[];
  readonly pushList: string[];
  readonly merge: string[];
  readonly push: string[];
}

function stepsOf(r: StepsRow): HistoryStep[] {
  const out = new Map<string, HistoryStep>();
  const add = (to: string, via: HistoryStep['via']) => out.set(`${via}|${to}`, { from: r.from, to, via });
  for (const to of r.parent) add(to, 'parent');
  for (const to of r.previousVersion) add(to, 'previous-version');
  for (const to of r.pushList) add(to, 'push-list');
  for (const to of r.merge) add(to, 'merge');
  for (const to of r.push) add(to, 'push');
  return [...out.values()];
}

export class HistoryReads {
  constructor(private readonly graph: GraphRepository) {}

  /**
   * The commits known to come right before each given commit (by key), and before those: a commit's
   * parents (`PARENT`, from pushes and hooks that list them), the commits an Eiffel source change links as
   * `PREVIOUS_VERSION`, for the head of a push, the other commits of that push and the commit the branch
   * was at before it (`before`), and for the merge commit of a merged pull / merge request, the request's
   * head commit (`merge`: one side of the merge; the other comes from the push of the target branch). The
   * steps back of every commit within {@link AROUND_DEPTH} steps back of the given
   * ones along chains of one kind (parents; Eiffel `PREVIOUS_VERSION` between source changes), in one
   * round trip: a linear history of a few hundred commits is read at once instead of a step at a time.
   * `known` lists every commit whose steps back are all in `steps` (a commit with none among them).
   */
  async earlierAround(keys: readonly string[]): Promise<{ steps: HistoryStep[]; known: string[] }> {
    if (!keys.length) return { steps: [], known: [] };
    const rows = await inHalves(keys, 2, (half) => this.aroundRows(half)); // each key reads up to a whole chain
    return { steps: rows.flatMap(stepsOf), known: [...new Set([...keys, ...rows.map((r) => r.from)])] };
  }

  private aroundRows(keys: readonly string[]): Promise<StepsRow[]> {
    return this.graph.read<StepsRow>(
      `UNWIND $keys AS k MATCH (c:Commit {key: k})
       CALL (c) {
         MATCH (c)-[:PARENT*0..${AROUND_DEPTH}]->(x:Commit) RETURN DISTINCT x
         UNION
         MATCH (c)<-[:ABOUT]-(s:Event)-[:PREVIOUS_VERSION*0..${AROUND_DEPTH}]->(:Event)-[:ABOUT]->(x:Commit)
         WHERE s.stage IN ['commit', 'merge'] RETURN DISTINCT x
       }
       WITH DISTINCT x AS c
       RETURN c.key AS from, ${STEPS_BACK}`,
      { keys },
    );
  }

  /** The releases of a product, oldest first by the first event about each. */
  async releasesInOrder(product: string, limit = 1000): Promise<Array<{ key: string; version: string; time: string }>> {
    const rows = await this.graph.read<{ key: string; version: string; time: string }>(
      `MATCH (r:Release) WHERE r.product = $product
       OPTIONAL MATCH (r)<-[:ABOUT]-(e:Event) WHERE NOT e:Placeholder
       WITH r, min(e.time) AS t
       RETURN r.key AS key, r.version AS version, toString(t) AS time ORDER BY t, r.key LIMIT $limit`,
      { product, limit: neo4j.int(limit) },
    );
    return rows.map((r) => ({ ...r, time: r.time ?? '' }));
  }

  /** The package URL of each artifact (its `purl` property, else a `purl:` alias), by key. */
  async purls(keys: readonly string[]): Promise<Map<string, string>> {
    if (!keys.length) return new Map();
    const rows = await this.graph.read<{ key: string; purl: string | null }>(
      `UNWIND $keys AS k MATCH (a:Artifact {key: k})
       RETURN k AS key, coalesce(a.purl, [x IN coalesce(a.aliases, []) WHERE x STARTS WITH 'purl:' | substring(x, 5)][0],
                                 CASE WHEN a.key STARTS WITH 'purl:' THEN substring(a.key, 5) END) AS purl`,
      { keys },
    );
    return new Map(rows.filter((r) => r.purl).map((r) => [r.key, r.purl!]));
  }

  /**
   * The product artifacts of a release: artifacts whose creation event links, as its `COMPOSITION`,
   * to an event about the release (an image or bundle built from the release's composition).
   */
  async productArtifacts(releaseKey: string): Promise<string[]> {
    const rows = await this.graph.read<{ key: string }>(
      `MATCH (:Release {key: $key})<-[:ABOUT]-(:Event)<-[:COMPOSITION]-(e:Event)-[:ABOUT]->(a:Artifact)
       RETURN DISTINCT a.key AS key ORDER BY key`,
      { key: releaseKey },
    );
    return rows.map((r) => r.key);
  }

  /**
   * The work items each commit names: those it references (its message), those the changes including it
   * reference, and those its source-change events link to (an Eiffel `EiffelIssueDefinedEvent`).
   */
  async workItems(keys: readonly string[]): Promise<Map<string, string[]>> {
    if (!keys.length) return new Map();
    const rows = await inHalves(keys, 1000, (half) => this.workItemRows(half));
    return new Map(rows.map((r) => [r.key, [...new Set(r.items)].sort()]));
  }

  private workItemRows(keys: readonly string[]): Promise<Array<{ key: string; items: string[] }>> {
    return this.graph.read<{ key: string; items: string[] }>(
      `UNWIND $keys AS k MATCH (c:Commit {key: k})
       RETURN k AS key, [(c)-[:REFERENCES]->(w:WorkItem) | w.key]
         + [(c)<-[:INCLUDES]-(:Change)-[:REFERENCES]->(w:WorkItem) | w.key]
         + [(c)<-[:ABOUT]-(s:Event)-[l]->(:Event)-[:ABOUT]->(w:WorkItem) WHERE s.stage IN ['commit', 'merge'] AND type(l) <> 'ABOUT' | w.key] AS items`,
      { keys },
    );
  }
}

/** A read of `splitAt` keys or more is split in two, sent at once: the graph store runs each on a core of its own. */
async function inHalves<T>(keys: readonly string[], splitAt: number, read: (keys: readonly string[]) => Promise<T[]>): Promise<T[]> {
  if (keys.length < splitAt) return read(keys);
  const mid = Math.ceil(keys.length / 2);
  const [a, b] = await Promise.all([read(keys.slice(0, mid)), read(keys.slice(mid))]);
  return [...a, ...b];
}
