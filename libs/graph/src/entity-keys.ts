/**
 * Entities that can be known by more than one key: an artifact by its digest, purl, GAV or path; a build by
 * its CI job and number or by the run id another tool gave it. The graph keeps one node per such entity,
 * whatever order its keys arrive in: the node's `key` is the best key known so far and the others are its
 * `aliases`, each with an `(:Alias {id: "<Label>|<key>"})-[:ALIAS_OF]->` node so lookups are indexed.
 */
export const ALIASED_LABELS: ReadonlySet<string> = new Set(['Artifact', 'Build', 'TestRun']);

/** Lower is better. Artifacts: sha256 digest, other digest, purl, GAV, path. Runs: CI job#number before run ids. */
export function keyRank(label: string, key: string): number {
  if (label === 'Artifact') {
    if (key.startsWith('sha256:')) return 0;
    if (key.startsWith('purl:')) return 2;
    if (key.startsWith('gav:')) return 3;
    if (key.startsWith('path:')) return 4;
    return /^[a-z0-9-]+:[0-9a-f]+$/i.test(key) ? 1 : 5;
  }
  return key.includes('/run/') ? 1 : 0;
}

/** The keys best first: the first is the node's key, the rest its aliases. Deterministic for any input order. */
export function rankKeys(label: string, keys: Iterable<string>): string[] {
  return [...new Set(keys)].sort((a, b) => keyRank(label, a) - keyRank(label, b) || (a < b ? -1 : a > b ? 1 : 0));
}

export function aliasId(label: string, key: string): string {
  return `${label}|${key}`;
}
