import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskUrl } from './amqp-url.js';
import { centralRascalConfig } from './central-topology.js';

type Vhost = {
  connections: Array<{ url: string }>;
  connectionStrategy: string;
  queues: Record<string, { options: { arguments: Record<string, unknown> } }>;
};

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
    assert.equal(q['not.ingest']!.options.arguments['x-queue-type'], 'quorum');
    assert.equal(q['not.archive']!.options.arguments['x-queue-type'], 'stream');
  });

  it('masks the password of every URL in a list', () => {
    assert.equal(maskUrl('amqp://u:secret@c1/, amqp://v:other@c2/'), 'amqp://u:***@c1/, amqp://v:***@c2/');
  });
});
