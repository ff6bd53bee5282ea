import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { EventReads, RawEventReads, type RawEventRow, type RawPrefilter } from '@not/graph';
import type { ExplorerConfig } from '../explorer.config.js';
import { EXPLORER_CONFIG } from '../explorer.tokens.js';
import { matchesAll, parseEventsQuery, parseSearchQuery, QueryError, type Condition } from './er-query.js';
import { buildTree } from './er-tree.js';
import type { ErPage, ErSearch } from '../api.schemas.js';

const LINK_TYPE = /^[A-Z][A-Z0-9_]{0,63}$/;
/** Events read from the graph per round while a filter is checked on their bodies. */
const SCAN_CHUNK = 1000;

/**
 * The Eiffel Event Repository API: events exactly as they arrived (the stored body), goer's filters and
 * paging, and EI's upstream / downstream search.
 */
@Injectable()
export class ErService {
  constructor(
    private readonly raws: RawEventReads,
    private readonly eventReads: EventReads,
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
  ) {}

  async byId(id: string, rawQuery: string): Promise<Body> {
    const readable = /(^|&)readable=true(&|$)/.test(rawQuery);
    const [row] = await this.raws.rawOf([id]);
    if (!row || row.format !== 'eiffel') throw erNotFound(`The requested event is not found: no Eiffel event with id "${id}"`);
    if (row.raw === null) throw erNotFound(storedBefore(id));
    return present(row.raw, readable);
  }

  async events(rawQuery: string): Promise<ErPage> {
    const { conditions, page } = guard(() => parseEventsQuery(rawQuery, this.config.eiffelApi.maxPageSize));
    const { pre, rest } = prefilter(conditions);
    const skip = (page.pageNo - 1) * page.pageSize + (page.pageStartItem - 1);
    if (rest.length === 0) {
      const [total, rows] = await Promise.all([this.raws.count(pre), this.raws.page(pre, skip, page.pageSize)]);
      return { pageNo: page.pageNo, pageSize: page.pageSize, totalNumberItems: total, items: bodies(rows, page.readable) };
    }
    // Filters on any path: checked on each body, in slices read in a fixed order.
    const candidates = await this.raws.count(pre);
    if (candidates > this.config.eiffelApi.maxScan) {
      throw erError(
        HttpStatus.UNPROCESSABLE_ENTITY,
        `this filter would be checked on ${candidates} events, more than eiffelApi.maxScan (${this.config.eiffelApi.maxScan}); ` +
          'narrow it with meta.type=<type>, meta.id=<id> or links.target=<id>',
      );
    }
    const items: Body[] = [];
    let total = 0;
    for (let offset = 0; offset < candidates; offset += SCAN_CHUNK) {
      const rows = await this.raws.page(pre, offset, SCAN_CHUNK);
      for (const r of rows) {
        if (r.raw === null) continue;
        const event = JSON.parse(r.raw) as Body;
        if (!matchesAll(event, rest)) continue;
        if (total >= skip && items.length < page.pageSize) items.push(page.readable ? readableTime(event) : event);
        total++;
      }
      if (rows.length < SCAN_CHUNK) break;
    }
    return { pageNo: page.pageNo, pageSize: page.pageSize, totalNumberItems: total, items };
  }

  async search(id: string, rawQuery: string, body: unknown): Promise<ErSearch> {
    const q = guard(() => parseSearchQuery(rawQuery));
    const { dlt, ult } = guard(() => linkTypes(body));
    const [start] = await this.raws.rawOf([id]);
    if (!start || start.format !== 'eiffel') throw erNotFound(`The requested event is not found: no Eiffel event with id "${id}"`);
    if (start.raw === null) throw erNotFound(storedBefore(id));
    const cap = this.config.eiffelApi.maxSearchEvents;
    if (q.limit > cap) {
      throw erError(
        HttpStatus.BAD_REQUEST,
        `limit ${q.limit} is more than this repository answers at once (eiffelApi.maxSearchEvents: ${cap})`,
      );
    }
    const walk = async (direction: 'up' | 'down', types: readonly string[] | null) => {
      const order: string[] = [];
      const parentOf = new Map<string, string>();
      const bodies = new Map<string, string>([[id, start.raw!]]);
      if (types !== null && types.length === 0) return { order, parentOf, bodies, empty: true };
      let frontier = [id];
      const levels = q.levels === -1 ? Number.POSITIVE_INFINITY : q.levels;
      const limit = q.limit === -1 ? Number.POSITIVE_INFINITY : q.limit;
      for (let level = 0; level < levels && frontier.length && order.length < limit; level++) {
        const step = await this.eventReads.eventStepTyped(frontier, direction, types);
        const reached = new Map<string, string>();
        for (const l of step) {
          const other = direction === 'up' ? l.to : l.from;
          const from = direction === 'up' ? l.from : l.to;
          if (!bodies.has(other) && !reached.has(other)) reached.set(other, from);
        }
        const rows = await this.raws.rawOf([...reached.keys()]);
        const next: string[] = [];
        for (const r of rows) {
          // Only Eiffel events as they arrived are part of an Event Repository's answer.
          if (r.format !== 'eiffel' || r.raw === null || order.length >= limit) continue;
          if (q.limit === -1 && order.length >= cap) {
            throw erError(
              HttpStatus.UNPROCESSABLE_ENTITY,
              `the search from "${id}" reaches more than ${cap} events (eiffelApi.maxSearchEvents); ask with a limit or fewer levels`,
            );
          }
          bodies.set(r.id, r.raw);
          parentOf.set(r.id, reached.get(r.id)!);
          order.push(r.id);
          next.push(r.id);
        }
        frontier = next;
      }
      return { order, parentOf, bodies, empty: false };
    };
    const [up, down] = await Promise.all([walk('up', ult), walk('down', dlt)]);
    const shape = (w: Awaited<ReturnType<typeof walk>>): ErSearch['upstreamLinkObjects'] => {
      if (w.empty) return [];
      const bodyOf = (x: string): unknown => present(w.bodies.get(x)!, q.readable);
      // tree=false: the searched event, then every event reached (goer's document: "The searched event + all upsteam events").
      return q.tree ? buildTree(id, w.order, w.parentOf, bodyOf) : [id, ...w.order].map(bodyOf);
    };
    return { upstreamLinkObjects: shape(up), downstreamLinkObjects: shape(down) };
  }
}

/** The link types of a search body `{dlt, ult}`; `["ALL"]` (or ALL among others) follows every type. */
function linkTypes(body: unknown): { dlt: string[] | null; ult: string[] | null } {
  const b = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const list = (name: 'dlt' | 'ult'): string[] | null => {
    const v = b[name] ?? [];
    if (!Array.isArray(v) || v.length > 100) throw new QueryError(`${name} must be a list of link types such as ["CAUSE"] or ["ALL"]`);
    for (const t of v) {
      if (typeof t !== 'string' || !(t === 'ALL' || LINK_TYPE.test(t))) {
        throw new QueryError(`${name}: ${JSON.stringify(t)} is not a link type (upper case, e.g. CAUSE, CONTEXT, or ALL)`);
      }
    }
    return (v as string[]).includes('ALL') ? null : (v as string[]);
  };
  return { dlt: list('dlt'), ult: list('ult') };
}

/** Conditions the graph can answer by an index (exact meta.type, meta.id, links.target), the rest for the bodies. */
function prefilter(conditions: readonly Condition[]): { pre: RawPrefilter; rest: Condition[] } {
  const pre: { type?: string; id?: string; linkTarget?: string } = {};
  const rest: Condition[] = [];
  for (const c of conditions) {
    const exact = c.op === '=' && c.type === 'string' && !/[.*+?^$[\](){}|\\]/.test(c.value);
    const path = c.path.join('.');
    if (exact && path === 'meta.type' && pre.type === undefined) pre.type = c.value;
    else if (exact && path === 'meta.id' && pre.id === undefined) pre.id = c.value;
    else if (exact && path === 'links.target' && pre.linkTarget === undefined) pre.linkTarget = c.value;
    else rest.push(c);
  }
  return { pre, rest };
}

/** A stored Eiffel event: a JSON object, exactly as it arrived. */
type Body = Record<string, unknown>;

function bodies(rows: readonly RawEventRow[], readable: boolean): Body[] {
  return rows.filter((r) => r.raw !== null).map((r) => present(r.raw!, readable));
}

function present(raw: string, readable: boolean): Body {
  const event = JSON.parse(raw) as Body;
  return readable ? readableTime(event) : event;
}

/** `readable=true` (goer's document): meta.time as an ISO-8601 time instead of epoch milliseconds. */
function readableTime(event: Body): Body {
  const meta = (event as { meta?: { time?: unknown } }).meta;
  if (!meta || typeof meta.time !== 'number') return event;
  return { ...event, meta: { ...(event['meta'] as object), time: new Date(meta.time).toISOString() } };
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof QueryError) throw erError(HttpStatus.BAD_REQUEST, err.message);
    throw err;
  }
}

function storedBefore(id: string): string {
  return `event "${id}" was stored before this repository kept events as they arrived; replay the archive (traces replay) to fill it in`;
}

/** goer's OpenAPI document, `GET /events/{id}` response 404: `{"errorMsg": "The requested event is not found"}`. */
function erNotFound(message: string): HttpException {
  return erError(HttpStatus.NOT_FOUND, message);
}

function erError(status: HttpStatus, message: string): HttpException {
  return new HttpException({ errorMsg: message, statusCode: status }, status);
}
