import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskUrl } from './amqp-url.js';
import { centralRascalConfig, ingestPolicy, type CentralTopologyOptions } from './central-topology.js';

type Vhost = {
  connections: Array<{ url: string }>;
  connectionStrategy: string;
  queues: Record<string, { options?: { arguments: Record<string, unknown> }; assert?: boolean; check?: boolean }>;
};

const ingestOf = (mode: CentralTopologyOptions['ingestArguments']) =>
  (
    centralRascalConfig({ url: 'amqp://c1', prefetch: 10, deliveryLimit: 5, archiveMaxAge: '7D', ingestArguments: mode }) as {
      vhosts: Record<string, Vhost>;
    }
  ).vhosts['/']!.queues['not.ingest']!;

const vhostOf = (url: string | string[]): Vhost =>
  (centralRascalConfig({ url, prefetch: 10, deliveryLimit: 5, archiveMaxAge: '7D' }) as { vhosts: Record<string, Vhost> }).vhosts['/']!;

describe('central topology', () => {
  it('gives rascal one connection per central node, in a random order', () => {
    const urls = ['amqp://u:p@c1:5672/%2F', 'amqp://u:p@c2:5672/%2F', 'amqp://u:p@c3:5672/%2F'];
    const vhost = vhostOf(urls);
    assert.deepEqual(
      vhost.connections.map((c) => c.url),
      urls,
    );
    assert.equal(vhost.connectionStrategy, 'random');
  });

  it('accepts a single URL as before', () => {
    assert.deepEqual(
      vhostOf('amqp://u:p@c1:5672/%2F').connections.map((c) => c.url),
      ['amqp://u:p@c1:5672/%2F'],
    );
  });

  it('declares the ingest queue as a quorum queue and the archive as a stream (replicated on a cluster)', () => {
    const q = vhostOf('amqp://c1').queues;
    assert.equal(q['not.ingest']!.options!.arguments['x-queue-type'], 'quorum');
    assert.equal(q['not.archive']!.options!.arguments['x-queue-type'], 'stream');
  });

  it("carries the ingest queue's settings in a policy on not.ingest alone: dead letters at least once to not.dead, the delivery limit", () => {
    const p = ingestPolicy(5);
    assert.deepEqual(p.definition, {
      'dead-letter-exchange': 'not.dead',
      'dead-letter-strategy': 'at-least-once',
      overflow: 'reject-publish',
      'delivery-limit': 5,
    });
    assert.equal(p['apply-to'], 'queues');
    const re = new RegExp(p.pattern);
    assert.ok(re.test('not.ingest'));
    for (const other of ['not.ingestx', 'xnot.ingest', 'notXingest', 'not.dead']) assert.ok(!re.test(other), other);
  });

  it('declares not.ingest with its type only under the policy, with every setting as arguments otherwise, and only checks an existing one', () => {
    assert.deepEqual(ingestOf('policy').options!.arguments, { 'x-queue-type': 'quorum' });
    const args = {
      'x-queue-type': 'quorum',
      'x-dead-letter-exchange': 'not.dead',
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
      'x-delivery-limit': 5,
    };
    assert.deepEqual(ingestOf('arguments').options!.arguments, args);
    assert.deepEqual(ingestOf(undefined).options!.arguments, args, 'arguments by default');
    assert.deepEqual(ingestOf('existing'), { assert: false, check: true });
  });

  it('masks the password of every URL in a list', () => {
    assert.equal(maskUrl('amqp://u:secret@c1/, amqp://v:other@c2/'), 'amqp://u:***@c1/, amqp://v:***@c2/');
  });
});
