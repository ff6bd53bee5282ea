import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

const store = new AsyncLocalStorage<{ readonly requestId: string }>();

/** The id of the HTTP request being handled, if any: every log line written for it carries it. */
export function currentRequestId(): string | undefined {
  return store.getStore()?.requestId;
}

/** Runs `fn` as the handling of request `requestId`. */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return store.run({ requestId }, fn);
}

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's `x-request-id` when it is a sane token (a proxy's or a client's), otherwise a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && SAFE_ID.test(given) ? given : randomUUID();
}
