import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, validateConfig } from '@not/config';
import { relayConfigSchema } from './relay.config.js';

const valid = {
  site: 'site-a',
  central: { urls: ['amqp://u:p@central:5672/%2F'] },
  brokers: [{ name: 'main', url: 'amqp://u:p@localhost:5672', management: { url: 'http://localhost:15672', user: 'u', password: 'p' } }],
  sources: [{ name: 'ci', broker: 'main', format: 'eiffel', exchange: 'ci.eiffel' }],
  http: { port: 8110 },
};

describe('relay configuration', () => {
  it('accepts a minimal site and fills in defaults', () => {
    const cfg = validateConfig(valid, relayConfigSchema, 'relay.yaml');
    assert.equal(cfg.central.exchange, 'not.central');
    assert.deepEqual(cfg.sources[0]!.bindingKeys, ['#']);
    assert.equal(cfg.sources[0]!.mode, 'shovel');
    assert.equal(cfg.reconcileIntervalSeconds, 10);
  });

  it('names each bad setting by its path', () => {
    const bad = {
      ...valid,
      site: 'Site A',
      central: { urls: ['http://central'] },
      sources: [
        { name: 'ci', broker: 'nope', format: 'eiffel', exchange: 'x' },
        { name: 'ci', broker: 'main', format: 'svn', exchange: 'y' },
      ],
    };
    try {
      validateConfig(bad, relayConfigSchema, 'relay.yaml');
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const paths = err.problems.map((p) => p.split(':')[0]);
      assert.deepEqual(paths.sort(), ['central.urls[0]', 'site', 'sources[1].format'].sort());
    }
  });

  it('rejects a source on an unknown broker and duplicate source names', () => {
    try {
      validateConfig(
        {
          ...valid,
          sources: [
            { name: 'ci', broker: 'nope', format: 'eiffel', exchange: 'x' },
            { name: 'ci', broker: 'main', format: 'eiffel', exchange: 'y' },
          ],
        },
        relayConfigSchema,
        'relay.yaml',
      );
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems, [
        'sources[0].broker: no broker named "nope" in brokers[]',
        'sources[1].name: duplicate source name "ci"',
      ]);
    }
  });
});
