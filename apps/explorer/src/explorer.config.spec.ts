import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@not/config';
import { loadExplorerConfig } from './explorer.config.js';

const file = (text: string): string => {
  const f = join(mkdtempSync(join(tmpdir(), 'explorer-config-')), 'explorer.yaml');
  writeFileSync(f, text);
  return f;
};
const base = 'neo4j: { url: "bolt://127.0.0.1:7687", password: secret }\nhttp: { port: 8080 }\n';

describe('explorer configuration', () => {
  it('turns authentication on even without an auth section, with the documented development token', () => {
    const c = loadExplorerConfig(file(base));
    assert.equal(c.auth.tokens.length, 1);
    assert.ok(c.auth.tokens[0] === 'local-explorer-token' || c.auth.tokens[0] === process.env.EXPLORER_TOKEN);
    assert.equal(c.limits.walkSteps, 40);
  });

  it('lists every problem: short tokens, unknown settings', () => {
    assert.throws(
      () => loadExplorerConfig(file(`${base}auth: { tokens: [short] }\ncolour: blue\n`)),
      (e: unknown) => e instanceof ConfigError && /auth.tokens\[0\]: a token needs at least 12 characters/.test(e.message) && /unknown setting/.test(e.message),
    );
  });
});
