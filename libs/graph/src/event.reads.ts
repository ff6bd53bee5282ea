import { Injectable } from '@nestjs/common';
import { GraphRepository } from './graph.repository.js';
import { ENTITY_FIELDS, EVENT_FIELDS, normalizeEvent, type AboutRow, type EntityRow, type EventRow, type LinkRow } from './read-rows.js';
import type { Direction } from './walk.js';

/** Events by id: what a trace shows of the events it reached, and the links the Eiffel APIs follow. */
@Injectable()
export class EventReads {
  constructor(private readonly graph: GraphRepository) {}

  async events(ids: readonly string[]): Promise<EventRow[]> {
    if (!ids.length) return [];
    const rows = await this.graph.read<{ e: EventRow }>(
      `UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder RETURN ${EVENT_FIELDS} AS e`,
      { ids },
    );
    return rows.map((r) => normalizeEvent(r.e));
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
}
