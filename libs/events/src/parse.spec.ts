import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InboundMessage } from './model.js';
import { parseOrigin } from './origin.js';
import { parseMessage } from './parse.js';
import { message } from './testing/fixtures.js';

const event = {
  meta: { type: 'EiffelArtifactCreatedEvent', version: '3.0.0', time: 1700000000000, id: '6f2d3c1e-1b2a-4c3d-8e4f-0123456789ab' },
  data: { identity: 'pkg:maven/com.example/app@1.2.3' },
  links: [],
};

describe('origin', () => {
  it('reads site, source and format from the routing key', () => {
    assert.deepEqual(parseOrigin('site.lund.jenkins-a.eiffel.extra.parts'), {
      ok: true,
      origin: { site: 'lund', source: 'jenkins-a', format: 'eiffel' },
    });
  });

  it('takes the format from the x-not-format header when the routing key has none', () => {
    assert.deepEqual(parseOrigin('site.lund.hooks', { 'x-not-format': 'github' }), {
      ok: true,
      origin: { site: 'lund', source: 'hooks', format: 'github' },
    });
  });

  it('lets the routing key win over the header', () => {
    const r = parseOrigin('site.lund.hooks.gitlab', { 'x-not-format': 'github' });
    assert.ok(r.ok && r.origin.format === 'gitlab');
  });

  it('rejects a routing key outside site.<id>.<source>.<format>', () => {
    for (const key of ['', 'lund.ci.eiffel', 'site..ci.eiffel', 'site.lund', 'site.lund.ci.nope']) {
      const r = parseOrigin(key);
      assert.ok(!r.ok, key);
      assert.equal(r.rejection.field, 'routingKey');
    }
  });
});

describe('parseMessage bad input', () => {
  it('rejects an oversized body, saying the size and the limit', () => {
    const r = parseMessage(message('eiffel', event), { maxBytes: 100 });
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, 'body');
    assert.match(r.rejection.reason, /more than the limit of 100 bytes/);
  });

  it('applies a 1 MiB limit by default', () => {
    const big = { ...event, data: { ...event.data, name: 'x'.repeat(1024 * 1024) } };
    const r = parseMessage(message('eiffel', big));
    assert.ok(!r.ok);
    assert.match(r.rejection.reason, /1048576 bytes/);
  });

  it('rejects invalid UTF-8', () => {
    const r = parseMessage(message('eiffel', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])));
    assert.ok(!r.ok);
    assert.match(r.rejection.reason, /not valid UTF-8/);
  });

  it('rejects malformed JSON with the parser message', () => {
    const r = parseMessage(message('eiffel', '{"meta": {'));
    assert.ok(!r.ok);
    assert.match(r.rejection.reason, /not valid JSON/);
  });

  it('rejects an empty body', () => {
    const r = parseMessage(message('eiffel', new Uint8Array()));
    assert.ok(!r.ok);
    assert.match(r.rejection.reason, /empty/);
  });

  it('rejects a JSON value that is not an event', () => {
    for (const body of ['42', '"text"', 'null', '[]', 'true']) {
      const r = parseMessage(message('eiffel', body));
      assert.ok(!r.ok, body);
    }
  });

  it('says so when the body is another format than the routing key names', () => {
    const r = parseMessage(message('gitlab', event));
    assert.ok(!r.ok);
    assert.match(r.rejection.reason, /routing key says gitlab but the body looks like eiffel/);
  });

  it('never throws, even for a message that is not shaped like one', () => {
    const broken = [
      null,
      {},
      { body: 'text', headers: null, routingKey: 5 },
      { body: new Uint8Array([1]), headers: {}, routingKey: 'site.a.b.eiffel' },
    ];
    for (const m of broken) {
      const r = parseMessage(m as unknown as InboundMessage);
      assert.equal(r.ok, false);
    }
  });

  it('gives the same id when the same message is delivered twice', () => {
    const a = parseMessage(message('eiffel', event));
    const b = parseMessage(message('eiffel', event));
    assert.ok(a.ok && b.ok);
    assert.equal(a.events[0]!.id, b.events[0]!.id);
  });
});
