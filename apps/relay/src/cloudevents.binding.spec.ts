import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseMessage } from '@not/events';
import { readCloudEventsRequest, type CloudEventsRequest } from './cloudevents.binding.js';

/** A CDEvents conformance example (cdevents/spec v0.5.0 conformance/pipelinerun_finished.json). */
const cdevent = readFileSync(resolve(process.cwd(), 'libs/events/fixtures/cdevents/conformance-v0.5-pipelinerun-finished.json'));
const cdeventJson = JSON.parse(cdevent.toString('utf8')) as { context: { id: string; source: string; type: string } };

function read(headers: Record<string, string>, body: Buffer): CloudEventsRequest | string {
  return readCloudEventsRequest(headers, body, JSON.parse(body.toString('utf8')));
}

function ok(r: CloudEventsRequest | string): CloudEventsRequest {
  assert.notEqual(typeof r, 'string', String(r));
  return r as CloudEventsRequest;
}

/** What the correlator receives: the same body, the relay's headers as AMQP application properties. */
function atCentral(r: CloudEventsRequest, body: Buffer) {
  return parseMessage({ body, headers: { ...r.attributes, 'x-not-format': 'cdevents' }, routingKey: 'site.a.webhooks.cdevents' });
}

describe('CloudEvents over HTTP at the relay', () => {
  it('carries binary-mode ce-* headers as the AMQP binding’s cloudEvents:* properties (HTTP binding 3.1.4 example)', () => {
    // The binary-mode example of the HTTP protocol binding v1.0.2, with a CDEvent as its data.
    const headers = {
      'ce-specversion': '1.0',
      'ce-type': cdeventJson.context.type,
      'ce-time': '2018-04-05T03:56:24Z',
      'ce-id': cdeventJson.context.id,
      'ce-source': cdeventJson.context.source,
      'content-type': 'application/json; charset=utf-8',
    };
    const r = ok(read(headers, cdevent));
    assert.equal(r.mode, 'binary');
    assert.equal(r.contentType, 'application/json');
    assert.deepEqual(r.attributes, {
      'cloudEvents:specversion': '1.0',
      'cloudEvents:type': cdeventJson.context.type,
      'cloudEvents:time': '2018-04-05T03:56:24Z',
      'cloudEvents:id': cdeventJson.context.id,
      'cloudEvents:source': cdeventJson.context.source,
    });
    assert.equal(r.deliveryId, `cloudevents:${cdeventJson.context.source}|${cdeventJson.context.id}`);
    const parsed = atCentral(r, cdevent);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.rejection.reason);
    assert.equal(parsed.events[0]!.props['mode'], 'binary');
    assert.equal(parsed.events[0]!.id, `cdevents:${cdeventJson.context.source}|${cdeventJson.context.id}`);
  });

  it('decodes percent-encoded attribute values, as the HTTP binding escapes them', () => {
    const r = ok(
      read({ 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': '/a', 'ce-type': 't', 'ce-subject': 'Euro%20%E2%82%AC' }, cdevent),
    );
    assert.equal(r.attributes['cloudEvents:subject'], 'Euro €');
  });

  it('names the missing attribute of an incomplete binary-mode request', () => {
    assert.equal(read({ 'ce-specversion': '1.0', 'ce-id': '1' }, cdevent), 'binary mode (ce-specversion given) lacks ce-source, ce-type');
  });

  it('refuses binary-mode data that is not JSON', () => {
    const r = readCloudEventsRequest(
      { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': '/a', 'ce-type': 't', 'content-type': 'application/xml' },
      cdevent,
      {},
    );
    assert.equal(r, 'the event data must be JSON (a CDEvent), not application/xml');
  });

  it('carries a structured-mode CloudEvent unchanged (HTTP binding 3.2.4 example)', () => {
    const event = { specversion: '1.0', type: cdeventJson.context.type, source: cdeventJson.context.source, id: 'A234-1234-1234' };
    const body = Buffer.from(
      JSON.stringify({ ...event, time: '2018-04-05T17:31:00Z', datacontenttype: 'application/json', data: cdeventJson }),
    );
    const r = ok(read({ 'content-type': 'application/cloudevents+json; charset=utf-8' }, body));
    assert.equal(r.mode, 'structured');
    assert.equal(r.contentType, 'application/cloudevents+json');
    assert.deepEqual(r.attributes, {});
    assert.equal(r.deliveryId, `cloudevents:${cdeventJson.context.source}|A234-1234-1234`);
    const parsed = atCentral(r, body);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.rejection.reason);
    assert.equal(parsed.events[0]!.props['mode'], 'structured');
  });

  it('names what a structured-mode CloudEvent lacks', () => {
    assert.equal(
      read({ 'content-type': 'application/cloudevents+json' }, Buffer.from('{"specversion":"1.0","id":"1"}')),
      'the CloudEvent lacks source, type',
    );
  });

  it('carries a batch as one message, which central reads as one event per entry', () => {
    const entry = (id: string) => ({
      specversion: '1.0',
      type: cdeventJson.context.type,
      source: '/x',
      id,
      data: { ...cdeventJson, context: { ...cdeventJson.context, id } },
    });
    const body = Buffer.from(JSON.stringify([entry('b-1'), entry('b-2')]));
    const r = ok(read({ 'content-type': 'application/cloudevents-batch+json' }, body));
    assert.equal(r.mode, 'batch');
    assert.match(r.deliveryId, /^sha256:[0-9a-f]{64}$/);
    const parsed = atCentral(r, body);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.rejection.reason);
    assert.deepEqual(
      parsed.events.map((e) => e.id),
      [`cdevents:${cdeventJson.context.source}|b-1`, `cdevents:${cdeventJson.context.source}|b-2`],
    );
  });

  it('refuses an empty batch and a request that is no CloudEvent at all', () => {
    assert.equal(
      read({ 'content-type': 'application/cloudevents-batch+json' }, Buffer.from('[]')),
      'the application/cloudevents-batch+json body is an empty array',
    );
    assert.match(String(read({ 'content-type': 'application/json' }, cdevent)), /^not a CloudEvent: use binary mode/);
  });
});
