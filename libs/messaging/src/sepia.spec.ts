import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSepiaRoutingKey, sepiaRoutingKey } from './sepia.js';

describe('Sepia routing keys', () => {
  it('builds the REMReM form eiffel.<family>.<type>.<tag>.<domainId>', () => {
    // eiffel-remrem-publish, src/integration-test/.../ test "testRoutingKey":
    // an EiffelActivityFinishedEvent of domain "example.domain" gets "eiffel.activity.EiffelActivityFinishedEvent.notag.example.domain"
    const event = { meta: { type: 'EiffelActivityFinishedEvent', source: { domainId: 'example.domain' } } };
    assert.equal(sepiaRoutingKey(event, 'site-a'), 'eiffel.activity.EiffelActivityFinishedEvent.notag.example.domain');
  });

  it('uses the fallback domain when the event names none, and never lets a key word hold a wildcard', () => {
    assert.equal(
      sepiaRoutingKey({ meta: { type: 'EiffelConfidenceLevelModifiedEvent' } }, 'site-b'),
      'eiffel.verdict.EiffelConfidenceLevelModifiedEvent.notag.site-b',
    );
    assert.equal(sepiaRoutingKey({ meta: { type: 'Eiffel*#Event' } }, 'x#y'), 'eiffel.other.unknown.notag.x_y');
  });

  it('recognises a Sepia key as a tool published it, and refuses others', () => {
    assert.ok(isSepiaRoutingKey('eiffel.activity.EiffelActivityFinishedEvent.notag.example.domain'));
    assert.ok(!isSepiaRoutingKey('site.site-a.ci.eiffel'));
    assert.ok(!isSepiaRoutingKey('eiffel.activity.#'));
    assert.ok(!isSepiaRoutingKey(42));
  });
});
