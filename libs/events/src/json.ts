/**
 * Typed, path-aware readers over parsed JSON. Each reader either returns a value of the
 * promised type or fails with a rejection that names the field and what was expected.
 */
import { fail } from './errors.js';

export type Json = null | boolean | number | string | readonly Json[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: Json | undefined;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return v.length > 40 ? `a string ("${v.slice(0, 37)}...")` : `a string ("${v}")`;
  if (typeof v === 'number') return `a number (${v})`;
  if (typeof v === 'boolean') return `a boolean (${v})`;
  return typeof v;
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function asObject(v: unknown, path: string): JsonObject {
  if (!isObject(v)) fail(`expected an object, got ${describe(v)}`, path || undefined);
  return v;
}

export function reqObject(o: JsonObject, key: string, path: string): JsonObject {
  const v = o[key];
  if (v === undefined) fail('required object is missing', join(path, key));
  return asObject(v, join(path, key));
}

export function optObject(o: JsonObject, key: string, path: string): JsonObject | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return asObject(v, join(path, key));
}

export function reqString(o: JsonObject, key: string, path: string): string {
  const v = o[key];
  if (v === undefined || v === null) fail('required string is missing', join(path, key));
  if (typeof v !== 'string') fail(`expected a string, got ${describe(v)}`, join(path, key));
  if (v.trim() === '') fail('expected a non-empty string', join(path, key));
  return v;
}

export function optString(o: JsonObject, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`expected a string, got ${describe(v)}`, join(path, key));
  return v === '' ? undefined : v;
}

/** A string or a number (some tools send ids and build numbers either way); returned as a string. */
export function optId(o: JsonObject, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') fail(`expected a string or a number, got ${describe(v)}`, join(path, key));
  return v === '' ? undefined : v;
}

export function reqId(o: JsonObject, key: string, path: string): string {
  const v = optId(o, key, path);
  if (v === undefined) fail('required value is missing', join(path, key));
  return v;
}

export function optNumber(o: JsonObject, key: string, path: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`expected a number, got ${describe(v)}`, join(path, key));
  return v;
}

export function reqNumber(o: JsonObject, key: string, path: string): number {
  const v = optNumber(o, key, path);
  if (v === undefined) fail('required number is missing', join(path, key));
  return v;
}

export function optBoolean(o: JsonObject, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') fail(`expected a boolean, got ${describe(v)}`, join(path, key));
  return v;
}

export function optArray(o: JsonObject, key: string, path: string): readonly Json[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(`expected an array, got ${describe(v)}`, join(path, key));
  return v as readonly Json[];
}

export function reqArray(o: JsonObject, key: string, path: string): readonly Json[] {
  const v = o[key];
  if (v === undefined || v === null) fail('required array is missing', join(path, key));
  if (!Array.isArray(v)) fail(`expected an array, got ${describe(v)}`, join(path, key));
  return v as readonly Json[];
}

/** An array of strings; entries of another type fail with their index. */
export function optStrings(o: JsonObject, key: string, path: string): string[] {
  const arr = optArray(o, key, path);
  return arr.map((v, i) => {
    if (typeof v !== 'string') fail(`expected a string, got ${describe(v)}`, join(join(path, key), i));
    return v;
  });
}
