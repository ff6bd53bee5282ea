/**
 * The CloudEvents HTTP protocol binding (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md)
 * read at the relay's `cloudevents` endpoint, mapped onto the AMQP binding the correlator's CDEvents parser reads
 * (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/amqp-protocol-binding.md):
 *
 * - Binary mode (`ce-specversion` header): the body is the event data (the CDEvent) and is published unchanged;
 *   each `ce-<attr>` header travels as the AMQP application property `cloudEvents:<attr>` (the AMQP binding's
 *   name for it) and the HTTP `Content-Type` (the `datacontenttype`) as the AMQP content type.
 * - Structured mode (`Content-Type: application/cloudevents+json`): the body is one CloudEvent, published unchanged.
 * - Batch mode (`Content-Type: application/cloudevents-batch+json`): the body is a JSON array of CloudEvents,
 *   published unchanged as ONE message, which the parser reads as a batch. One message keeps the original bytes
 *   (the transport rule), is confirmed by the broker as a whole, so 202 means every event of the batch is
 *   stored, and a redelivery replays the whole batch idempotently (each event keeps its own source + id).
 */
import { createHash } from 'node:crypto';
import type { Headers } from './webhook.verifier.js';

type CloudEventsMode = 'binary' | 'structured' | 'batch';

export interface CloudEventsRequest {
  readonly mode: CloudEventsMode;
  /** AMQP content type to publish with. */
  readonly contentType: string;
  /** AMQP headers carrying the binary-mode attributes (`cloudEvents:<attr>`); empty in the other modes. */
  readonly attributes: Readonly<Record<string, string>>;
  /** `cloudevents:<source>|<id>` of a single event, else the body's SHA-256. */
  readonly deliveryId: string;
}

const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';
/** Largest attribute value copied into an AMQP header; CloudEvents attributes are short strings. */
const MAX_ATTRIBUTE = 4096;

function first(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Reads the mode and attributes of a CloudEvents HTTP request; the body must already be known to be JSON.
 * Returns a message naming what is wrong when the request is not a CloudEvent the relay can carry.
 */
export function readCloudEventsRequest(h: Headers, body: Buffer, json: unknown): CloudEventsRequest | string {
  const contentType = (first(h, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const specversion = first(h, 'ce-specversion');
  if (contentType === BATCH) {
    if (!Array.isArray(json)) return `a ${BATCH} body must be a JSON array of CloudEvents`;
    if (json.length === 0) return `the ${BATCH} body is an empty array`;
    return { mode: 'batch', contentType, attributes: {}, deliveryId: bodyHash(body) };
  }
  if (contentType === STRUCTURED) {
    if (!isObject(json)) return `a ${STRUCTURED} body must be one CloudEvent (a JSON object)`;
    const missing = ['specversion', 'id', 'source', 'type'].filter((a) => typeof json[a] !== 'string' || json[a] === '');
    if (missing.length) return `the CloudEvent lacks ${missing.join(', ')}`;
    return { mode: 'structured', contentType, attributes: {}, deliveryId: `cloudevents:${String(json['source'])}|${String(json['id'])}` };
  }
  if (specversion !== undefined) {
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(h)) {
      if (!name.startsWith('ce-')) continue;
      const v = Array.isArray(value) ? value[0] : value;
      if (v === undefined) continue;
      if (v.length > MAX_ATTRIBUTE) return `the ${name} header is longer than ${MAX_ATTRIBUTE} characters`;
      // Percent-encoded values (the HTTP binding's escaping of non-ASCII) are decoded.
      attributes[`cloudEvents:${name.slice(3)}`] = percentDecode(v);
    }
    const missing = ['id', 'source', 'type'].filter((a) => !attributes[`cloudEvents:${a}`]);
    if (missing.length) return `binary mode (ce-specversion given) lacks ${missing.map((a) => `ce-${a}`).join(', ')}`;
    if (contentType !== '' && contentType !== 'application/json' && !contentType.endsWith('+json')) {
      return `the event data must be JSON (a CDEvent), not ${contentType}`;
    }
    return {
      mode: 'binary',
      contentType: contentType || 'application/json',
      attributes,
      deliveryId: `cloudevents:${attributes['cloudEvents:source']}|${attributes['cloudEvents:id']}`,
    };
  }
  return `not a CloudEvent: use binary mode (ce-specversion, ce-id, ce-source, ce-type headers), or Content-Type ${STRUCTURED} or ${BATCH}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bodyHash(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

function percentDecode(v: string): string {
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
