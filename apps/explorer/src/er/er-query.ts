/**
 * The Event Repository's query language, as eiffel-goer's OpenAPI document (api/openapi-spec.yaml,
 * `GET /events`, parameter `params`) and its grammar (internal/query/query.peg) define it:
 * `key[.key…]<op>value` joined by `&`, op one of `= != > < >= <=` (`<`/`>` may arrive as `%3C`/`%3E`),
 * `int(key)`, `double(key)` or `bool(key)` for typed comparisons, `key` alone for "has the field" and
 * `!key` for "has not". Pure functions: a condition is data, evaluated on an event's parsed body; nothing
 * here ever becomes query text.
 */

type FilterOp = '=' | '!=' | '>' | '<' | '>=' | '<=' | 'exists' | 'missing';
type FilterType = 'string' | 'int' | 'double' | 'bool';

export interface Condition {
  readonly path: readonly string[];
  readonly op: FilterOp;
  readonly value: string;
  readonly type: FilterType;
}

/** The paging and presentation parameters of `GET /events` (defaults from goer's OpenAPI document). */
interface PageParams {
  readonly pageNo: number;
  readonly pageSize: number;
  readonly pageStartItem: number;
  readonly readable: boolean;
}

const DEFAULT_PAGE_SIZE = 500;

/** Parameters that are not filters (goer's `MultipleEventsRequest` schema tags, plus the search's). */
const RESERVED = new Set(['pageNo', 'pageSize', 'pageStartItem', 'lazy', 'readable', 'shallow', 'limit', 'levels', 'tree']);
/** Only paths into an Eiffel event are filters; any other parameter (a proxy's, a tool's) is ignored. */
const EVENT_MEMBERS = new Set(['meta', 'data', 'links']);

const CONDITION =
  /^(?:(?<conv>int|double|bool)\((?<tfield>[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\)|(?<field>[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*))(?<op>!=|>=|<=|>|<|=)(?<value>.*)$/s;
const BARE = /^(?<not>!?)(?<field>[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)$/;

export class QueryError extends Error {}

/** Splits a raw query string (without `?`) into filters and paging; problems are reported, never guessed. */
export function parseEventsQuery(rawQuery: string, maxPageSize: number): { conditions: Condition[]; page: PageParams } {
  const conditions: Condition[] = [];
  const named = new Map<string, string>();
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const text = decode(part);
    const bare = BARE.exec(text);
    if (bare?.groups) {
      const path = bare.groups['field']!.split('.');
      if (EVENT_MEMBERS.has(path[0]!)) {
        conditions.push({ path, op: bare.groups['not'] ? 'missing' : 'exists', value: '', type: 'bool' });
      }
      continue;
    }
    const m = CONDITION.exec(text);
    if (!m?.groups) continue;
    const field = m.groups['tfield'] ?? m.groups['field']!;
    const op = m.groups['op'] as FilterOp;
    const value = m.groups['value']!;
    if (op === '=' && RESERVED.has(field)) {
      named.set(field, value);
      continue;
    }
    const path = field.split('.');
    if (!EVENT_MEMBERS.has(path[0]!)) continue;
    if (value.length > 1024) throw new QueryError(`filter ${field}: the value is longer than 1024 characters`);
    const type = (m.groups['conv'] ?? 'string') as FilterType;
    if (type === 'int' && !/^[+-]?\d+$/.test(value)) throw new QueryError(`filter int(${field}): "${value}" is not a whole number`);
    if (type === 'double' && !Number.isFinite(Number(value))) throw new QueryError(`filter double(${field}): "${value}" is not a number`);
    if (type === 'bool' && value !== 'true' && value !== 'false')
      throw new QueryError(`filter bool(${field}): "${value}" is not true or false`);
    conditions.push({ path, op, value, type });
  }
  const int = (name: string, dflt: number, min: number, max: number): number => {
    const v = named.get(name);
    if (v === undefined || v === '') return dflt;
    if (!/^-?\d{1,9}$/.test(v)) throw new QueryError(`${name} must be a whole number, got "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw new QueryError(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
  const bool = (name: string): boolean => {
    const v = named.get(name);
    if (v === undefined || v === '') return false;
    if (v !== 'true' && v !== 'false') throw new QueryError(`${name} must be true or false, got "${v}"`);
    return v === 'true';
  };
  bool('lazy');
  bool('shallow');
  return {
    conditions,
    page: {
      pageNo: int('pageNo', 1, 1, 1_000_000),
      pageSize: int('pageSize', DEFAULT_PAGE_SIZE, 1, maxPageSize),
      pageStartItem: int('pageStartItem', 1, 1, 1_000_000_000),
      readable: bool('readable'),
    },
  };
}

/** The search's query parameters: `limit` and `levels` (-1 = unbounded, goer's default), `tree`. */
export function parseSearchQuery(rawQuery: string): { limit: number; levels: number; tree: boolean; readable: boolean } {
  const named = new Map<string, string>();
  for (const part of rawQuery.split('&')) {
    const i = part.indexOf('=');
    if (i > 0) named.set(decode(part.slice(0, i)), decode(part.slice(i + 1)));
  }
  const bound = (name: string): number => {
    const v = named.get(name);
    if (v === undefined || v === '' || v === '-1') return -1;
    if (!/^\d{1,9}$/.test(v) || Number(v) === 0)
      throw new QueryError(`${name} must be -1 (no limit) or a positive whole number, got "${v}"`);
    return Number(v);
  };
  const bool = (name: string): boolean => {
    const v = named.get(name);
    if (v === undefined || v === '') return false;
    if (v !== 'true' && v !== 'false') throw new QueryError(`${name} must be true or false, got "${v}"`);
    return v === 'true';
  };
  bool('shallow');
  return { limit: bound('limit'), levels: bound('levels'), tree: bool('tree'), readable: bool('readable') };
}

/** True when the event (its parsed body) meets every condition. */
export function matchesAll(event: unknown, conditions: readonly Condition[]): boolean {
  return conditions.every((c) => matches(event, c));
}

function matches(event: unknown, c: Condition): boolean {
  const values = valuesAt(event, c.path);
  switch (c.op) {
    case 'exists':
      return values.length > 0;
    case 'missing':
      return values.length === 0;
    case '!=':
      return !values.some((v) => equals(v, c));
    case '=':
      return values.some((v) => equals(v, c));
    case '>':
    case '<':
    case '>=':
    case '<=':
      return values.some((v) => compare(v, c));
  }
}

/** Every value at a dotted path; arrays on the way are looked into (`links.target` is any link's target). */
function valuesAt(value: unknown, path: readonly string[]): unknown[] {
  let current: unknown[] = [value];
  for (const key of path) {
    const next: unknown[] = [];
    for (const v of current.flatMap((x) => (Array.isArray(x) ? (x as unknown[]) : [x]))) {
      if (v !== null && typeof v === 'object' && Object.hasOwn(v, key)) next.push((v as Record<string, unknown>)[key]);
    }
    current = next;
  }
  return current.flatMap((x) => (Array.isArray(x) ? (x as unknown[]) : [x])).filter((x) => x !== undefined && x !== null);
}

const REGEX_CHARS = /[.*+?^$[\](){}|\\]/;

function equals(v: unknown, c: Condition): boolean {
  if (c.type !== 'string') return compare(v, { ...c, op: '=' });
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return false;
  const s = String(v);
  if (s === c.value) return true;
  // goer's document: a value may be a regular expression, matched anywhere in the field ("partial match").
  if (!REGEX_CHARS.test(c.value) || s.length > 4096) return false;
  const re = regex(c.value);
  return re !== null && re.test(s);
}

function compare(v: unknown, c: Condition): boolean {
  let a: number | string | boolean;
  let b: number | string | boolean;
  if (c.type === 'int' || c.type === 'double') {
    if (typeof v !== 'number' && typeof v !== 'string') return false;
    a = Number(v);
    b = Number(c.value);
    if (!Number.isFinite(a)) return false;
  } else if (c.type === 'bool') {
    if (typeof v !== 'boolean') return false;
    a = v;
    b = c.value === 'true';
    if (c.op !== '=' && c.op !== '!=') return false;
  } else if (typeof v === 'number' && c.value.trim() !== '' && Number.isFinite(Number(c.value))) {
    // A number in the event (meta.time) against a number in the filter: compared as numbers.
    a = v;
    b = Number(c.value);
  } else {
    if (typeof v !== 'string') return false;
    a = v;
    b = c.value;
  }
  switch (c.op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    case 'exists':
    case 'missing':
      return false;
  }
}

const regexCache = new Map<string, RegExp | null>();

function regex(source: string): RegExp | null {
  if (!regexCache.has(source)) {
    let re: RegExp | null;
    try {
      re = new RegExp(source);
    } catch {
      re = null;
    }
    if (regexCache.size > 500) regexCache.clear();
    regexCache.set(source, re);
  }
  return regexCache.get(source) ?? null;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
