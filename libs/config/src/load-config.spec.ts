import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ConfigError } from './config.error.js';
import { loadConfigFile, validateConfig } from './load-config.js';

const schema = z.strictObject({
  site: z.string(),
  sources: z.array(z.strictObject({ name: z.string(), exchange: z.string() })),
  password: z.string().optional(),
});

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfigFile', () => {
  it('reports every problem at once with its path in the file', () => {
    const problems = problemsOf(() =>
      validateConfig({ sources: [{ name: 'a', exchange: 'x' }, { name: 'b' }, { name: 'c', exchange: 'y', extra: 1 }] }, schema, 'f.yaml'),
    );
    assert.deepEqual(problems, ['site: required', 'sources[1].exchange: required', 'sources[2]: unknown setting(s) "extra"']);
  });

  it('expands ${NAME} references from the environment and names a missing one', () => {
    const ok = validateConfig({ site: 'a', sources: [], password: '${PW}' }, schema, 'f', { env: { PW: 's3cret' } });
    assert.equal(ok.password, 's3cret');
    const problems = problemsOf(() => validateConfig({ site: 'a', sources: [], password: '${PW}' }, schema, 'f', { env: {} }));
    assert.deepEqual(problems, ['password: environment variable PW is not set']);
  });

  it('says when the file is missing or is not YAML', () => {
    assert.deepEqual(
      problemsOf(() => loadConfigFile('/nonexistent/relay.yaml', schema)),
      ['file not found'],
    );
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'site: [unclosed\n');
    const [problem] = problemsOf(() => loadConfigFile(bad, schema));
    assert.match(problem!, /^not valid YAML at line \d+/);
  });
});
