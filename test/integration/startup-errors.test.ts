import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { MeshStatus } from '@not/mesh';
import { testStatus } from '../support/mesh.js';
import { runApp, writeTempConfig } from '../support/processes.js';

/** No stack trace: no "    at " frames, no Error class dump. */
function assertNoStack(text: string): void {
  assert.doesNotMatch(text, /^\s+at /m, `stack trace in output:\n${text}`);
}

describe('start-up failures a user can fix', () => {
  let status: MeshStatus;
  before(async () => {
    status = await testStatus();
  });

  it('a bad config file lists every problem with its path and exits non-zero', async () => {
    const file = writeTempConfig('relay', {
      site: 'Bad Site',
      central: { urls: ['http://nowhere'] },
      brokers: [],
      sources: [{ name: 'ci', broker: 'main', format: 'eiffel' }],
      http: { port: 8999 },
    });
    const run = await runApp('relay', ['--config', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(`invalid configuration in ${file.replace(/[/.]/g, '\\$&')}`));
    for (const path of ['site:', 'central.urls\\[0\\]:', 'brokers:', 'sources\\[0\\].exchange: required']) {
      assert.match(run.stderr, new RegExp(`- ${path}`), run.stderr);
    }
    assertNoStack(run.stderr);
  });

  it('a missing config file is named', async () => {
    const run = await runApp('correlator', ['--config', '/nonexistent/correlator.yaml']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /\/nonexistent\/correlator\.yaml:\n\s+- file not found/);
  });

  it('an unreachable broker names the setting to change', async () => {
    const file = writeTempConfig('correlator', {
      amqp: { url: 'amqp://admin:x@127.0.0.1:1/%2F' },
      neo4j: { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password },
      http: { port: 8998 },
    });
    const run = await runApp('correlator', ['--config', file]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot reach the central broker at amqp:\/\/admin:\*\*\*@127\.0\.0\.1:1\/%2F: connection refused/);
    assert.match(run.stderr, /check setting: amqp\.url/);
    assertNoStack(run.stderr);
  });

  it('an unreachable site broker stops the relay with the broker named', async () => {
    const file = writeTempConfig('relay', {
      site: 'site-x',
      central: { urls: [status.central.amqp] },
      brokers: [{ name: 'main', url: 'amqp://a:b@127.0.0.1:1', management: { url: 'http://127.0.0.1:1', user: 'a', password: 'b' } }],
      sources: [],
      http: { port: 8997 },
    });
    const run = await runApp('relay', ['--config', file]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /site broker "main": management API at http:\/\/127\.0\.0\.1:1 is unreachable/);
    assert.match(run.stderr, /check setting: brokers\[0\]\.management/);
    assertNoStack(run.stderr);
  });

  it('a wrong Neo4j password names neo4j.password', async () => {
    const file = writeTempConfig('correlator', {
      amqp: { url: status.central.amqp },
      neo4j: { url: status.neo4j.bolt, user: 'neo4j', password: 'definitely-wrong' },
      http: { port: 8996 },
    });
    const run = await runApp('correlator', ['--config', file]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /Neo4j at bolt:\/\/127\.0\.0\.1:\d+ rejected the credentials of user "neo4j" \(check setting: neo4j\.password\)/,
    );
    assert.doesNotMatch(run.stderr, /definitely-wrong/);
    assertNoStack(run.stderr);
  });
});
