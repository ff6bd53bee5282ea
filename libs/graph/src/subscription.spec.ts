import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { journeyOf, type JourneyEvent } from './journey.js';
import {
  amqpBody,
  durationMs,
  eventFirings,
  globMatch,
  journeyFirings,
  notificationRoutingKey,
  retryDelayMs,
  signBody,
  stuckSince,
  subscriptionInputSchema,
  verifySignature,
  type Subscription,
  type SubscriptionCondition,
} from './subscription.js';

const ev = (id: string, stage: string, time: string, site = 'site-a', outcome: string | null = null): JourneyEvent => ({
  id,
  stage,
  phase: outcome ? 'finished' : null,
  outcome,
  time,
  site,
});

function journey(
  events: JourneyEvent[],
  repo = 'github.com/acme/shop',
  sha = 'abc1234',
  entities: Array<{ label: string; key: string }> = [],
) {
  return journeyOf({ key: `${repo}@${sha}`, props: { repository: repo, sha } }, events, entities, false);
}

function sub(condition: SubscriptionCondition, extra: Partial<Subscription> = {}): Subscription {
  return {
    id: 'sub-0123456789abcdef',
    owner: 'ci',
    name: 'n',
    enabled: true,
    condition,
    delivery: { type: 'webhook', url: 'http://127.0.0.1:9/hook' },
    createdAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
    areas: [],
    ...extra,
  };
}

const parse = (c: unknown) => subscriptionInputSchema.parse({ name: 'n', condition: c, delivery: { type: 'amqp' } }).condition;

describe('subscription conditions', () => {
  it('refuses malformed conditions with the field and the reason', () => {
    const bad = subscriptionInputSchema.safeParse({
      name: 'n',
      condition: { on: 'stage', stage: 'deploy', change: { commit: 'xyz' } },
      delivery: { type: 'webhook', url: 'ftp://x' },
    });
    assert.equal(bad.success, false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    assert.ok(paths.includes('condition.stage'), paths.join(','));
    assert.ok(
      bad.error!.issues.some((i) => i.path.join('.') === 'delivery.url'),
      paths.join(','),
    );
    const stuck = subscriptionInputSchema.safeParse({
      name: 'n',
      condition: { on: 'stuck', stage: 'test', after: 'soon' },
      delivery: { type: 'amqp' },
    });
    assert.match(stuck.error!.issues[0]!.message, /30m, 4h or 2d/);
    const unknown = subscriptionInputSchema.safeParse({
      name: 'n',
      condition: { on: 'stage', stage: 'test', query: 'MATCH (n) DELETE n' },
      delivery: { type: 'amqp' },
    });
    assert.equal(unknown.success, false);
  });

  it('fires a stage condition once, on the record where the change first reaches the stage in the given repositories', () => {
    const s = sub(parse({ on: 'stage', stage: 'promotion', change: { repository: 'github.com/acme/' } }));
    const before = journey([ev('c', 'commit', '2030-01-01T09:00:00Z'), ev('b', 'build', '2030-01-01T09:10:00Z')]);
    const after = journey([...before.events, ev('p', 'promotion', '2030-01-01T10:00:00Z', 'site-b')]);
    assert.deepEqual(journeyFirings([s], before, before), []);
    const [f] = journeyFirings([s], before, after);
    assert.ok(f);
    assert.equal(f.key, 'sub-0123456789abcdef|github.com/acme/shop@abc1234');
    const body = JSON.parse(f.body) as { change: { commit: string }; events: Array<{ id: string; site: string }> };
    assert.equal(body.change.commit, 'github.com/acme/shop@abc1234');
    assert.deepEqual(body.events, [{ id: 'p', stage: 'promotion', site: 'site-b', time: '2030-01-01T10:00:00Z', outcome: null }]);
    // Already held before: no second firing from a later record.
    const later = journey([...after.events, ev('d', 'deployment', '2030-01-01T11:00:00Z')]);
    assert.deepEqual(journeyFirings([s], after, later), []);
    // A first record that already holds fires (the journey was new).
    assert.equal(journeyFirings([s], undefined, after).length, 1);
    // Another repository, a disabled subscription: nothing.
    assert.deepEqual(journeyFirings([s], undefined, journey(after.events, 'gitlab.com/other/x')), []);
    assert.deepEqual(journeyFirings([{ ...s, enabled: false }], undefined, after), []);
  });

  it('holds a site and an outcome to the events of that stage', () => {
    const events = [
      ev('c', 'commit', '2030-01-01T09:00:00Z'),
      ev('t1', 'test', '2030-01-01T09:30:00Z', 'site-a', 'failure'),
      ev('t2', 'test', '2030-01-01T09:40:00Z', 'site-b', 'success'),
    ];
    const j = journey(events);
    const fire = (c: unknown) => journeyFirings([sub(parse(c))], undefined, j).length;
    assert.equal(fire({ on: 'stage', stage: 'test', site: 'site-a', outcome: 'success' }), 0);
    assert.equal(fire({ on: 'stage', stage: 'test', site: 'site-b', outcome: 'success' }), 1);
    assert.equal(fire({ on: 'stage', stage: 'test', outcome: 'failure' }), 1);
    assert.equal(fire({ on: 'stage', stage: 'test', site: 'site-c' }), 0);
    assert.equal(fire({ on: 'failure' }), 1, 'a failed test is a failure anywhere');
    assert.equal(fire({ on: 'failure', stages: ['build'] }), 0);
    assert.equal(fire({ on: 'stage', stage: 'test', change: { commit: 'ABC1' } }), 1, 'a sha prefix, any case');
    assert.equal(fire({ on: 'stage', stage: 'test', change: { commit: 'abd' + '1' } }), 0);
  });

  it('matches work items and areas of the change', () => {
    const j = journey(
      [ev('c', 'commit', '2030-01-01T09:00:00Z'), ev('b', 'build', '2030-01-01T09:10:00Z')],
      'github.com/acme/pay',
      'abc1234',
      [{ label: 'WorkItem', key: 'PAY-7' }],
    );
    const areas = [{ name: 'payments', repositoryPrefix: 'github.com/acme/pay' }];
    assert.equal(journeyFirings([sub(parse({ on: 'stage', stage: 'build', change: { workItem: 'PAY-7' } }))], undefined, j).length, 1);
    assert.equal(journeyFirings([sub(parse({ on: 'stage', stage: 'build', change: { workItem: 'PAY-8' } }))], undefined, j).length, 0);
    assert.equal(
      journeyFirings([sub(parse({ on: 'stage', stage: 'build', change: { area: 'payments' } }), { areas })], undefined, j).length,
      1,
    );
    assert.equal(
      journeyFirings([sub(parse({ on: 'stage', stage: 'build', change: { area: 'shop' } }), { areas })], undefined, j).length,
      0,
    );
  });

  it('matches artifacts by a key pattern', () => {
    const j = journey(
      [ev('c', 'commit', '2030-01-01T09:00:00Z'), ev('t', 'test', '2030-01-01T09:10:00Z', 'site-a', 'success')],
      undefined,
      undefined,
      [{ label: 'Artifact', key: 'purl:pkg:maven/com.acme/pay@1.2.0' }],
    );
    const fire = (artifact: string) =>
      journeyFirings([sub(parse({ on: 'artifact', artifact, stage: 'test', outcome: 'success' }))], undefined, j).length;
    assert.equal(fire('purl:pkg:maven/com.acme/*'), 1);
    assert.equal(fire('purl:pkg:npm/*'), 0);
    assert.equal(globMatch('a.b*', 'a.bc'), true);
    assert.equal(globMatch('a.b*', 'axbc'), false, 'a dot is literal');
  });

  it('says since when a change waits at its furthest stage, unless it stopped there on a failure', () => {
    const s = sub(parse({ on: 'stuck', stage: 'test', after: '4h' }));
    const waiting = journey([ev('c', 'commit', '2030-01-01T09:00:00Z'), ev('t', 'test', '2030-01-01T10:00:00Z', 'site-a', 'success')]);
    assert.equal(stuckSince(s, waiting), '2030-01-01T10:00:00Z');
    const failed = journey([ev('c', 'commit', '2030-01-01T09:00:00Z'), ev('t', 'test', '2030-01-01T10:00:00Z', 'site-a', 'failure')]);
    assert.equal(stuckSince(s, failed), null);
    const further = journey([...waiting.events, ev('p', 'promotion', '2030-01-01T11:00:00Z')]);
    assert.equal(stuckSince(s, further), null);
    assert.equal(durationMs('4h'), 4 * 3600_000);
    assert.equal(durationMs('1.5d'), 36 * 3600_000);
    assert.throws(() => durationMs('4 hours'), /30m, 4h or 2d/);
  });

  it('fires event conditions on type, site and fields of the body as it arrived', () => {
    const s = sub(
      parse({ on: 'event', type: 'EiffelConfidenceLevelModifiedEvent', fields: { 'data.name': 'stable', 'data.value': 'SUCCESS' } }),
    );
    const body = (value: string) => JSON.stringify({ meta: { id: 'x' }, data: { name: 'stable', value } });
    const e = (id: string, raw: string | null, type = 'EiffelConfidenceLevelModifiedEvent') => ({
      id,
      type,
      site: 'site-a',
      time: '2030-01-01T00:00:00Z',
      raw,
    });
    const fired = eventFirings(
      [s],
      [e('1', body('SUCCESS')), e('2', body('FAILURE')), e('3', 'not json'), e('4', body('SUCCESS'), 'EiffelArtifactCreatedEvent')],
    );
    assert.deepEqual(
      fired.map((f) => f.subject),
      ['1'],
    );
  });
});

describe('deliveries', () => {
  it('signs the body as HMAC-SHA256 in hex, verifiable by any HMAC implementation', () => {
    const body = '{"firing":"f"}';
    const header = signBody('a-secret-of-16-chars', body);
    assert.equal(header, 'sha256=' + createHmac('sha256', 'a-secret-of-16-chars').update(body).digest('hex'));
    assert.equal(verifySignature('a-secret-of-16-chars', body, header), true);
    assert.equal(verifySignature('a-secret-of-16-chars', body + ' ', header), false);
    assert.equal(verifySignature('another-secret-0000', body, header), false);
    assert.equal(verifySignature('a-secret-of-16-chars', body, undefined), false);
  });

  it('doubles the retry delay from one second up to the cap', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 10, 50].map((a) => retryDelayMs(a, 60_000)),
      [1000, 2000, 4000, 8000, 60_000, 60_000],
    );
  });

  it('routes AMQP notifications by subscription, and shapes them for the Jenkins RabbitMQ Build Trigger plugin', () => {
    const s = sub(parse({ on: 'stage', stage: 'promotion' }), {
      delivery: { type: 'amqp', jenkins: { project: 'system-test', token: 'tok' } },
    });
    assert.equal(notificationRoutingKey(s), 'subscription.sub-0123456789abcdef');
    assert.equal(notificationRoutingKey({ ...s, delivery: { type: 'amqp', routingKey: 'promotions.shop' } }), 'promotions.shop');
    const body = JSON.stringify({ firing: 'f1', subscription: { id: s.id }, change: { commit: 'github.com/acme/shop@abc', sha: 'abc' } });
    const m = amqpBody(s, body);
    // The plugin's "Application Message Format": app_id remote-build, {project, token, parameter: [{name, value}]}.
    assert.equal(m.appId, 'remote-build');
    assert.deepEqual(JSON.parse(m.body), {
      project: 'system-test',
      token: 'tok',
      parameter: [
        { name: 'TRACES_FIRING', value: 'f1' },
        { name: 'TRACES_SUBSCRIPTION', value: s.id },
        { name: 'TRACES_COMMIT', value: 'github.com/acme/shop@abc' },
        { name: 'TRACES_SHA', value: 'abc' },
      ],
    });
    assert.deepEqual(amqpBody({ delivery: { type: 'amqp' } }, body), { body, appId: 'network-of-traces' });
  });
});
