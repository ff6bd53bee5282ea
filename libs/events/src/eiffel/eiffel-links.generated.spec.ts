import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { eiffelFixturesDir } from '../testing/fixtures.js';
import { EIFFEL_LINK_RULES } from './eiffel-links.generated.js';
import { EIFFEL_SCHEMAS } from './eiffel-schemas.generated.js';

interface Generator {
  buildLinkRules(dir: string): unknown;
  buildSchemas(dir: string): unknown;
}

async function generator(): Promise<Generator> {
  const url = pathToFileURL(resolve(process.cwd(), 'libs', 'events', 'scripts', 'gen-eiffel-links.mjs')).href;
  return (await import(url)) as Generator;
}

describe('generated Eiffel tables', () => {
  it('still match the link-legality definitions (run scripts/gen-eiffel-links.mjs if not)', async () => {
    const g = await generator();
    assert.deepEqual(JSON.parse(JSON.stringify(EIFFEL_LINK_RULES)), g.buildLinkRules(eiffelFixturesDir()));
  });

  it('still match the official schemas (run scripts/gen-eiffel-links.mjs if not)', async () => {
    const g = await generator();
    assert.deepEqual(JSON.parse(JSON.stringify(EIFFEL_SCHEMAS)), g.buildSchemas(eiffelFixturesDir()));
  });

  it('cover all 24 event types of the protocol', () => {
    assert.equal(Object.keys(EIFFEL_LINK_RULES).length, 24);
    assert.deepEqual(Object.keys(EIFFEL_SCHEMAS).sort(), Object.keys(EIFFEL_LINK_RULES).sort());
  });
});
