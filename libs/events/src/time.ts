import { fail } from './errors.js';

/** Latest instant we accept (year 9999) so that `toISOString` never throws. */
const MAX_MS = 253402300799999;

/** Epoch milliseconds to ISO-8601 UTC; fails with the field when out of range. */
export function isoFromMillis(ms: number, field: string): string {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_MS) fail(`expected a time in epoch milliseconds, got ${ms}`, field);
  return new Date(Math.trunc(ms)).toISOString();
}

/** Any ISO-8601 / RFC 3339 / RFC 2822 date text to ISO-8601 UTC; fails with the field when unreadable. */
export function isoFromText(text: string, field: string): string {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) fail(`expected a date-time, got "${text.slice(0, 40)}"`, field);
  return isoFromMillis(ms, field);
}

/** Seconds or milliseconds since the epoch (told apart by magnitude) to ISO-8601 UTC. */
export function isoFromEpoch(value: number, field: string): string {
  return isoFromMillis(value < 1e11 ? value * 1000 : value, field);
}
