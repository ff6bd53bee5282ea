import { createHash } from 'node:crypto';
import type {
  About,
  Entity,
  EntityLabel,
  EntityRef,
  EntityRelation,
  EntityRelationType,
  EventLink,
  Format,
  Origin,
  Outcome,
  ParseOptions,
  Phase,
  Properties,
  Stage,
  TraceEvent,
} from './model.js';
import { normalizeRepositoryUrl } from './keys.js';
import { findWorkItems } from './work-items.js';

/** What every format parser gets: where the message came from, its headers and the caller's options. */
export interface ParseContext {
  readonly origin: Origin;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly options: ParseOptions;
  /** The body as received, for deterministic ids of formats that carry none. */
  readonly body: Uint8Array;
  /** Warnings to hand back with the result (never a reason to reject). */
  readonly warnings: string[];
}

/** Header value as text (AMQP clients deliver long strings as Buffers). */
export function header(ctx: ParseContext, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(ctx.headers)) {
    if (k.toLowerCase() !== want) continue;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (v instanceof Uint8Array) return new TextDecoder().decode(v);
    return undefined;
  }
  return undefined;
}

/** The time to use when an event carries none: `x-not-received-at`, then the options, then now. */
export function fallbackTime(ctx: ParseContext): string {
  const h = header(ctx, 'x-not-received-at') ?? header(ctx, 'timestamp_in_ms');
  if (h !== undefined) {
    const n = Number(h);
    const ms = Number.isFinite(n) ? (n < 1e11 ? n * 1000 : n) : Date.parse(h);
    if (Number.isFinite(ms) && ms >= 0 && ms < 253402300799999) return new Date(ms).toISOString();
  }
  return (ctx.options.receivedAt ?? new Date()).toISOString();
}

/** `<format>:<delivery id>` when the tool sent one, else `<format>:<sha256 of the body>` (the same bytes always give the same id). */
export function deliveryOrHashId(ctx: ParseContext, ...names: string[]): string {
  for (const n of ['x-not-delivery-id', ...names]) {
    const v = header(ctx, n);
    if (v && v.trim()) return `${ctx.origin.format}:${v.trim()}`;
  }
  return hashId(ctx.origin.format, ctx.body);
}

export function hashId(format: Format, body: Uint8Array | string): string {
  return `${format}:${createHash('sha256').update(format).update('\0').update(body).digest('hex').slice(0, 40)}`;
}

export function repo(ctx: ParseContext, url: string): string {
  return normalizeRepositoryUrl(url, ctx.options.repositoryAliases);
}

export function workItems(ctx: ParseContext, text: string | undefined, repository?: string): string[] {
  return findWorkItems(text, { patterns: ctx.options.workItemPatterns, repository });
}

/** Collects one event's entities, relations and `about` edges, merging duplicates. */
export class EventBuilder {
  private readonly entities = new Map<string, { label: EntityLabel; key: string; props: Properties; aliases: Set<string> }>();
  private readonly relations = new Map<string, EntityRelation>();
  private readonly about = new Map<string, About>();
  readonly links: EventLink[] = [];

  entity(label: EntityLabel, key: string, props: Props = {}, aliases: readonly string[] = []): EntityRef {
    const k = `${label}|${key}`;
    const existing = this.entities.get(k);
    if (existing) {
      for (const [p, v] of Object.entries(props)) if (existing.props[p] === undefined && v !== undefined) existing.props[p] = v;
      for (const a of aliases) if (a !== key) existing.aliases.add(a);
    } else {
      this.entities.set(k, { label, key, props: dropUndefined(props), aliases: new Set(aliases.filter((a) => a !== key)) });
    }
    return { label, key };
  }

  relate(from: EntityRef, type: EntityRelationType, to: EntityRef): void {
    if (from.label === to.label && from.key === to.key) return;
    this.relations.set(`${from.label}|${from.key}|${type}|${to.label}|${to.key}`, { from, type, to });
  }

  concerns(entity: EntityRef, role: string): void {
    this.about.set(`${entity.label}|${entity.key}|${role}`, { entity, role });
  }

  link(type: string, target: string, illegal?: string): void {
    this.links.push(illegal === undefined ? { type, target } : { type, target, illegal });
  }

  /** A commit in a repository, with the repository and (optionally) the work items its message names. */
  commit(ctx: ParseContext, repository: string, sha: string, props: Props = {}, message?: string): EntityRef {
    const repoRef = this.entity('Repository', repository, {});
    const ref = this.entity('Commit', `${repository}@${sha.toLowerCase()}`, { sha: sha.toLowerCase(), repository, ...props });
    this.relate(ref, 'IN_REPOSITORY', repoRef);
    for (const wi of workItems(ctx, message, repository)) this.relate(ref, 'REFERENCES', this.entity('WorkItem', wi, {}));
    return ref;
  }

  build(
    ctx: ParseContext,
    fields: {
      id: string;
      type: string;
      stage: Stage;
      phase?: Phase;
      outcome?: Outcome;
      time: string;
      props: Props;
    },
  ): TraceEvent {
    const entities: Entity[] = [];
    for (const e of this.entities.values()) {
      entities.push(
        e.aliases.size
          ? { label: e.label, key: e.key, props: e.props, aliases: [...e.aliases] }
          : { label: e.label, key: e.key, props: e.props },
      );
    }
    return {
      id: fields.id,
      type: fields.type,
      stage: fields.stage,
      ...(fields.phase ? { phase: fields.phase } : {}),
      ...(fields.outcome ? { outcome: fields.outcome } : {}),
      time: fields.time,
      site: ctx.origin.site,
      source: ctx.origin.source,
      format: ctx.origin.format,
      props: dropUndefined(fields.props),
      links: this.links,
      about: [...this.about.values()],
      entities,
      relations: [...this.relations.values()],
    };
  }
}

/** Properties without the keys whose value is undefined (the model's properties never hold undefined). */
function dropUndefined(p: Record<string, Properties[string] | undefined>): Properties {
  const out: Properties = {};
  for (const [k, v] of Object.entries(p)) if (v !== undefined) out[k] = v;
  return out;
}

export type Props = Record<string, Properties[string] | undefined>;
