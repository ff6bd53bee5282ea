import { FORMATS, isFormat, type Origin, type Rejection } from './model.js';

export type OriginResult = { readonly ok: true; readonly origin: Origin } | { readonly ok: false; readonly rejection: Rejection };

/** Header a publisher may set when its routing key has no format segment; the routing key wins when both are present. */
export const FORMAT_HEADER = 'x-not-format';

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * Reads `site.<siteId>.<source>.<format>[.<rest>]`. The site part is trusted because the central broker
 * only lets a site publish under its own id.
 */
export function parseOrigin(routingKey: string, headers?: Readonly<Record<string, unknown>>): OriginResult {
  const parts = routingKey.split('.');
  if (parts[0] !== 'site' || parts.length < 3) {
    return bad(`routing key "${routingKey}" does not have the form site.<siteId>.<source>.<format>[.<rest>]`);
  }
  const site = parts[1]!;
  const source = parts[2]!;
  if (!SEGMENT.test(site)) return bad(`routing key "${routingKey}" has an empty or invalid site id`);
  if (!SEGMENT.test(source)) return bad(`routing key "${routingKey}" has an empty or invalid source`);
  let format = parts[3];
  let from = 'routing key';
  if (format === undefined || format === '') {
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
