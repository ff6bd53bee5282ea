import neo4j from 'neo4j-driver';
import type { GraphRepository } from './graph.repository.js';

/**
 * Takes or renews a named lease in the graph store for `ttlMs`: true when `holder` has it now.
 * One holder at a time per name, whatever the number of replicas asking (a `:Lease` node, merged
 * under its uniqueness constraint); a holder that stops asking loses it when the time runs out.
 */
export async function takeLease(graph: GraphRepository, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const [r] = await graph.write<{ mine: boolean }>(
    `MERGE (l:Lease {name: $name})
     WITH l, datetime.realtime().epochMillis AS now
     SET l.holder = CASE WHEN l.holder IS NULL OR l.holder = $holder OR coalesce(l.until, 0) < now THEN $holder ELSE l.holder END
     SET l.until = CASE WHEN l.holder = $holder THEN now + $ttl ELSE l.until END
     RETURN l.holder = $holder AS mine`,
    { name, holder, ttl: neo4j.int(ttlMs) },
  );
  return r?.mine === true;
}

/** Gives a lease up at once when `holder` has it (a replica that stops cleanly), so another takes it at its next ask. */
export async function releaseLease(graph: GraphRepository, name: string, holder: string): Promise<void> {
  await graph.write(`MATCH (l:Lease {name: $name}) WHERE l.holder = $holder SET l.until = 0`, { name, holder });
}
