import { Injectable } from '@nestjs/common';
import neo4j from 'neo4j-driver';
import { GraphRepository } from './graph.repository.js';

/** An event's body as it arrived (`raw`), with the few stored fields the Event Repository routes need. */
export interface RawEventRow {
  readonly id: string;
  readonly format: string;
  readonly type: string;
  /** null for events written before bodies were kept (a replay of the archive fills it in) */
  readonly raw: string | null;
}

/** What the Event Repository's filters can narrow down in the database before the rest is checked on the body. */
export interface RawPrefilter {
  readonly type?: string;
  readonly id?: string;
  /** events that link to this event id */
  readonly linkTarget?: string;
}

const FIELDS = 'e.id AS id, e.format AS format, e.type AS type, e.raw AS raw';
const WHERE = `WHERE NOT e:Placeholder AND e.format = 'eiffel' AND ($type IS NULL OR e.type = $type) AND ($id IS NULL OR e.id = $id)
  AND ($target IS NULL OR EXISTS { (e)-->(:Event {id: $target}) })`;

/**
 * Reads for the Eiffel Event Repository API: events as they arrived. Fixed query texts, parameters only;
 * filters on arbitrary paths of an event are evaluated by the caller on the parsed body.
 */
@Injectable()
export class RawEventReads {
  constructor(private readonly graph: GraphRepository) {}

  async rawOf(ids: readonly string[]): Promise<RawEventRow[]> {
    if (!ids.length) return [];
    return this.graph.read<RawEventRow>(`UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder RETURN ${FIELDS}`, { ids });
  }

  async count(pre: RawPrefilter): Promise<number> {
    const [row] = await this.graph.read<{ n: number }>(`MATCH (e:Event) ${WHERE} RETURN count(e) AS n`, params(pre));
    return row?.n ?? 0;
  }

  /** Eiffel events oldest first (event time, then id), `limit` from `skip`. */
  async page(pre: RawPrefilter, skip: number, limit: number): Promise<RawEventRow[]> {
    return this.graph.read<RawEventRow>(`MATCH (e:Event) ${WHERE} RETURN ${FIELDS} ORDER BY e.time, e.id SKIP $skip LIMIT $limit`, {
      ...params(pre),
      skip: neo4j.int(skip),
      limit: neo4j.int(limit),
    });
  }
}

function params(pre: RawPrefilter): Record<string, unknown> {
  return { type: pre.type ?? null, id: pre.id ?? null, target: pre.linkTarget ?? null };
}
