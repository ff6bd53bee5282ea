import { Inject, Injectable } from '@nestjs/common';
import { EventReads, EventSearchReads, RawEventReads, type EventFilter, type EventRow, type LinkRow } from '@not/graph';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';
import { notFound } from './trace.service.js';
import type { EiffelEventDto, EventsPageDto, SearchDto } from './api.schemas.js';

export interface SearchRequest {
  readonly dlt: readonly string[];
  readonly ult: readonly string[];
  readonly levels: number;
  readonly limit: number;
}

const META_PROPS = new Set(['version', 'domainId', 'sourceName', 'sourceHost', 'sourceUri', 'tags', 'knownType', 'missingLinks']);

/** Eiffel event-repository reads: one event, events by type with paging, and the upstream / downstream search. */
@Injectable()
export class EiffelService {
  constructor(
    private readonly eventReads: EventReads,
    private readonly searchReads: EventSearchReads,
    private readonly raws: RawEventReads,
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
  ) {}

  async byId(id: string): Promise<EiffelEventDto> {
    const [e] = await this.eventReads.events([id]);
    if (!e)
      throw notFound(`no event with id "${id}"`, [
        'an event is stored once the correlator has consumed it; a link to an event not yet seen is a placeholder',
      ]);
    const links = await this.eventReads.linksOf([id]);
    return toEiffel(e, links);
  }

  /** The body an event arrived in (every format): the JSON text as received. */
  async raw(id: string): Promise<string> {
    const [row] = await this.raws.rawOf([id]);
    if (!row) throw notFound(`no event with id "${id}"`, ['an event is stored once the correlator has consumed it']);
    if (row.raw === null) {
      throw notFound(`event "${id}" was stored before the explorer kept bodies as they arrived`, [
        'replay the archive (traces replay) to fill the bodies in; the canonical event stays at GET /api/v1/events/{id}',
      ]);
    }
    return row.raw;
  }

  async page(filter: EventFilter, pageNo: number, pageSize: number): Promise<EventsPageDto> {
    const { total, items } = await this.searchReads.eventsPage(filter, (pageNo - 1) * pageSize, pageSize);
    const links = await this.eventReads.linksOf(items.map((e) => e.id));
    return { pageNo, pageSize, totalNumberItems: total, items: items.map((e) => toEiffel(e, links)) };
  }

  async search(id: string, req: SearchRequest): Promise<SearchDto> {
    const [root] = await this.eventReads.events([id]);
    if (!root) throw notFound(`no event with id "${id}"`, ['search starts from an event that is in the graph']);
    const walk = async (direction: 'up' | 'down', types: readonly string[]): Promise<string[]> => {
      if (types.length === 0) return [];
      const all = types.includes('ALL') ? null : types;
      const seen = new Set([id]);
      const order: string[] = [];
      let frontier = [id];
      for (let level = 0; level < req.levels && frontier.length && order.length < req.limit; level++) {
        const next: string[] = [];
        for (const l of await this.eventReads.eventStepTyped(frontier, direction, all)) {
          const other = direction === 'up' ? l.to : l.from;
          if (seen.has(other) || order.length >= req.limit) continue;
          seen.add(other);
          order.push(other);
          next.push(other);
        }
        frontier = next;
      }
      return order;
    };
    const [up, down] = await Promise.all([walk('up', req.ult), walk('down', req.dlt)]);
    const ids = [...new Set([...up, ...down])];
    const [rows, links] = await Promise.all([this.eventReads.events(ids), this.eventReads.linksOf(ids)]);
    const byId = new Map(rows.map((e) => [e.id, toEiffel(e, links)]));
    const pick = (list: string[]): EiffelEventDto[] => list.map((x) => byId.get(x)).filter((x): x is EiffelEventDto => !!x);
    return { upstreamLinkObjects: pick(up), downstreamLinkObjects: pick(down) };
  }

  get maxLevels(): number {
    return this.config.limits.walkSteps;
  }
}

function toEiffel(e: EventRow, links: readonly LinkRow[]): EiffelEventDto {
  const p = e.props;
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (!META_PROPS.has(k)) data[k] = v;
  const source: Record<string, unknown> = {};
  if (p['domainId'] !== undefined) source['domainId'] = p['domainId'];
  if (p['sourceName'] !== undefined) source['name'] = p['sourceName'];
  if (p['sourceHost'] !== undefined) source['host'] = p['sourceHost'];
  if (p['sourceUri'] !== undefined) source['uri'] = p['sourceUri'];
  return {
    meta: {
      id: e.id,
      type: e.type,
      version: typeof p['version'] === 'string' ? p['version'] : null,
      time: Date.parse(e.time),
      ...(p['tags'] !== undefined ? { tags: p['tags'] } : {}),
      ...(Object.keys(source).length ? { source } : {}),
    },
    data,
    links: links.filter((l) => l.from === e.id).map((l) => ({ type: l.type, target: l.to })),
    trace: { stage: e.stage, phase: e.phase, outcome: e.outcome, site: e.site, source: e.source, format: e.format },
  };
}
