/** Shared bad-input checks that every format's spec runs against one of its valid samples. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Format } from '../model.js';
import { parseMessage } from '../parse.js';
import { message, type MessageOptions } from './fixtures.js';

export interface BadInputCase {
  /** A valid body of the format. */
  readonly valid: Record<string, unknown>;
  /** Removes a required field; returns its expected rejection path. */
  readonly removeRequired: (body: Record<string, any>) => string;
  /** Gives a field the wrong type; returns its expected rejection path. */
  readonly wrongType: (body: Record<string, any>) => string;
  readonly options?: MessageOptions;
}

export function rejectsBadInput(format: Format, c: BadInputCase): void {
  const copy = (): Record<string, any> => JSON.parse(JSON.stringify(c.valid)) as Record<string, any>;

  it('accepts the valid sample the bad-input cases start from', () => {
    assert.equal(parseMessage(message(format, c.valid, c.options)).ok, true);
  });

  it('rejects malformed JSON', () => {
    const r = parseMessage(message(format, JSON.stringify(c.valid).slice(0, -2), c.options));
    assert.ok(!r.ok);
    assert.match(r.rejection.reason, /not valid JSON/);
  });

  it('rejects a body of another format, saying which', () => {
    const eiffel = { meta: { type: 'EiffelArtifactCreatedEvent', id: 'x', version: '1.0.0', time: 1 }, data: {}, links: [] };
    const r = parseMessage(message(format, eiffel, c.options));
    assert.ok(!r.ok);
    assert.match(r.rejection.reason, /looks like eiffel/);
  });

  it('rejects a missing required field, naming it', () => {
    const body = copy();
    const field = c.removeRequired(body);
    const r = parseMessage(message(format, body, c.options));
    assert.ok(!r.ok, 'rejected');
    assert.equal(r.rejection.field, field);
  });

  it('rejects a field of the wrong type, naming it and the expected type', () => {
    const body = copy();
    const field = c.wrongType(body);
    const r = parseMessage(message(format, body, c.options));
    assert.ok(!r.ok, 'rejected');
    assert.equal(r.rejection.field, field);
    assert.match(r.rejection.reason, /expected/);
  });

  it('rejects an oversized body', () => {
    const r = parseMessage(message(format, c.valid, c.options), { maxBytes: 64 });
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, 'body');
  });

  it('rejects invalid UTF-8', () => {
    const bytes = new TextEncoder().encode(JSON.stringify(c.valid));
    const broken = new Uint8Array([...bytes.slice(0, 10), 0xc3, 0x28, ...bytes.slice(10)]);
    const r = parseMessage(message(format, broken, c.options));
    assert.ok(!r.ok);
    assert.match(r.rejection.reason, /UTF-8/);
  });
}
