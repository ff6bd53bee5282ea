import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigFile } from '@not/config';
import { relayConfigSchema } from './relay.config.js';

describe('the shipped relay example', () => {
  it('is a valid configuration once its secrets are set', () => {
    const env = Object.fromEntries(
      [
        'CENTRAL_PASSWORD',
        'CI_BROKER_PASSWORD',
        'VCS_BROKER_PASSWORD',
        'GITHUB_WEBHOOK_SECRET',
        'NEXUS_WEBHOOK_SECRET',
        'GIT_HOOK_TOKEN',
      ].map((k) => [k, 'x-secret']),
    );
    const cfg = loadConfigFile('deploy/relay/relay.example.yaml', relayConfigSchema, { env });
    assert.equal(cfg.sources.length, 3);
    assert.equal(cfg.central.urls.length, 2);
    assert.equal(cfg.webhooks?.secrets.github, 'x-secret');
  });

  it('names each secret that is missing from the environment', () => {
    assert.throws(
      () => loadConfigFile('deploy/relay/relay.example.yaml', relayConfigSchema, { env: {} }),
      (err: Error) =>
        /central\.urls\[0\]: environment variable CENTRAL_PASSWORD is not set/.test(err.message) &&
        /webhooks\.secrets\.github: environment variable GITHUB_WEBHOOK_SECRET is not set/.test(err.message),
    );
  });
});
