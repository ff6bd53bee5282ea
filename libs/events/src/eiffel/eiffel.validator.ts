/**
 * A validator for the subset of JSON Schema (2020-12) that the official Eiffel schemas use:
 * type, properties, required, additionalProperties (boolean), items, enum, pattern and contains.
 * The schemas themselves are embedded by `eiffel-schemas.generated.ts`; a unit test checks that this
 * validator and a full JSON Schema implementation agree on every example and on broken variants.
 */
import { EIFFEL_SCHEMAS } from './eiffel-schemas.generated.js';

export interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | SchemaNode;
  readonly items?: SchemaNode;
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly contains?: SchemaNode;
}

export interface SchemaIssue {
  /** Dotted path of the offending value, e.g. `data.gitIdentifier.commitId` or `links[2].target`. */
  readonly field: string;
  readonly message: string;
}

const patterns = new Map<string, RegExp>();

function regex(source: string): RegExp {
  let re = patterns.get(source);
  if (!re) {
    re = new RegExp(source, 'u');
    patterns.set(source, re);
  }
  return re;
}

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    default:
      return true;
  }
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function at(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

/** Validates `value` against `schema`, appending issues; stops early after `limit` issues. */
function validateAgainst(schema: SchemaNode, value: unknown, path = '', issues: SchemaIssue[] = [], limit = 20): SchemaIssue[] {
  if (issues.length >= limit) return issues;
  if (schema.type !== undefined) {
    const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((t) => typeOk(t, value))) {
      issues.push({ field: path, message: `expected ${types.join(' or ')}` });
      return issues;
    }
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => equal(e, value))) {
    issues.push({ field: path, message: `expected one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}` });
  }
  if (typeof value === 'string' && schema.pattern !== undefined && !regex(schema.pattern).test(value)) {
    issues.push({ field: path, message: `does not match the pattern ${schema.pattern}` });
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) {
      if (!Object.prototype.hasOwnProperty.call(obj, r)) issues.push({ field: at(path, r), message: 'required property is missing' });
    }
    const props = schema.properties ?? {};
    for (const key of Object.keys(obj)) {
      const sub = Object.prototype.hasOwnProperty.call(props, key) ? props[key] : undefined;
      if (sub !== undefined) validateAgainst(sub, obj[key], at(path, key), issues, limit);
      else if (schema.additionalProperties === false) issues.push({ field: at(path, key), message: 'property is not allowed here' });
      else if (typeof schema.additionalProperties === 'object')
        validateAgainst(schema.additionalProperties, obj[key], at(path, key), issues, limit);
      if (issues.length >= limit) return issues;
    }
  }
  if (Array.isArray(value)) {
    if (schema.items !== undefined) {
      for (let i = 0; i < value.length && issues.length < limit; i++) validateAgainst(schema.items, value[i], at(path, i), issues, limit);
    }
    if (schema.contains !== undefined) {
      const c = schema.contains;
      if (!value.some((v) => validateAgainst(c, v, '', [], 1).length === 0)) {
        issues.push({ field: path, message: `must contain at least one item matching ${describeContains(c)}` });
      }
    }
  }
  return issues;
}

function describeContains(s: SchemaNode): string {
  const t = s.properties?.['type']?.enum;
  return t ? `type ${t.map((x) => String(x)).join(' or ')} (a required link)` : 'the schema';
}

/** The event types (and the one version of each) the embedded schemas describe. */
export function eiffelSchemaVersion(type: string): string | undefined {
  const s = Object.prototype.hasOwnProperty.call(EIFFEL_SCHEMAS, type) ? EIFFEL_SCHEMAS[type] : undefined;
  const v = s?.properties?.['meta']?.properties?.['version']?.enum?.[0];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Checks an Eiffel event against the official schema of its type. Returns the issues (empty when valid);
 * an unknown type yields a single issue on `meta.type`.
 */
export function validateEiffel(event: unknown): SchemaIssue[] {
  const type = (event as { meta?: { type?: unknown } } | null)?.meta?.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(EIFFEL_SCHEMAS, type)) {
    return [{ field: 'meta.type', message: 'no official schema for this event type' }];
  }
  return validateAgainst(EIFFEL_SCHEMAS[type]!, event);
}
