/**
 * Joins a CDEvents link to another tool's event. A CDEvents link names its target by context id alone, and a
 * context id is unique only within its source, so the parser points every link at the event with that id from
 * the linking event's own source (`cdevents:<source>|<context id>`). A link into another tool's events (a test
 * tool's run triggered by the CI's pipeline run) would wait there on a placeholder that no event fills.
 *
 * After a batch's events and links are written (`writeBatch`), in the same transaction, such a link is re-pointed
 * at the event of another source with that context id when there is exactly one and the context id cannot be
 * ambiguous: it is a UUID, or both events are in the same chain (`chainId`) — `globalContextId` in @not/events. Both
 * orders are handled: a link whose target is already stored is joined when the link is written, and links
 * waiting for a context id are joined when an event with that id is written (placeholders of CDEvents links
 * carry `contextId` for that; the `event_context_id` index finds them and the events). Rewriting is
 * idempotent: a redelivered link that lands on a placeholder again is re-pointed again. Concurrent
 * correlators take turns per context id: each transaction first takes that id's lock (a node merged on a
 * unique key and deleted in the same transaction, so the lock lasts until commit and nothing stays behind).
 */
import { globalContextId, parseCdeventsEventId, type TraceEvent } from '@not/events';
import type { ManagedTransaction, QueryResult } from 'neo4j-driver';
import { cypherIdent } from './graph.schema.js';

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
    const chain = typeof e.props['chainId'] === 'string' && e.props['chainId'] !== '' ? e.props['chainId'] : null;
    // An event or link with a short context id and no chain can join nothing of another source: left out.
    if (self && (globalContextId(self.contextId) || chain !== null))
      rows.events.push({ id: e.id, contextId: self.contextId, global: globalContextId(self.contextId) });
    for (const l of e.links) {
      const ref = parseCdeventsEventId(l.target);
      if (!ref || !(globalContextId(ref.contextId) || chain !== null)) continue;
      rows.links.push({
        from: e.id,
        to: l.target,
        type: l.type,
        contextId: ref.contextId,
        chainId: chain,
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

/** Links of this batch still on a placeholder, and the one event of another source each can mean. */
const FIND_FOR_NEW_LINKS = `
UNWIND $links AS l
MATCH (p:Event:Placeholder {id: l.to})
SET p.contextId = l.contextId
WITH p, l
OPTIONAL MATCH (e:Event {contextId: l.contextId})
  WHERE e.format = 'cdevents' AND NOT e:Placeholder AND (l.global OR (l.chainId IS NOT NULL AND e.chainId = l.chainId))
WITH p, l, collect(e.id) AS found
WHERE size(found) = 1
RETURN l.from AS from, l.type AS type, p.id AS placeholder, found[0] AS target`;

/** Links waiting on a placeholder of another source for a context id that an event of this batch has. */
const FIND_WAITING_LINKS = `
UNWIND $events AS ev
MATCH (p:Event:Placeholder {contextId: ev.contextId})
MATCH (e:Event {id: ev.id})
  WHERE NOT e:Placeholder
WITH p, e, ev
WHERE COUNT { (o:Event {contextId: ev.contextId}) WHERE o.format = 'cdevents' AND NOT o:Placeholder } = 1
MATCH (a:Event)-[r]->(p)
  WHERE ev.global OR (a.chainId IS NOT NULL AND a.chainId = e.chainId)
RETURN a.id AS from, type(r) AS type, p.id AS placeholder, e.id AS target`;

/** Placeholders that no link points at any more. */
const DROP_EMPTY_PLACEHOLDERS = `
UNWIND $ids AS id
MATCH (p:Event:Placeholder {id: id})
WHERE NOT EXISTS { ()-->(p) }
DELETE p`;

interface Move {
  readonly from: string;
  readonly type: string;
  readonly placeholder: string;
  readonly target: string;
}

/** Runs the join for one batch ({@link cdeventsJoinRows}), after its events and links are written, in its transaction. */
export async function joinCdeventsLinks(tx: ManagedTransaction, join: CdeventsJoinRows): Promise<void> {
  if (join.contextIds.length === 0) return;
  await tx.run(LOCK_CONTEXT_IDS, { ids: join.contextIds });
  const found: Move[] = [];
  const collect = (res: QueryResult): void => {
    for (const r of res.records) found.push(r.toObject() as unknown as Move);
  };
  if (join.links.length) collect(await tx.run(FIND_FOR_NEW_LINKS, { links: join.links }));
  if (join.events.length) collect(await tx.run(FIND_WAITING_LINKS, { events: join.events }));
  if (found.length === 0) return;
  const byType = new Map<string, Move[]>();
  const seen = new Set<string>();
  for (const m of found) {
    const k = `${m.from}\0${m.type}\0${m.placeholder}`;
    if (seen.has(k)) continue;
    seen.add(k);
    byType.set(m.type, [...(byType.get(m.type) ?? []), m]);
  }
  // One statement per link type, with the type in the text (a MERGE on a dynamic type is planned as a scan).
  for (const [type, moves] of byType) {
    await tx.run(
      `UNWIND $moves AS m
       MATCH (a:Event {id: m.from})-[r:${cypherIdent(type)}]->(p:Event:Placeholder {id: m.placeholder})
       MATCH (e:Event {id: m.target})
       MERGE (a)-[moved:${cypherIdent(type)}]->(e)
         ON CREATE SET moved.illegal = r.illegal
       DELETE r`,
      { moves },
    );
  }
  await tx.run(DROP_EMPTY_PLACEHOLDERS, { ids: [...new Set(found.map((m) => m.placeholder))] });
}
