import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const traces = (...args: string[]) =>
  spawnSync(process.execPath, [join(process.cwd(), 'bin', 'traces.js'), ...args], { encoding: 'utf8', timeout: 120_000 });
const meshFile = process.env.NOT_TEST_MESH ?? 'test/mesh.test.yaml';

describe('the traces command line', () => {
  it('mesh status --json lists every endpoint as up', () => {
    const r = traces('mesh', 'status', '--json', '--config', meshFile);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.match(s.central.amqp, /^amqp:\/\/admin:.+@127\.0\.0\.1:\d+\/%2F$/);
    assert.match(s.central.management, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(s.neo4j.bolt, /^bolt:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(s.neo4j.password.length >= 8);
    assert.equal(s.sites.length, 2);
    const ups = [
      s.central,
      s.neo4j,
      s.prometheus,
      s.correlator,
      s.explorer,
      ...s.sites,
      ...s.sites.map((x: { relay: unknown }) => x.relay),
    ];
    for (const e of ups) assert.equal(e.up, true, JSON.stringify(e));
  });

  it('mesh status --json gives the explorer token the mesh generated, and the explorer takes it', async () => {
    const s = JSON.parse(traces('mesh', 'status', '--json', '--config', meshFile).stdout);
    assert.equal(typeof s.explorer.token, 'string');
    assert.ok(s.explorer.token.length >= 12, s.explorer.token);
    assert.notEqual(s.explorer.token, 'local-explorer-token');
    const call = (token?: string) =>
      fetch(`${s.explorer.url}/api/v1/events?pageSize=1`, { headers: token ? { authorization: `Bearer ${token}` } : {} }).then(
        (r) => r.status,
      );
    assert.equal(await call(s.explorer.token), 200);
    assert.equal(await call(), 401);
    assert.equal(await call('local-explorer-token'), 401);
  });

  it('mesh up again is idempotent and changes nothing, the explorer token included', () => {
    const before = JSON.parse(traces('mesh', 'status', '--json', '--config', meshFile).stdout);
    const r = traces('mesh', 'up', '--config', meshFile);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /correlator: already running/);
    const after = JSON.parse(traces('mesh', 'status', '--json', '--config', meshFile).stdout);
    assert.deepEqual(after, before);
  });

  it('publish refuses an unknown site and a file that is not JSON, naming them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const events = join(dir, 'events.ndjson');
    writeFileSync(events, '{"meta":{"id":"x"}}\n');
    let r = traces('publish', '--site', 'site-z', '--source', 'ci', '--config', meshFile, events);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no site "site-z" in the mesh \(sites: site-a, site-b\)/);
    r = traces('publish', '--site', 'site-a', '--source', 'ci', '--config', meshFile, 'README.md');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /README\.md line 1 is not valid JSON/);
    r = traces('publish', '--site', 'site-a', '--config', meshFile, 'x.json');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--source <value> is required/);
  });

  it('a bad mesh config names the setting', () => {
    const r = traces('mesh', 'status', '--config', '/nonexistent/mesh.yaml');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /\/nonexistent\/mesh\.yaml:\n\s+- file not found/);
  });

  it('subscribe, list, show firings and delete a subscription with the mesh token', () => {
    const r = traces(
      'subscribe',
      '--config',
      meshFile,
      '--name',
      'cli promoted',
      '--stage',
      'promotion',
      '--repository',
      'cli.example.com/none/',
      '--webhook',
      'http://127.0.0.1:9/hook',
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    const created = JSON.parse(r.stdout) as { id: string; secret: string; condition: unknown };
    assert.match(created.id, /^sub-[0-9a-f]{16}$/);
    assert.match(created.secret, /^[0-9a-f]{48}$/);
    assert.deepEqual(created.condition, {
      on: 'stage',
      stage: 'promotion',
      outcome: 'any',
      change: { repository: 'cli.example.com/none/' },
    });
    const list = traces('subscriptions', 'list', '--config', meshFile);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${created.id}\\s+cli promoted\\s+stage stage=promotion`));
    const firings = traces('subscriptions', 'firings', created.id, '--config', meshFile);
    assert.equal(firings.status, 0, firings.stderr);
    assert.match(firings.stdout, /no firings yet/);
    const bad = traces('subscribe', '--config', meshFile, '--name', 'x', '--stage', 'shipping', '--amqp');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /condition\.stage/);
    const del = traces('subscriptions', 'delete', created.id, '--config', meshFile);
    assert.equal(del.status, 0, del.stderr);
    const gone = traces('subscriptions', 'show', created.id, '--config', meshFile);
    assert.equal(gone.status, 5, 'not found');
  });
});
