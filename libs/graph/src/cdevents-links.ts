/**
 * Joins a CDEvents link to another tool's event. A CDEvents link names its target by context id alone, and a
 * context id is unique only within its source, so the parser points every link at the event with that id from
 * the linking event's own source (`cdevents:<source>|<context id>`). A link into another tool's events (a test
 * tool's run triggered by the CI's pipeline run) would wait there on a placeholder that no event fills.
 *
 * After a batch's events and links are written (`writeBatch`), in the same transaction, such a link is re-pointed at the event
 * of another source with that context id when there is exactly one and the context id cannot be ambiguous:
 * it is a UUID, or both events are in the same chain (`chainId`) — `globalContextId` in @not/events. Both
 * orders are handled: a link whose target is already stored is joined when the link is written, and links
 * waiting for a context id are joined when an event with that id is written (placeholders of CDEvents links
 * carry `contextId` for that; the `event_context_id` index finds them and the events). Rewriting is
 * idempotent: a redelivered link that lands on a placeholder again is re-pointed again. Concurrent
 * correlators take turns per context id: each transaction first takes that id's lock (a node merged on a
 * unique key and deleted in the same transaction, so the lock lasts until commit and nothing stays behind).
 */
import { globalContextId, parseCdeventsEventId, type TraceEvent } from '@not/events';
import type { ManagedTransaction } from 'neo4j-driver';

interface LinkRow {
  readonly from: string;
  readonly to: string;
  readonly type: string;
  readonly contextId: string;
  /** The linking event's chain. */
  readonly chainId: string | null;
  readonly global: boolean;
}

interface EventRow {
  readonly id: string;
  readonly contextId: string;
  readonly global: boolean;
}

export interface CdeventsJoinRows {
  readonly links: LinkRow[];
  readonly events: EventRow[];
  /** Every context id involved, sorted (locks taken in one order). */
  readonly contextIds: string[];
}

/** What a batch gives the join: its links to CDEvents ids, its CDEvents, and their context ids. */
export function cdeventsJoinRows(events: readonly TraceEvent[]): CdeventsJoinRows {
  const rows: { links: LinkRow[]; events: EventRow[] } = { links: [], events: [] };
  for (const e of events) {
    const self = parseCdeventsEventId(e.id);
    if (self) rows.events.push({ id: e.id, contextId: self.contextId, global: globalContextId(self.contextId) });
    const chain = e.props['chainId'];
    for (const l of e.links) {
      const ref = parseCdeventsEventId(l.target);
      if (!ref) continue;
      rows.links.push({
        from: e.id,
        to: l.target,
        type: l.type,
        contextId: ref.contextId,
        chainId: typeof chain === 'string' && chain !== '' ? chain : null,
        global: globalContextId(ref.contextId),
      });
    }
  }
  const contextIds = [...new Set([...rows.events.map((e) => e.contextId), ...rows.links.map((l) => l.contextId)])].sort();
  return { ...rows, contextIds };
}

const LOCK_CONTEXT_IDS = `
UNWIND $ids AS id
MERGE (k:CdeventsContextLock {id: id})
WITH collect(k) AS locks
FOREACH (k IN locks | DELETE k)`;

/** Links of this batch still on a placeholder, to the one event of another source they can mean. */
const JOIN_NEW_LINKS = `
UNWIND $links AS l
MATCH (p:Event:Placeholder {id: l.to})
SET p.contextId = l.contextId
WITH p, l
OPTIONAL MATCH (e:Event {contextId: l.contextId})
  WHERE e.format = 'cdevents' AND NOT e:Placeholder AND (l.global OR (l.chainId IS NOT NULL AND e.chainId = l.chainId))
WITH p, l, collect(e) AS found
WHERE size(found) = 1
WITH p, l, found[0] AS e
MATCH (a:Event {id: l.from})-[r]->(p)
  WHERE type(r) = l.type
MERGE (a)-[moved:$(l.type)]->(e)
  ON CREATE SET moved.illegal = r.illegal
DELETE r
WITH DISTINCT p
WHERE NOT EXISTS { ()-->(p) }
DELETE p`;

/** Links waiting on a placeholder of another source for a context id that an event of this batch has. */
const JOIN_WAITING_LINKS = `
UNWIND $events AS ev
MATCH (p:Event:Placeholder {contextId: ev.contextId})
MATCH (e:Event {id: ev.id})
  WHERE NOT e:Placeholder
WITH p, e, ev
WHERE COUNT { (o:Event {contextId: ev.contextId}) WHERE o.format = 'cdevents' AND NOT o:Placeholder } = 1
MATCH (a:Event)-[r]->(p)
  WHERE ev.global OR (a.chainId IS NOT NULL AND a.chainId = e.chainId)
MERGE (a)-[moved:$(type(r))]->(e)
  ON CREATE SET moved.illegal = r.illegal
DELETE r
WITH DISTINCT p
WHERE NOT EXISTS { ()-->(p) }
DELETE p`;

/** Runs the join for one batch ({@link cdeventsJoinRows}), after its events and links are written, in its transaction. */
export async function joinCdeventsLinks(tx: ManagedTransaction, join: CdeventsJoinRows): Promise<void> {
  if (join.contextIds.length === 0) return;
  await tx.run(LOCK_CONTEXT_IDS, { ids: join.contextIds });
  if (join.links.length) await tx.run(JOIN_NEW_LINKS, { links: join.links });
  if (join.events.length) await tx.run(JOIN_WAITING_LINKS, { events: join.events });
}
