import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '@not/config';
import { keptRoutingKey, sameFields } from '@not/messaging';
import {
  bufferPolicy,
  intakePolicy,
  centralShovel,
  centralVhost,
  federationPolicy,
  federationUpstream,
  linksOf,
  siteShovel,
} from './link-definitions.js';
import { relayConfigSchema } from './relay.config.js';

function config(extra: Record<string, unknown> = {}) {
  return validateConfig(
    {
      site: 'site-a',
      central: {
        urls: ['amqp://site-a:pw@central:5672/prod'],
        management: { url: 'http://central:15672', user: 'relay', password: 'p' },
      },
      brokers: [
        {
          name: 'ci',
          url: 'amqp://u:p@ci-mq:5672/%2F',
          federationUrl: 'amqp://u:p@ci-mq.site-a.example:5672/%2F',
          management: { url: 'http://ci-mq:15672', user: 'u', password: 'p' },
        },
      ],
      sources: [{ name: 'jenkins', broker: 'ci', format: 'jenkins', exchange: 'jenkins', mode: 'federation' }],
      http: { port: 8110 },
      ...extra,
    },
    relayConfigSchema,
    'relay.yaml',
  );
}

describe('federation link definitions', () => {
  const cfg = config();
  const link = linksOf(cfg)[0]!;
  const broker = cfg.brokers[0]!;

  it('points the upstream at the site buffer queue through the URL central uses, confirming every message', () => {
    assert.deepEqual(federationUpstream(broker, cfg.site, link), {
      uri: 'amqp://u:p@ci-mq.site-a.example:5672/%2F',
      queue: 'not-relay.site-a.jenkins',
      'ack-mode': 'on-confirm',
      'prefetch-count': 1000,
      'reconnect-delay': 5,
      'trust-user-id': false,
    });
  });

  it('federates exactly the central queue of the same name, and nothing a dot could widen', () => {
    const p = federationPolicy(cfg.site, link);
    assert.equal(p['apply-to'], 'queues');
    assert.deepEqual(p.definition, { 'federation-upstream': 'not-relay-site-a-jenkins' });
    const re = new RegExp(p.pattern);
    assert.ok(re.test('not-relay.site-a.jenkins'));
    assert.ok(!re.test('not-relayXsite-a.jenkins'));
    assert.ok(!re.test('not-relay.site-a.jenkins2'));
  });

  it("limits exactly the source's buffer queue, refusing new messages when full rather than dropping old ones", () => {
    const p = bufferPolicy(cfg.site, { ...link, maxLength: 5000 });
    assert.equal(p['apply-to'], 'queues');
    assert.deepEqual(p.definition, { 'max-length': 5000, overflow: 'reject-publish' });
    const re = new RegExp(p.pattern);
    assert.ok(re.test('not-relay.site-a.jenkins'));
    assert.ok(!re.test('not-relay.site-a.jenkins2'));
    assert.ok(!re.test('not-relayXsite-a.jenkins'));
  });

  it('compares a policy definition whatever the order the broker lists its keys in', () => {
    const p = bufferPolicy(cfg.site, link);
    const listed = { ...p, name: 'x', vhost: '/', definition: { overflow: 'reject-publish', 'max-length': link.maxLength } };
    assert.ok(sameFields(listed, p));
    assert.ok(!sameFields({ ...listed, definition: { overflow: 'reject-publish', 'max-length': 1 } }, p));
  });

  it('shovels the central queue locally to the central exchange with the site routing key and the site credentials', () => {
    assert.equal(centralVhost(cfg), 'prod');
    const s = centralShovel(cfg, link);
    assert.equal(s['src-uri'], 'amqp:///prod');
    assert.equal(s['src-queue'], 'not-relay.site-a.jenkins');
    assert.equal(s['dest-uri'], 'amqp://site-a:pw@central:5672/prod');
    assert.equal(s['dest-exchange-key'], 'site.site-a.jenkins.jenkins');
    assert.equal(s['ack-mode'], 'on-confirm');
    assert.equal(
      centralShovel(config({ central: { urls: ['amqp://x:y@central/%2F'], management: cfg.central.management } }), link)['src-uri'],
      'amqp://',
    );
  });

  it('reads the site shovel from the site broker URL, not the federation one', () => {
    assert.equal(siteShovel(cfg, broker, link)['src-uri'], 'amqp://u:p@ci-mq:5672/%2F');
  });

  it('compares only the fields the relay sets, and a missing routing key as a difference', () => {
    const s = siteShovel(cfg, broker, link);
    assert.ok(sameFields({ ...s, 'src-delete-after': 'never' }, s));
    assert.ok(!sameFields({ ...s, 'dest-exchange-key': 'tampered' }, s));
    const { 'dest-exchange-key': _, ...noKey } = s;
    assert.ok(!sameFields(s, noKey, ['dest-exchange-key']));
  });
});

describe('keeping the routing key a tool published with', () => {
  const cfg = config({
    sources: [{ name: 'eiffel', broker: 'ci', format: 'eiffel', exchange: 'eiffel', keepRoutingKey: true, maxLength: 700 }],
  });
  const link = linksOf(cfg)[0]!;

  it("hands every message of exactly the source's intake queue on to its buffer at once, at least once, under the buffer's limit", () => {
    const p = intakePolicy(cfg.site, link);
    assert.equal(p['apply-to'], 'queues');
    assert.deepEqual(p.definition, {
      'message-ttl': 0,
      'dead-letter-exchange': '',
      'dead-letter-routing-key': 'not-relay.site-a.eiffel',
      'dead-letter-strategy': 'at-least-once',
      'max-length': 700,
      overflow: 'reject-publish',
    });
    const re = new RegExp(p.pattern);
    assert.ok(re.test('not-relay.site-a.eiffel.intake'));
    assert.ok(!re.test('not-relay.site-a.eiffel'));
    assert.ok(!re.test('not-relay.site-a.eiffelXintake'));
  });

  it('is read back at central from the x-death entry of that intake queue', () => {
    // The entry RabbitMQ writes when the message expires from the intake (the dead-lettering guide's x-death fields).
    const key = 'eiffel.activity.EiffelActivityFinishedEvent.mytag.other.domain';
    const death = { queue: 'not-relay.site-a.eiffel.intake', reason: 'expired', count: 1, exchange: 'eiffel', 'routing-keys': [key] };
    assert.equal(keptRoutingKey({ 'x-death': [death] }, 'site-a', 'eiffel'), key);
    assert.equal(keptRoutingKey({ 'x-death': [death] }, 'site-b', 'eiffel'), undefined);
    assert.equal(keptRoutingKey({ 'x-death': 'garbage' }, 'site-a', 'eiffel'), undefined);
    assert.equal(keptRoutingKey({}, 'site-a', 'eiffel'), undefined);
  });

  it('is for Eiffel sources only, and says so by path', () => {
    assert.throws(
      () => config({ sources: [{ name: 'jenkins', broker: 'ci', format: 'jenkins', exchange: 'jenkins', keepRoutingKey: true }] }),
      (err: Error & { problems?: string[] }) =>
        err.problems?.[0] ===
        'sources[0].keepRoutingKey: is for Eiffel sources (the central Eiffel bus republishes with it); source "jenkins" has format jenkins',
    );
    assert.equal(
      linksOf(config()).every((l) => !l.keepRoutingKey),
      true,
      'off unless asked for',
    );
  });
});

describe('federation configuration', () => {
  it('needs the central management API, and says so by path', () => {
    const { central } = config();
    assert.throws(
      () => config({ central: { urls: central.urls } }),
      (err: Error & { problems?: string[] }) =>
        err.problems?.[0] ===
        'sources[0].mode: federation mode needs central.management (url, user, password): the relay keeps the federation upstream and policy on the central broker',
    );
  });

  it('refuses a site broker that is the central broker', () => {
    const { brokers } = config();
    assert.throws(
      () => config({ brokers: [{ ...brokers[0]!, management: { url: 'http://central:15672/', user: 'u', password: 'p' } }] }),
      (err: Error & { problems?: string[] }) =>
        err.problems?.[0] === "brokers[0].management.url: is the central broker's management API; a site broker must be a different broker",
    );
  });
});
