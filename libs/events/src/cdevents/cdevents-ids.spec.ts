import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cdeventsEventId, globalContextId, parseCdeventsEventId } from './cdevents-ids.js';

describe('CDEvents event ids', () => {
  it('reads back the source and context id an event id was built from', () => {
    for (const [source, id] of [
      ['/event/source/123', '271069a8-fc18-44f1-b38f-9d70a1695819'],
      ['https://ci.example.com/tekton?ns=a', '42'],
      ['urn:x', 'a|b'],
    ] as const) {
      assert.deepEqual(parseCdeventsEventId(cdeventsEventId(source, id)), { source, contextId: id });
    }
  });

  it('reads no other id', () => {
    for (const id of ['eiffel:1', 'github:abc', 'cdevents:/no-bar', 'cdevents:/empty|']) assert.equal(parseCdeventsEventId(id), undefined);
  });

  it('takes a UUID context id to name one event whatever its source, and nothing else', () => {
    assert.equal(globalContextId('271069a8-fc18-44f1-b38f-9d70a1695819'), true);
    assert.equal(globalContextId('AA6945F8-B0F1-48DD-B658-25ACF95BD2F5'), true);
    for (const id of ['42', 'A234-1234-1234', 'run-7', '271069a8fc1844f1b38f9d70a1695819']) assert.equal(globalContextId(id), false, id);
  });
});
