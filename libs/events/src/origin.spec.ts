import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FORMATS } from './model.js';
import { parseOrigin, routingKeySegments, siteBindingKey, siteRoutingKey } from './origin.js';

describe('the central routing key', () => {
  it('reads back every origin it builds, for every format', () => {
    for (const format of FORMATS) {
      const key = siteRoutingKey('site-a', 'webhooks', format);
      assert.deepEqual(parseOrigin(key), { ok: true, origin: { site: 'site-a', source: 'webhooks', format } });
      assert.deepEqual(routingKeySegments(key), { site: 'site-a', source: 'webhooks', format });
    }
  });

  it('binds what it builds: a site binding matches that site only, the all-sites binding every site', () => {
    // AMQP topic matching: `#` matches zero or more words.
    const matches = (binding: string, key: string): boolean =>
      new RegExp(
        '^' +
          binding
            .split('.')
            .map((w) => (w === '#' ? '(\\.[^.]+)*' : '\\.' + w.replace(/[-]/g, '\\-')))
            .join('')
            .slice(2) +
          '$',
      ).test(key);
    const key = siteRoutingKey('site-b', 'webhooks', 'github');
    assert.equal(siteBindingKey('site-b', 'webhooks'), 'site.site-b.webhooks.#');
    assert.equal(siteBindingKey('site-b'), 'site.site-b.#');
    assert.equal(siteBindingKey(), 'site.#');
    assert.ok(matches(siteBindingKey('site-b', 'webhooks'), key));
    assert.ok(!matches(siteBindingKey('site-a', 'webhooks'), key));
    assert.ok(matches(siteBindingKey(), key));
  });

  it('gives no segments for a key outside the grammar, and the segments it has for a short one', () => {
    assert.deepEqual(routingKeySegments('eiffel.activity.EiffelActivityStartedEvent.notag.demo'), {});
    assert.deepEqual(routingKeySegments('site.site-a.ci'), { site: 'site-a', source: 'ci', format: undefined });
    assert.equal(parseOrigin('site.site-a').ok, false);
  });
});
