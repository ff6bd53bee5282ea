import type { ParseContext } from './context.js';
import { ParseFailure } from './errors.js';
import type { Json } from './json.js';
import type { InboundMessage, ParseOptions, ParseResult, TraceEvent } from './model.js';
import { parseOrigin } from './origin.js';
import { FORMAT_PARSERS, sniffFormat } from './formats.js';
import { applyArtifactBuilds } from './provenance.js';

export const DEFAULT_MAX_BYTES = 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses one message into canonical trace events. Never throws: every problem with the input comes back
 * as a rejection that says which field was wrong and what was expected.
 */
export function parseMessage(msg: InboundMessage, options: ParseOptions = {}): ParseResult {
  try {
    return parseOrThrow(msg, options);
  } catch (e) {
    if (e instanceof ParseFailure) return { ok: false, rejection: e.rejection };
    const what = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      rejection: { reason: `the parser could not read this message (${what}); please report it with the message attached` },
    };
  }
}

function parseOrThrow(msg: InboundMessage, options: ParseOptions): ParseResult {
  const routingKey = typeof msg?.routingKey === 'string' ? msg.routingKey : '';
  const headers = msg?.headers && typeof msg.headers === 'object' ? msg.headers : {};
  const origin = parseOrigin(routingKey, headers);
  if (!origin.ok) return origin;
  const body = msg.body;
  if (!(body instanceof Uint8Array)) return reject('expected the message body as bytes', 'body');
  const max = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (body.byteLength > max) {
    return reject(`body is ${body.byteLength} bytes, more than the limit of ${max} bytes; raise maxBytes or send smaller messages`, 'body');
  }
  if (body.byteLength === 0) return reject('body is empty; expected a JSON document', 'body');
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return reject('body is not valid UTF-8 text', 'body');
  }
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (e) {
    return reject(`body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, 'body');
  }
  const ctx: ParseContext = { origin: origin.origin, headers, options, body, warnings: [] };
  const format = origin.origin.format;
  let events: TraceEvent[];
  try {
    events = FORMAT_PARSERS[format](ctx, json);
  } catch (e) {
    if (e instanceof ParseFailure) {
      const other = sniffFormat(json, headers);
      if (other !== undefined && other !== format) {
        return reject(
          `the routing key says ${format} but the body looks like ${other} (${e.rejection.field ? `${e.rejection.field}: ` : ''}${e.rejection.reason}); publish it under the ${other} format`,
          e.rejection.field,
        );
      }
    }
    throw e;
  }
  for (const ev of events) {
    if (typeof ev.id !== 'string' || ev.id === '') return reject(`a ${format} event came out without an id`, 'id');
  }
  return { ok: true, events: applyArtifactBuilds(events, options.artifactBuilds), warnings: ctx.warnings };
}

function reject(reason: string, field?: string): ParseResult {
  return { ok: false, rejection: field === undefined ? { reason } : { reason, field } };
}
