import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicyDefinition, ShovelDefinition } from '@not/messaging';
import { bufferLimit, planBufferPolicies, planCentral, planSiteShovels, type CentralState, type FederatedLink } from './reconcile.plan.js';

const shovel = (queue: string, key = 'site.a.ci.eiffel'): ShovelDefinition =>
  ({
    'src-uri': 'amqp://site',
    'src-queue': queue,
    'dest-uri': 'amqp://central',
    'dest-exchange': 'not.central',
    'dest-exchange-key': key,
    'ack-mode': 'on-confirm',
  }) as ShovelDefinition;

const kinds = (plan: ReadonlyArray<{ kind: string; name: string }>) => plan.map((a) => `${a.kind} ${a.name}`);

describe('site plan: shovels', () => {
  const own = 'not-relay-a-';
  const wanted = new Map([
    ['not-relay-a-ci', shovel('not-relay.a.ci')],
    ['not-relay-a-jenkins', shovel('not-relay.a.jenkins', 'site.a.jenkins.jenkins')],
  ]);

  it('creates what is missing, replaces what differs, keeps what matches', () => {
    const existing = new Map<string, unknown>([
      ['not-relay-a-ci', { ...shovel('not-relay.a.ci') }],
      ['not-relay-a-jenkins', { ...shovel('not-relay.a.jenkins', 'site.a.jenkins.jenkins'), 'ack-mode': 'no-ack' }],
    ]);
    assert.deepEqual(kinds(planSiteShovels(wanted, existing, own)), ['put-shovel not-relay-a-jenkins']);
    const plan = planSiteShovels(wanted, new Map([['not-relay-a-ci', shovel('not-relay.a.ci')]]), own);
    assert.deepEqual(kinds(plan), ['put-shovel not-relay-a-jenkins']);
    assert.equal(plan[0]!.kind === 'put-shovel' && plan[0]!.verb, 'created');
  });

  it("deletes the relay's own shovels that are no longer wanted, and never anyone else's", () => {
    const existing = new Map<string, unknown>([
      ['not-relay-a-ci', shovel('not-relay.a.ci')],
      ['not-relay-a-jenkins', shovel('not-relay.a.jenkins', 'site.a.jenkins.jenkins')],
      ['not-relay-a-old', shovel('not-relay.a.old')],
      ['not-relay-b-ci', shovel('not-relay.b.ci')],
      ['operators-own', shovel('x')],
    ]);
    assert.deepEqual(kinds(planSiteShovels(wanted, existing, own)), ['delete-shovel not-relay-a-old']);
  });

  it('plans nothing when the broker is as configured (a second pass changes nothing)', () => {
    assert.deepEqual(planSiteShovels(wanted, new Map<string, unknown>(wanted), own), []);
  });
});

describe('central plan: federation', () => {
  const names = {
    ownName: 'not-relay-a-',
    ownQueue: 'not-relay.a.',
    linkOfQueue: (q: string) => `not-relay-a-${q.slice('not-relay.a.'.length)}`,
    exchange: 'not.central',
  };
  const link = (source: string, conflict = false): FederatedLink => ({
    name: `not-relay-a-${source}`,
    queue: `not-relay.a.${source}`,
    broker: 'tools',
    upstream: { uri: 'amqp://site', queue: `not-relay.a.${source}` } as FederatedLink['upstream'],
    policy: {
      pattern: `^not-relay\\.a\\.${source}$`,
      definition: { 'federation-upstream': `not-relay-a-${source}` },
      'apply-to': 'queues',
      priority: 1,
    } as FederatedLink['policy'],
    shovel: shovel(`not-relay.a.${source}`),
    conflict,
  });
  const empty: CentralState = { upstreams: new Map(), policies: new Map(), shovels: new Map(), queues: new Map() };
  const complete = (l: FederatedLink): CentralState => ({
    upstreams: new Map([[l.name, { ...l.upstream }]]),
    policies: new Map([[l.name, { ...l.policy }]]),
    shovels: new Map([[l.name, { ...l.shovel }]]),
    queues: new Map([[l.queue, { messages: 0 }]]),
  });

  it('creates upstream, policy, transit queue and shovel for a new federated source, in that order', () => {
    const { actions, waiting } = planCentral([link('ci')], empty, names);
    assert.deepEqual(kinds(actions), [
      'put-upstream not-relay-a-ci',
      'put-policy not-relay-a-ci',
      'create-queue not-relay-a-ci',
      'put-shovel not-relay-a-ci',
    ]);
    assert.equal(waiting.size, 0);
  });

  it('plans nothing for a complete link, and replaces only the part that drifted', () => {
    const l = link('ci');
    assert.deepEqual(planCentral([l], complete(l), names).actions, []);
    const drifted = { ...complete(l), policies: new Map([[l.name, { ...l.policy, priority: 9 }]]) };
    const [a] = planCentral([l], drifted, names).actions;
    assert.equal(a?.kind, 'put-policy');
    assert.equal(a?.kind === 'put-policy' && a.verb, 'replaced');
  });

  it('creates nothing for a source whose site buffer has the wrong type', () => {
    assert.deepEqual(planCentral([link('ci', true)], empty, names).actions, []);
  });

  it('for a source no longer federated: stops pulling at once, retires an empty queue with its shovel, waits for a full one', () => {
    const gone = link('old');
    const have: CentralState = { ...complete(gone), queues: new Map([[gone.queue, { messages: 0 }]]) };
    // With its policy still there: policy and upstream go first; the queue waits for the next pass.
    assert.deepEqual(kinds(planCentral([], have, names).actions), ['delete-policy not-relay-a-old', 'delete-upstream not-relay-a-old']);
    // Next pass: no policy, no upstream; the queue is empty, so queue and shovel are retired together.
    const next: CentralState = { ...have, policies: new Map(), upstreams: new Map() };
    const { actions } = planCentral([], next, names);
    assert.deepEqual(kinds(actions), ['retire-queue not-relay-a-old']);
    assert.ok(actions[0]!.kind === 'retire-queue' && actions[0]!.shovel, 'the shovel is put back if the queue is not empty after all');
    // A queue that still holds messages is not touched, and says why.
    const full = planCentral([], { ...next, queues: new Map([[gone.queue, { messages: 12 }]]) }, names);
    assert.deepEqual(full.actions, []);
    assert.match(full.waiting.get('not-relay-a-old:drain') ?? '', /still holds 12 messages; its shovel not-relay-a-old stays/);
    const orphan = planCentral([], { ...next, shovels: new Map(), queues: new Map([[gone.queue, { messages: 3 }]]) }, names);
    assert.match(orphan.waiting.get('not-relay-a-old:drain') ?? '', /has no shovel: move them to not.central by hand/);
  });

  it("deletes a shovel left without its queue, and never touches another site's or an operator's objects", () => {
    const have: CentralState = {
      upstreams: new Map([
        ['not-relay-b-ci', {}],
        ['manual', {}],
      ]),
      policies: new Map([['not-relay-b-ci', {}]]),
      shovels: new Map([
        ['not-relay-a-stale', shovel('not-relay.a.stale')],
        ['not-relay-b-ci', shovel('not-relay.b.ci')],
      ]),
      queues: new Map([
        ['not-relay.b.ci', { messages: 0 }],
        ['orders', { messages: 0 }],
      ]),
    };
    assert.deepEqual(kinds(planCentral([], have, names).actions), ['delete-shovel not-relay-a-stale']);
  });
});

describe('site plan: buffer policies', () => {
  const policy = (max: number): PolicyDefinition => ({
    pattern: '^not-relay\\.a\\.ci$',
    'apply-to': 'queues',
    priority: 100,
    definition: { 'max-length': max, overflow: 'reject-publish' },
  });
  const wanted = new Map([['not-relay-a-ci', policy(1000)]]);

  it('creates a missing policy, replaces one with another limit, keeps one that matches', () => {
    assert.deepEqual(kinds(planBufferPolicies(wanted, new Map())), ['put-policy not-relay-a-ci']);
    const [changed] = planBufferPolicies(wanted, new Map([['not-relay-a-ci', { ...policy(500), name: 'not-relay-a-ci', vhost: '/' }]]));
    assert.equal(changed?.kind === 'put-policy' && changed.verb, 'replaced');
    assert.deepEqual(
      planBufferPolicies(wanted, new Map([['not-relay-a-ci', { ...policy(1000), name: 'not-relay-a-ci', vhost: '/' }]])),
      [],
    );
  });

  it('never deletes a policy, not even of a source no longer configured (its queue stays, with its limit)', () => {
    assert.deepEqual(planBufferPolicies(new Map(), new Map([['not-relay-a-old', policy(1000)]])), []);
  });
});

describe('the limit a buffer queue has in effect', () => {
  const q = 'not-relay.a.ci';
  const own = 'not-relay-a-ci';
  const byPolicy = (max: number, overflow = 'reject-publish') => ({
    policy: own,
    effective_policy_definition: { 'max-length': max, overflow },
  });

  it("is the policy's when the queue has no arguments", () => {
    assert.deepEqual(bufferLimit(q, { arguments: { 'x-queue-type': 'quorum' }, ...byPolicy(1000) }, own, 1000), { limit: 1000 });
  });

  it('is the smaller of an old x-max-length argument and the policy, and says how to move it to the policy', () => {
    const old = { arguments: { 'x-queue-type': 'quorum', 'x-max-length': 500, 'x-overflow': 'reject-publish' } };
    const r = bufferLimit(q, { ...old, ...byPolicy(1000) }, own, 1000);
    assert.equal(r.limit, 500);
    assert.match(r.problem ?? '', /declared with x-max-length 500 by an earlier relay.*Buffer queue limits/);
    // A lower maxLength than the argument takes effect through the policy: nothing to report.
    assert.deepEqual(bufferLimit(q, { ...old, ...byPolicy(200) }, own, 200), { limit: 200 });
  });

  it('is a problem when a full buffer would drop its oldest messages', () => {
    assert.match(bufferLimit(q, byPolicy(1000, 'drop-head'), own, 1000).problem ?? '', /overflow drop-head.*must be reject-publish/);
    const other = { policy: 'everything', effective_policy_definition: { 'max-length': 10 } };
    assert.match(bufferLimit(q, other, own, 1000).problem ?? '', /overflow unset \(policy everything is in effect, not not-relay-a-ci/);
    assert.match(bufferLimit(q, { effective_policy_definition: {} }, own, 1000).problem ?? '', /no policy is in effect/);
  });

  it("is the configured one, without a problem, before the broker reports the queue's policy (a new queue, before its first statistics)", () => {
    assert.deepEqual(bufferLimit(q, { arguments: { 'x-queue-type': 'quorum' } }, own, 1000), { limit: 1000 });
  });
});
