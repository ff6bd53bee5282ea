import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@not/config';
import { parse, stringify } from 'yaml';
import { loadExplorerConfig } from './explorer.config.js';

const file = (text: string): string => {
  const f = join(mkdtempSync(join(tmpdir(), 'explorer-config-')), 'explorer.yaml');
  writeFileSync(f, text);
  return f;
};
const base = 'neo4j: { url: "bolt://127.0.0.1:7687", password: secret }\nhttp: { port: 8080 }\n';

describe('explorer configuration', () => {
  it('refuses a file without tokens: there is no built-in token', () => {
    assert.throws(
      () => loadExplorerConfig(file(base)),
      (e: unknown) => e instanceof ConfigError && /- auth: required/.test(e.message),
    );
  });

  it('reads the tokens and fills in the limits', () => {
    const c = loadExplorerConfig(file(`${base}auth: { tokens: [explorer-token-0123] }\n`));
    assert.deepEqual(c.auth.tokens, ['explorer-token-0123']);
    assert.equal(c.limits.walkSteps, 40);
  });

  it('lists every problem: short tokens, unknown settings', () => {
    assert.throws(
      () => loadExplorerConfig(file(`${base}auth: { tokens: [short] }\ncolour: blue\n`)),
      (e: unknown) =>
        e instanceof ConfigError &&
        /auth.tokens\[0\]: a token needs at least 12 characters/.test(e.message) &&
        /unknown setting/.test(e.message),
    );
  });

  it('takes prod* as the production environments unless told, and says what is wrong with a bad list', () => {
    const auth = 'auth: { tokens: [explorer-token-0123] }\n';
    assert.deepEqual(loadExplorerConfig(file(`${base}${auth}`)).environments.production, ['prod*']);
    assert.deepEqual(loadExplorerConfig(file(`${base}${auth}environments: { production: [live, "prod-*"] }\n`)).environments.production, [
      'live',
      'prod-*',
    ]);
    assert.throws(
      () => loadExplorerConfig(file(`${base}${auth}environments: { production: [] }\n`)),
      (e: unknown) => e instanceof ConfigError && /environments.production: give at least one production environment/.test(e.message),
    );
    assert.throws(
      () => loadExplorerConfig(file(`${base}${auth}environments: { production: ["prod eu"] }\n`)),
      (e: unknown) => e instanceof ConfigError && /environments.production\[0\]: must be an environment name or pattern/.test(e.message),
    );
  });
});

describe('explorer configuration: trends', () => {
  const tokens = 'auth: { tokens: [explorer-token-0123] }\n';
  it('fills in the trend settings and reads objectives', () => {
    const c = loadExplorerConfig(
      file(`${base}${tokens}trends: { objectives: [ { segment: test, area: payments, waitSeconds: 14400 } ] }\n`),
    );
    assert.equal(c.trends.enabled, true);
    assert.equal(c.trends.stuckQuantile, 0.99);
    assert.deepEqual(c.trends.objectives, [{ segment: 'test', area: 'payments', waitSeconds: 14400 }]);
  });

  it('accepts the trends section the test mesh passes to its explorer (test/mesh.test.yaml, explorer.trends)', () => {
    const mesh = parse(readFileSync('test/mesh.test.yaml', 'utf8')) as { explorer: { trends?: unknown } };
    assert.ok(mesh.explorer.trends, 'the test mesh sets explorer.trends');
    const c = loadExplorerConfig(file(`${base}${tokens}${stringify({ trends: mesh.explorer.trends })}`));
    assert.equal(c.trends.intervalSeconds, 10);
    assert.ok(c.trends.objectives.some((o) => o.segment === 'waiting-for-build' && o.queue !== undefined));
  });

  it('refuses an objective without a limit, for an area and a site at once, or for an unknown segment', () => {
    assert.throws(
      () =>
        loadExplorerConfig(
          file(
            `${base}${tokens}trends:\n  objectives:\n    - { segment: test }\n    - { segment: build, area: a, site: b, queue: 3 }\n    - { segment: lunch, queue: 3 }\n`,
          ),
        ),
      (e: unknown) =>
        e instanceof ConfigError &&
        /trends.objectives\[0\]: give queue, waitSeconds or both/.test(e.message) &&
        /trends.objectives\[1\]: an objective is for an area or for a site, not both/.test(e.message) &&
        /trends.objectives\[2\].segment/.test(e.message),
    );
  });
});
