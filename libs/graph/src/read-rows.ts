/**
 * What the reads return (events, entities, links) and the RETURN clauses that build those rows, shared
 * by the read modules: entity.reads.ts, event.reads.ts, event-search.reads.ts, walk.reads.ts (and the
 * journeys' own reads). Query texts are fixed, parameters only.
 */

/** An event node as the explorer reads it; `time` is ISO-8601 UTC. */
export interface EventRow {
  readonly id: string;
  readonly type: string;
  readonly stage: string;
  readonly phase: string | null;
  readonly outcome: string | null;
  readonly time: string;
  readonly site: string;
  readonly source: string;
  readonly format: string;
  readonly props: Record<string, unknown>;
}

export interface EntityRow {
  /** The node's element id: later steps seek it directly. */
  readonly eid: string;
  readonly label: string;
  readonly key: string;
  readonly props: Record<string, unknown>;
}

export interface LinkRow {
  readonly from: string;
  readonly type: string;
  readonly to: string;
}

export interface AboutRow {
  readonly event: string;
  readonly role: string;
  readonly entity: EntityRow;
}

export const EVENT_FIELDS = `{id: e.id, type: e.type, stage: e.stage, phase: e.phase, outcome: e.outcome, time: toString(e.time),
  site: e.site, source: e.source, format: e.format, props: properties(e)}`;
export const ENTITY_FIELDS = (v: string): string =>
  `{eid: elementId(${v}), label: [l IN labels(${v}) WHERE l <> 'Placeholder'][0], key: ${v}.key, props: properties(${v})}`;

const HIDDEN_PROPS = new Set(['id', 'type', 'stage', 'phase', 'outcome', 'time', 'site', 'source', 'format', 'hash']);

export function normalizeEvent(e: EventRow): EventRow {
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.props)) if (!HIDDEN_PROPS.has(k)) props[k] = v;
  return { ...e, time: isoTime(e.time), phase: e.phase ?? null, outcome: e.outcome ?? null, props };
}

/**
 * Neo4j prints datetimes without zero seconds (`2026-11-02T09:00Z`) and with a zone name (`…Z[UTC]`); make
 * every time full ISO-8601 UTC. Text that is not a time is kept as it is.
 */
export function isoTime(t: string): string {
  const ms = Date.parse(t.replace(/\[.*\]$/, ''));
  return Number.isFinite(ms) ? new Date(ms).toISOString() : t;
}
