import { Injectable } from '@nestjs/common';
import neo4j from 'neo4j-driver';
import { GraphRepository } from './graph.repository.js';
import { EVENT_FIELDS, normalizeEvent, type EventRow } from './read-rows.js';

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

/**
 * Events found by time and filters rather than by id: a stage's events in a window (lead time),
 * incidents (DORA), the Eiffel events page, the newest events written (the live feed).
 */
@Injectable()
export class EventSearchReads {
  constructor(private readonly graph: GraphRepository) {}

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
