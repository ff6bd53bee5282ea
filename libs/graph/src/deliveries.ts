import neo4j from 'neo4j-driver';
import type { EventRow } from './read-rows.js';
import { GraphRepository } from './graph.repository.js';
import { isoTime } from './read-rows.js';
import { JOURNEY_PASSAGES, passagesFromProps, stageProperty, type JourneyPassages, type JourneyStage } from './journey.js';

/**
 * Reads for deployments and releases as the delivery figures count them: each event of the stage
 * with the environment it went to, the service, the artifacts and commits it carried, and (for
 * releases) whether it is part of another release. Fixed query texts, parameters only.
 */

/** A deployment or release event with what the delivery figures need to know about it. */
export interface DeliveryEventRow extends Pick<EventRow, 'id' | 'type' | 'stage' | 'phase' | 'outcome' | 'time' | 'site' | 'format'> {
  /** The tool's own deployment id (GitHub, GitLab): the events of one deployment share it. */
  readonly deploymentId: string | null;
  /** The service the event names (CDEvents `service` subject). */
  readonly service: string | null;
  /**
   * The environments it is about: its own (CDEvents `environment`, GitHub / GitLab deployment
   * environments), else the environment its Eiffel `ENVIRONMENT` link defines.
   */
  readonly environments: string[];
  /** The artifacts it is about, and (Eiffel) the artifact its `ARTIFACT` link created. */
  readonly artifacts: Array<{ key: string; purl: string | null }>;
  /** The commits it is about (a deployment of a commit), with their repositories. */
  readonly commits: Array<{ key: string; repository: string | null }>;
  /** A release event that another release event reaches over ELEMENT / COMPOSITION links: a part of a release. */
  readonly nested: boolean;
  /**
   * The outcomes of the activities the event ran in (Eiffel: the `EiffelActivityFinishedEvent` of the
   * activity its `CONTEXT` link names): a deployment whose deploy job failed.
   */
  readonly activityOutcomes: string[];
}

const DELIVERY_FIELDS = `e.id AS id, e.type AS type, e.stage AS stage, e.phase AS phase, e.outcome AS outcome,
  toString(e.time) AS time, e.site AS site, e.format AS format,
  CASE WHEN e.deploymentId IS NULL THEN null ELSE toString(e.deploymentId) END AS deploymentId,
  e.service AS service,
  CASE WHEN EXISTS { (e)-[:ABOUT]->(:Environment) } THEN [(e)-[:ABOUT]->(x:Environment) | x.key]
       ELSE [(e)-[:ENVIRONMENT]->(:Event)-[:ABOUT]->(x:Environment) | x.key] END AS environments,
  [(e)-[:ABOUT]->(a:Artifact) | {key: a.key, purl: a.purl}]
    + [(e)-[:ARTIFACT]->(:Event)-[:ABOUT {role: 'created'}]->(a:Artifact) | {key: a.key, purl: a.purl}] AS artifacts,
  [(e)-[:ABOUT]->(c:Commit) | {key: c.key, repository: c.repository}] AS commits,
  [(e)-[:CONTEXT]->(:Event)<-[:ACTIVITY_EXECUTION]-(f:Event) WHERE f.outcome IS NOT NULL | f.outcome] AS activityOutcomes,
  e.stage = 'release' AND EXISTS { (e)<-[:ELEMENT|COMPOSITION*1..8]-(o:Event) WHERE o.stage = 'release' } AS nested`;

export class DeliveryReads {
  constructor(private readonly graph: GraphRepository) {}

  /** The events of a stage (deployment or release) in [from, to), oldest first, at most `limit`. */
  async inWindow(stage: string, from: string, to: string, limit: number): Promise<DeliveryEventRow[]> {
    const rows = await this.graph.read<DeliveryEventRow>(
      `MATCH (e:Event) WHERE e.time >= datetime($from) AND e.time < datetime($to) AND e.stage = $stage AND NOT e:Placeholder
       WITH e ORDER BY e.time, e.id LIMIT $limit
       RETURN ${DELIVERY_FIELDS}`,
      { stage, from, to, limit: neo4j.int(limit) },
    );
    return rows.map(normalize);
  }

  /**
   * When each work item (by key) was first created and first started (moved to a status of the "in
   * progress" category), from the events about it: a tracker's webhooks, a git host's issue events, an
   * Eiffel `EiffelIssueDefinedEvent`. A work item without such an event is left out.
   */
  async workItemTimes(keys: readonly string[]): Promise<Map<string, { created: string | null; started: string | null }>> {
    if (!keys.length) return new Map();
    const rows = await this.graph.read<{ key: string; created: string | null; started: string | null }>(
      `UNWIND $keys AS k MATCH (w:WorkItem {key: k})<-[:ABOUT]-(e:Event) WHERE e.stage = 'work-item' AND NOT e:Placeholder
       WITH k, min(CASE WHEN e.phase = 'created' THEN e.time END) AS created, min(CASE WHEN e.phase = 'started' THEN e.time END) AS started
       RETURN k AS key, toString(created) AS created, toString(started) AS started`,
      { keys },
    );
    const at = (t: string | null): string | null => (t === null ? null : isoTime(t));
    return new Map(rows.map((r) => [r.key, { created: at(r.created), started: at(r.started) }]));
  }

  /** The same facts for given events (a journey's deployments before the window). */
  async byIds(ids: readonly string[]): Promise<DeliveryEventRow[]> {
    if (!ids.length) return [];
    const rows = await this.graph.read<DeliveryEventRow>(
      `UNWIND $ids AS id MATCH (e:Event {id: id}) WHERE NOT e:Placeholder RETURN ${DELIVERY_FIELDS}`,
      { ids },
    );
    return rows.map(normalize);
  }

  /** Journeys with an event at `stage` in [from, to): first reached before `to`, last after `from`. */
  async journeysAt(stage: JourneyStage, from: string, to: string, limit: number): Promise<JourneyPassages[]> {
    const first = stageProperty(stage, 'First');
    const last = stageProperty(stage, 'Last');
    const rows = await this.graph.read<{ j: Record<string, unknown> }>(
      `MATCH (j:Journey) WHERE j.${first} < $to AND j.${last} >= $from
       WITH j ORDER BY j.${first}, j.key LIMIT $limit
       RETURN ${JOURNEY_PASSAGES} AS j`,
      { from: isoTime(from), to: isoTime(to), limit: neo4j.int(limit) },
    );
    return rows.map((r) => passagesFromProps(r.j));
  }
}

function normalize(r: DeliveryEventRow): DeliveryEventRow {
  return {
    ...r,
    time: isoTime(r.time),
    phase: r.phase ?? null,
    outcome: r.outcome ?? null,
    service: r.service ?? null,
    environments: [...new Set(r.environments)].sort(),
    artifacts: r.artifacts.map((a) => ({ key: a.key, purl: a.purl ?? null })),
    commits: r.commits.map((c) => ({ key: c.key, repository: c.repository ?? null })),
    activityOutcomes: r.activityOutcomes ?? [],
  };
}
