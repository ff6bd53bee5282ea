import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonLogger } from './json.logger.js';
import { requestIdFrom, withRequestId } from './request-context.js';

function capture(level: 'log' | 'debug' = 'log'): { logger: JsonLogger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const logger = new JsonLogger('relay', level, { write: (s: string) => void out.push(s) });
  return {
    logger,
    lines: () =>
      out
        .join('')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('JSON logs', () => {
  it('writes one JSON line with a level name log tools map, an ISO time, the app and the class as context', () => {
    const { logger, lines } = capture();
    logger.warn('buffer near its limit', 'ReconcileService');
    const [line] = lines();
    assert.equal(line!.level, 'warn');
    assert.equal(line!.app, 'relay');
    assert.equal(line!.context, 'ReconcileService');
    assert.equal(line!.msg, 'buffer near its limit');
    assert.ok(!Number.isNaN(Date.parse(String(line!.time))), 'time is ISO 8601');
  });

  it('maps Nest levels to pino level names and drops lines below the minimum level', () => {
    const { logger, lines } = capture('log');
    logger.debug('hidden');
    logger.verbose('hidden too');
    logger.log('shown');
    logger.error('failed', undefined, 'Ingest');
    assert.deepEqual(
      lines().map((l) => [l.level, l.msg]),
      [
        ['info', 'shown'],
        ['error', 'failed'],
      ],
    );
  });

  it('redacts secret fields by name, at the top and one level down', () => {
    const { logger, lines } = capture();
    logger.log({ msg: 'connecting', password: 'hunter2', broker: { url: 'amqp://central', token: 't0ken' }, authorization: 'Bearer x' });
    const text = JSON.stringify(lines()[0]);
    assert.doesNotMatch(text, /hunter2|t0ken|Bearer x/);
    assert.equal(lines()[0]!.password, '***');
  });

  it('masks a password inside a URL written into a message', () => {
    const { logger, lines } = capture();
    logger.error('cannot reach amqp://site-a:s3cret@central:5672/%2F');
    assert.equal(lines()[0]!.msg, 'cannot reach amqp://site-a:***@central:5672/%2F');
  });

  it('stamps every line written while a request is handled with its request id', () => {
    const { logger, lines } = capture();
    withRequestId('req-1', () => logger.log('inside'));
    logger.log('outside');
    assert.equal(lines()[0]!.reqId, 'req-1');
    assert.equal(lines()[1]!.reqId, undefined);
  });
});

describe('request ids', () => {
  it("keeps a caller's sane x-request-id and replaces a hostile or missing one", () => {
    assert.equal(requestIdFrom('abc-123'), 'abc-123');
    assert.match(requestIdFrom('bad id\nwith newline'), /^[0-9a-f-]{36}$/);
    assert.match(requestIdFrom(undefined), /^[0-9a-f-]{36}$/);
    assert.equal(requestIdFrom(['first', 'second']), 'first');
  });
});
