import { openPublisher, publishConfirmed, type PublishItem } from '@not/messaging';
import type { MeshStatus } from './mesh.js';

/** Splits a JSON array or NDJSON text into one body per event, keeping each event's bytes as given. */
export function splitEvents(text: string, name: string): Buffer[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error(`${name} is empty`);
  if (trimmed.startsWith('[')) {
    let list: unknown;
    try {
      list = JSON.parse(trimmed);
    } catch (err) {
      throw new Error(`${name} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    if (!Array.isArray(list)) throw new Error(`${name}: expected a JSON array of events`);
    return list.map((e) => Buffer.from(JSON.stringify(e)));
  }
  return trimmed
    .split('\n')
    .map((line, i) => ({ line: line.trim(), i }))
    .filter(({ line }) => line !== '')
    .map(({ line, i }) => {
      try {
        JSON.parse(line);
      } catch (err) {
        throw new Error(`${name} line ${i + 1} is not valid JSON: ${(err as Error).message}`, { cause: err });
      }
      return Buffer.from(line);
    });
}

/** The routing key a tool would use on its own exchange: the Eiffel type, the CloudEvents type, or `event`. */
function toolRoutingKey(body: Buffer): string {
  try {
    const j = JSON.parse(body.toString('utf8')) as { meta?: { type?: unknown }; type?: unknown; context?: { type?: unknown } };
    const t = j.meta?.type ?? j.context?.type ?? j.type;
    return typeof t === 'string' && /^[\w.-]+$/.test(t) ? t : 'event';
  } catch {
    return 'event';
  }
}

/** A site source's exchange: the broker URL and the exchange name, or an error naming what is missing. */
function siteSource(status: MeshStatus, siteId: string, sourceName: string): { amqp: string; exchange: string } {
  const site = status.sites.find((s) => s.id === siteId);
  if (!site) throw new Error(`no site "${siteId}" in the mesh (sites: ${status.sites.map((s) => s.id).join(', ')})`);
  const source = site.sources.find((s) => s.name === sourceName);
  if (!source) throw new Error(`site ${siteId} has no source "${sourceName}" (sources: ${site.sources.map((s) => s.name).join(', ')})`);
  return { amqp: site.amqp, exchange: source.exchange };
}

function itemsOf(bodies: readonly Buffer[]): PublishItem[] {
  return bodies.map((body) => ({ body, routingKey: toolRoutingKey(body), contentType: 'application/json' }));
}

/** Publishes events to a site's source exchange with publisher confirms; returns how many were confirmed. */
export async function publishToSite(status: MeshStatus, siteId: string, sourceName: string, bodies: readonly Buffer[]): Promise<number> {
  const { amqp, exchange } = siteSource(status, siteId, sourceName);
  const items = itemsOf(bodies);
  await publishConfirmed(amqp, exchange, items);
  return items.length;
}

/** A publisher kept open to a site's source exchange, as a tool keeps its connection: for steady streams. */
export interface SitePublisher {
  /** Publishes with publisher confirms; returns how many were confirmed. */
  publish(bodies: readonly Buffer[]): Promise<number>;
  close(): Promise<void>;
}

export async function openSitePublisher(status: MeshStatus, siteId: string, sourceName: string): Promise<SitePublisher> {
  const { amqp, exchange } = siteSource(status, siteId, sourceName);
  const publisher = await openPublisher(amqp, exchange);
  return {
    publish: async (bodies) => {
      const items = itemsOf(bodies);
      await publisher.publish(items);
      return items.length;
    },
    close: () => publisher.close(),
  };
}
