import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parseMessage } from '../parse.js';
import { clone, eiffelExamples, eiffelFixturesDir, message } from '../testing/fixtures.js';
import { eiffelSchemaVersion, validateEiffel } from './eiffel.validator.js';

type Event = Record<string, any>;

const ajv = new Ajv2020({ strict: false, allErrors: true });
const official = new Map<string, ValidateFunction>();

function officialValidator(type: string): ValidateFunction {
  let v = official.get(type);
  if (!v) {
    const schema = JSON.parse(readFileSync(join(eiffelFixturesDir(), 'schemas', `${type}.json`), 'utf8')) as object;
    v = ajv.compile(schema);
    official.set(type, v);
  }
  return v;
}

function officialOk(e: Event): boolean {
  return officialValidator(e['meta'].type as string)(e) === true;
}

/** The example moved to the version the official schema describes, so that more than the version is compared. */
function current(e: Event): Event {
  const c = clone(e);
  c['meta'].version = eiffelSchemaVersion(c['meta'].type as string);
  return c;
}

/** Deliberately broken variants of a valid event, each with a name. */
function brokenVariants(e: Event): [string, Event][] {
  const out: [string, Event][] = [];
  const v = (name: string, f: (c: Event) => void): void => {
    const c = clone(e);
    f(c);
    out.push([name, c]);
  };
  v('no meta.id', (c) => delete c['meta'].id);
  v('meta.id not a uuid', (c) => (c['meta'].id = 'not-a-uuid'));
  v('meta.time a string', (c) => (c['meta'].time = '2024-01-01'));
  v('meta.time fractional', (c) => (c['meta'].time = 1.5));
  v('old version', (c) => (c['meta'].version = '0.0.1'));
  v('unknown meta property', (c) => (c['meta'].extra = true));
  v('unknown data property', (c) => (c['data'].notInTheSchema = 1));
  v('data an array', (c) => (c['data'] = []));
  v('links an object', (c) => (c['links'] = {}));
  v('no links', (c) => delete c['links']);
  v('link target not a uuid', (c) => c['links'].push({ type: 'CAUSE', target: 'nope' }));
  v('link without type', (c) => c['links'].push({ target: 'aaaaaaaa-bbbb-5ccc-8ddd-eeeeeeeeeee9' }));
  v('links emptied', (c) => (c['links'] = []));
  v('meta.tags a string', (c) => (c['meta'].tags = 'x'));
  v('source serializer not a purl', (c) => (c['meta'].source = { serializer: 'maven' }));
  for (const key of Object.keys(e['data'] as object)) {
    v(`no data.${key}`, (c) => delete c['data'][key]);
    v(`data.${key} a number`, (c) => (c['data'][key] = 7));
    v(`data.${key} null`, (c) => (c['data'][key] = null));
  }
  return out;
}

describe('Eiffel validation agrees with the official schemas', () => {
  const examples = eiffelExamples();

  it('agrees on every example as published (older versions included)', () => {
    for (const ex of examples) {
      assert.equal(validateEiffel(ex.event).length === 0, officialOk(ex.event), `${ex.type}/${ex.file}`);
    }
  });

  it('agrees on every example moved to the current schema version, and most of them are valid', () => {
    let valid = 0;
    for (const ex of examples) {
      const e = current(ex.event);
      const mine = validateEiffel(e).length === 0;
      assert.equal(mine, officialOk(e), `${ex.type}/${ex.file}: ${JSON.stringify(validateEiffel(e))}`);
      if (mine) valid++;
    }
    assert.ok(valid >= examples.length - 3, `${valid} of ${examples.length} valid`);
  });

  it('agrees on deliberately broken variants of every example', () => {
    let checked = 0;
    let invalid = 0;
    for (const ex of examples) {
      for (const [name, e] of brokenVariants(current(ex.event))) {
        const mine = validateEiffel(e).length === 0;
        assert.equal(mine, officialOk(e), `${ex.type}/${ex.file} with ${name}: ${JSON.stringify(validateEiffel(e))}`);
        checked++;
        if (!mine) invalid++;
      }
    }
    assert.ok(checked > 500);
    assert.ok(invalid > checked / 2);
  });

  it('rejects exactly the current-version variants whose meta or data break the schema', () => {
    for (const ex of examples) {
      for (const [name, e] of brokenVariants(current(ex.event))) {
        const issues = validateEiffel(e).filter((i) => !i.field.startsWith('links'));
        const isCurrent = e['meta']?.version === eiffelSchemaVersion(ex.type);
        const r = parseMessage(message('eiffel', e));
        if (isCurrent && issues.length > 0) assert.equal(r.ok, false, `${ex.type}/${ex.file} with ${name}`);
        if (r.ok) assert.ok(typeof r.events[0]?.id === 'string' && r.events[0].id !== '');
      }
    }
  });
});
