import { createHash } from 'node:crypto';
import type { Properties, TraceEvent } from '@not/events';
import neo4j, { type Integer } from 'neo4j-driver';
import { ALIASED_LABELS, aliasId, rankKeys } from './entity-keys.js';
import { cypherIdent } from './graph.schema.js';

type CypherValue = string | number | boolean | null | Integer | readonly (string | number)[] | ReadonlyArray<Record<string, string>>;
type Row = Record<string, CypherValue | Record<string, CypherValue>>;

/** The rows one batch writes, grouped so that each statement has one fixed query text. */
export interface BatchRows {
  readonly events: Row[];
  /** rows {from, to, type, illegal}; the type is checked to be a plain identifier */
  readonly links: Row[];
  /** label -> rows {key, props, aliases, about: [{event, role}]}, for labels with one key per entity */
  readonly entities: Map<string, Row[]>;
  /**
   * label -> rows for entities known by several keys (see entity-keys.ts): rows that share any key in the
   * batch are one row, with every key best first and the alias node ids.
   */
  readonly aliased: Map<string, AliasedRow[]>;
  /** `FromLabel|TYPE|ToLabel` -> rows {from, to} */
  readonly relations: Map<string, Row[]>;
  readonly sites: string[];
  /** Events dropped because the same id appeared earlier in the same batch. */
  readonly duplicatesInBatch: number;
  /** rows {id, hash, raw, outbox}: the body each event arrived in, kept verbatim (see {@link StoredEvent}). */
  readonly raws: Row[];
}

/**
 * An event as the correlator writes it: the canonical model plus the message body it was parsed from,
 * stored once on the event node (`raw`) the first time the event is written, and, for Eiffel events
 * republished on the central Eiffel bus, the routing key to publish it with (`outbox`, cleared once the
 * broker confirmed the publication).
 */
export type StoredEvent = TraceEvent & { readonly raw?: string; readonly outbox?: string };

interface EntityRow {
  key: string;
  props: Record<string, CypherValue>;
  aliases: string[];
  about: Array<{ event: string; role: string }>;
}

export interface AliasedRow {
  /** Every key of the entity in this batch, best first. */
  readonly keys: string[];
  /** `<Label>|<key>` for each key, in the same order. */
  readonly ids: string[];
  readonly props: Record<string, CypherValue>;
  readonly about: Array<{ event: string; role: string }>;
}

/** A stable fingerprint of an event's content, to tell a redelivery from a conflicting event with the same id. */
export function contentHash(e: StoredEvent): string {
  const { site: _s, source: _src, raw: _raw, outbox: _outbox, ...content } = e;
  return createHash('sha256').update(stableJson(content)).digest('hex').slice(0, 32);
}

export function toBatchRows(events: readonly StoredEvent[]): BatchRows {
  const seen = new Set<string>();
  const rows: BatchRows = {
    events: [],
    links: [],
    entities: new Map(),
    aliased: new Map(),
    relations: new Map(),
    sites: [],
    duplicatesInBatch: 0,
    raws: [],
  };
  const sites = new Set<string>();
  const entityRows = new Map<string, EntityRow>();
  const byLabel = new Map<string, EntityRow[]>();
  let dups = 0;
  for (const e of events) {
    if (seen.has(e.id)) {
      dups++;
      continue;
    }
    seen.add(e.id);
    sites.add(e.site);
    const hash = contentHash(e);
    if (typeof e.raw === 'string') rows.raws.push({ id: e.id, hash, raw: e.raw, outbox: e.outbox ?? null });
    rows.events.push({
      id: e.id,
      hash,
      props: toProps({
        ...e.props,
        type: e.type,
        stage: e.stage,
        phase: e.phase ?? null,
        outcome: e.outcome ?? null,
        site: e.site,
        source: e.source,
        format: e.format,
      }),
      time: e.time,
    });
    for (const l of e.links) {
      cypherIdent(l.type);
      rows.links.push({ from: e.id, to: l.target, type: l.type, illegal: l.illegal ?? null });
    }
    for (const ent of e.entities) {
      const k = `${ent.label}|${ent.key}`;
      const existing = entityRows.get(k);
      // The first occurrence in a batch carries the properties; later ones only add aliases.
      if (existing) existing.aliases.push(...(ent.aliases ?? []).filter((a) => !existing.aliases.includes(a)));
      else {
        const row: EntityRow = { key: ent.key, props: toProps(ent.props), aliases: [...(ent.aliases ?? [])], about: [] };
        entityRows.set(k, row);
        push(byLabel, ent.label, row);
      }
    }
    for (const a of e.about) {
      const k = `${a.entity.label}|${a.entity.key}`;
      let row = entityRows.get(k);
      if (!row) {
        // About an entity the event did not describe: create it bare.
        row = { key: a.entity.key, props: {}, aliases: [], about: [] };
        entityRows.set(k, row);
        push(byLabel, a.entity.label, row);
      }
      row.about.push({ event: e.id, role: a.role });
    }
    for (const r of e.relations) {
      push(rows.relations, `${r.from.label}|${r.type}|${r.to.label}`, { from: r.from.key, to: r.to.key });
    }
  }
  rows.sites.push(...sites);
  for (const [label, list] of byLabel) {
    if (ALIASED_LABELS.has(label)) rows.aliased.set(label, groupByKeys(label, list));
    else rows.entities.set(label, list as unknown as Row[]);
  }
  return { ...rows, duplicatesInBatch: dups };
}

/** Joins the rows of one label that share a key (union-find over keys); the first row's properties win. */
function groupByKeys(label: string, list: readonly EntityRow[]): AliasedRow[] {
  const parent = list.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const owner = new Map<string, number>();
  list.forEach((row, i) => {
    for (const k of [row.key, ...row.aliases]) {
      const j = owner.get(k);
      if (j === undefined) owner.set(k, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<
    number,
    { keys: Set<string>; props: Record<string, CypherValue>; about: Array<{ event: string; role: string }> }
  >();
  list.forEach((row, i) => {
    const root = find(i);
    let g = groups.get(root);
    if (!g) groups.set(root, (g = { keys: new Set(), props: {}, about: [] }));
    for (const k of [row.key, ...row.aliases]) g.keys.add(k);
    for (const [p, v] of Object.entries(row.props)) if (!(p in g.props)) g.props[p] = v;
    g.about.push(...row.about);
  });
  return [...groups.values()].map((g) => {
    const keys = rankKeys(label, g.keys);
    return { keys, ids: keys.map((k) => aliasId(label, k)), props: g.props, about: g.about };
  });
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Integers become Neo4j integers (JS numbers would be stored as floats); `undefined` is dropped. */
function toProps(p: Properties | Record<string, unknown>): Record<string, CypherValue> {
  const out: Record<string, CypherValue> = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    if (typeof v === 'number' && Number.isInteger(v)) out[k] = neo4j.int(v);
    else out[k] = v as CypherValue;
  }
  return out;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
