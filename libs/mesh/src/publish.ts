import { publishConfirmed, type PublishItem } from '@not/messaging';
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

/** Publishes events to a site's source exchange with publisher confirms; returns how many were confirmed. */
export async function publishToSite(status: MeshStatus, siteId: string, sourceName: string, bodies: readonly Buffer[]): Promise<number> {
  const site = status.sites.find((s) => s.id === siteId);
  if (!site) throw new Error(`no site "${siteId}" in the mesh (sites: ${status.sites.map((s) => s.id).join(', ')})`);
  const source = site.sources.find((s) => s.name === sourceName);
  if (!source) throw new Error(`site ${siteId} has no source "${sourceName}" (sources: ${site.sources.map((s) => s.name).join(', ')})`);
  const items: PublishItem[] = bodies.map((body) => ({ body, routingKey: toolRoutingKey(body), contentType: 'application/json' }));
  await publishConfirmed(site.amqp, source.exchange, items);
  return items.length;
}
