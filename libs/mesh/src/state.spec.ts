import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { explorerToken, loadOrCreateState, statePath, writeState } from './state.js';

describe('mesh state', () => {
  it('generates an explorer token once and keeps it across loads, readable by its owner only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesh-state-'));
    const first = loadOrCreateState(dir, ['site-a']);
    const token = explorerToken(first);
    assert.ok(token.length >= 12, token);
    assert.equal(explorerToken(loadOrCreateState(dir, ['site-a'])), token);
    assert.notEqual(explorerToken(loadOrCreateState(mkdtempSync(join(tmpdir(), 'mesh-state-')), ['site-a'])), token);
    assert.equal(statSync(statePath(dir)).mode & 0o777, 0o600);
  });

  it('uses a token given to "up" in place of the generated one, and the generated one again without it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesh-state-'));
    const state = loadOrCreateState(dir, ['site-a']);
    const generated = explorerToken(state);
    state.explorerTokenOverride = 'my-own-explorer-token';
    writeState(dir, state);
    const again = loadOrCreateState(dir, ['site-a']);
    assert.equal(explorerToken(again), 'my-own-explorer-token');
    delete again.explorerTokenOverride;
    assert.equal(explorerToken(again), generated);
  });

  it('gives a state written before tokens existed a token at its next load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesh-state-'));
    writeState(dir, { secrets: { rabbitAdminPassword: 'a', neo4jPassword: 'b', sitePasswords: {} }, pids: {} });
    assert.ok(explorerToken(loadOrCreateState(dir, [])).length >= 12);
  });
});
