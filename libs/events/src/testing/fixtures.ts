/**
 * Test helpers: where the shared and local fixtures live, and a factory for inbound messages.
 * Only the spec files import this; it is not part of the library's public door.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Format, InboundMessage, ParseResult, TraceEvent } from '../model.js';

/** `$NOT_SHARED_DIR` when set, else `../shared` next to the repository root (tests run from the root). */
function sharedDir(): string {
  const env = process.env['NOT_SHARED_DIR'];
  return env ? resolve(env) : resolve(process.cwd(), '..', 'shared');
}

export function eiffelFixturesDir(): string {
  return join(sharedDir(), 'fixtures', 'eiffel');
}

/** The library's own third-party samples: `libs/events/fixtures/<format>/`. */
function localFixturesDir(format: string): string {
  return resolve(process.cwd(), 'libs', 'events', 'fixtures', format);
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

/** `{ file, json }` for every `.json` file of a local fixture folder, sorted by name. */
export function localSamples(format: string): { file: string; json: unknown; text: string }[] {
  const dir = localFixturesDir(format);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      return { file, json: JSON.parse(text) as unknown, text };
    });
}

/** Every Eiffel example as `{ type, file, event }`. */
export function eiffelExamples(): { type: string; file: string; event: Record<string, unknown> }[] {
  const base = join(eiffelFixturesDir(), 'examples');
  return readdirSync(base)
    .sort()
    .flatMap((type) =>
      readdirSync(join(base, type))
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((file) => ({ type, file, event: readJson(join(base, type, file)) as Record<string, unknown> })),
    );
}

export interface MessageOptions {
  readonly site?: string;
  readonly source?: string;
  readonly headers?: Record<string, unknown>;
  readonly routingKey?: string;
}

/** A message as the central broker delivers it; `body` may be bytes, text or a value to serialise. */
export function message(format: Format, body: unknown, o: MessageOptions = {}): InboundMessage {
  const bytes = body instanceof Uint8Array ? body : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
  return {
    body: bytes,
    headers: o.headers ?? {},
    routingKey: o.routingKey ?? `site.${o.site ?? 'lund'}.${o.source ?? 'ci1'}.${format}`,
  };
}

/** The events of an accepted result; fails the test with the rejection otherwise. */
export function accepted(r: ParseResult): readonly TraceEvent[] {
  if (!r.ok) throw new Error(`expected the message to be accepted, was rejected: ${r.rejection.field ?? ''} ${r.rejection.reason}`);
  return r.events;
}

/** The one event of an accepted result. */
export function single(r: ParseResult): TraceEvent {
  const events = accepted(r);
  if (events.length !== 1) throw new Error(`expected one event, got ${events.length}`);
  return events[0]!;
}

export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
