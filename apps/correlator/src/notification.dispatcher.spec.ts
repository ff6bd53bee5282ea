import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { correlatorConfigSchema } from './correlator.config.js';
import { afterAttempt, webhookRequest } from './notification.dispatcher.js';

const settings = correlatorConfigSchema.parse({
  amqp: { url: 'amqp://u:p@127.0.0.1:5672' },
  neo4j: { url: 'bolt://127.0.0.1:7687', user: 'neo4j', password: 'secret-secret' },
  http: { port: 1 },
  subscriptions: { retryForSeconds: 60, maxBackoffMs: 16_000 },
}).subscriptions;

const sub = { enabled: true } as never;

describe('notification dispatcher decisions', () => {
  it('retries a failed attempt after a doubling delay, then gives the firing up once it is older than retryForSeconds', () => {
    const created = 1_000_000;
    // Attempts at +0 (1 s), +1 s (2 s), +3 s (4 s), +7 s (8 s), +15 s (16 s), +31 s (16 s), +47 s (16 s): the next would be past 60 s.
    let now = created;
    const times: number[] = [];
    for (let attempts = 0; attempts < 10; attempts++) {
      const next = afterAttempt({ attempts, createdAt: created, subscription: sub }, false, now, settings);
      if (next.kind !== 'retry') {
        assert.deepEqual(next, { kind: 'give', as: 'dead' });
        break;
      }
      times.push(next.at - created);
      now = next.at;
    }
    assert.deepEqual(times, [1000, 3000, 7000, 15_000, 31_000, 47_000]);
  });

  it('records a success as delivered, and cancels firings of a deleted or disabled subscription', () => {
    assert.deepEqual(afterAttempt({ attempts: 3, createdAt: 0, subscription: sub }, true, 10, settings), { kind: 'delivered' });
    assert.deepEqual(afterAttempt({ attempts: 0, createdAt: 0, subscription: null }, false, 10, settings), {
      kind: 'give',
      as: 'cancelled',
    });
    assert.deepEqual(afterAttempt({ attempts: 0, createdAt: 0, subscription: { enabled: false } as never }, true, 10, settings), {
      kind: 'give',
      as: 'cancelled',
    });
  });

  it('posts the recorded body unchanged, signed, with the firing as idempotency key on every attempt', () => {
    const f = { id: 'f0123', body: '{"firing":"f0123"}', attempts: 2 };
    const r = webhookRequest(f, 'sub-1', 'a-secret-of-16-chars');
    const h = r.headers as Record<string, string>;
    assert.equal(r.method, 'POST');
    assert.equal(r.body, f.body);
    assert.equal(h['x-traces-signature-256'], 'sha256=' + createHmac('sha256', 'a-secret-of-16-chars').update(f.body).digest('hex'));
    assert.equal(h['idempotency-key'], 'f0123');
    assert.equal(h['x-traces-delivery'], 'f0123');
    assert.equal(h['x-traces-attempt'], '3');
    assert.equal(h['content-type'], 'application/json');
    assert.equal((webhookRequest(f, 'sub-1', null).headers as Record<string, string>)['x-traces-signature-256'], undefined);
  });
});
