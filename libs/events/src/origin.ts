import { FORMATS, isFormat, type Format, type Origin, type Rejection } from './model.js';

export type OriginResult = { readonly ok: true; readonly origin: Origin } | { readonly ok: false; readonly rejection: Rejection };

/** Header a publisher may set when its routing key has no format segment; the routing key wins when both are present. */
export const FORMAT_HEADER = 'x-not-format';

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * The central routing key grammar, `site.<siteId>.<source>.<format>[.<rest>]`: built here and read back by
 * {@link parseOrigin} (and, leniently, {@link routingKeySegments}), nowhere else.
 */
export function siteRoutingKey(site: string, source: string, format: Format | string): string {
  return `site.${site}.${source}.${format}`;
}

/** The binding key for everything one site publishes (or one of its sources), or every site's with no site. */
export function siteBindingKey(site?: string, source?: string): string {
  if (site === undefined) return 'site.#';
  return source === undefined ? `site.${site}.#` : `site.${site}.${source}.#`;
}

/** The segments of a routing key as far as they are there, for labels and routing that must never fail. */
export function routingKeySegments(routingKey: string): { site?: string; source?: string; format?: string } {
  const [prefix, site, source, format] = routingKey.split('.');
  if (prefix !== 'site') return {};
  return { site: site || undefined, source: source || undefined, format: format || undefined };
}

/**
 * Reads `site.<siteId>.<source>.<format>[.<rest>]`. The site part is trusted because the central broker
 * only lets a site publish under its own id.
 */
export function parseOrigin(routingKey: string, headers?: Readonly<Record<string, unknown>>): OriginResult {
  const { site, source, format: keyFormat } = routingKeySegments(routingKey);
  if (site === undefined || source === undefined) {
    return bad(`routing key "${routingKey}" does not have the form site.<siteId>.<source>.<format>[.<rest>]`);
  }
  if (!SEGMENT.test(site)) return bad(`routing key "${routingKey}" has an empty or invalid site id`);
  if (!SEGMENT.test(source)) return bad(`routing key "${routingKey}" has an empty or invalid source`);
  let format = keyFormat;
  let from = 'routing key';
  if (format === undefined) {
    const header = headers?.[FORMAT_HEADER];
    const text = typeof header === 'string' ? header : header instanceof Uint8Array ? new TextDecoder().decode(header) : undefined;
    if (text === undefined || text === '') {
      return bad(`routing key "${routingKey}" names no format and the ${FORMAT_HEADER} header is absent`);
    }
    format = text.trim().toLowerCase();
    from = `${FORMAT_HEADER} header`;
  }
  if (!isFormat(format)) {
    return bad(
      `unknown format "${format}" in the ${from}; expected one of ${FORMATS.join(', ')}`,
      from === 'routing key' ? 'routingKey' : `headers.${FORMAT_HEADER}`,
    );
  }
  return { ok: true, origin: { site, source, format } };
}

function bad(reason: string, field = 'routingKey'): OriginResult {
  return { ok: false, rejection: { reason, field } };
}
