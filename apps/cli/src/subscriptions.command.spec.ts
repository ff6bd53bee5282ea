import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { subscriptionInputSchema } from '@not/graph';
import { parseArgs, UsageError } from './args.js';
import { conditionOf, deliveryOf, SUBSCRIBE_VALUED } from './subscriptions.command.js';

const args = (...a: string[]) => parseArgs(a, SUBSCRIBE_VALUED());
/** What the explorer would accept: the API's own schema. */
const accepted = (...a: string[]) =>
  subscriptionInputSchema.safeParse({ name: 'n', condition: conditionOf(args(...a)), delivery: deliveryOf(args(...a)) });

describe('traces subscribe: options to the API body', () => {
  it('builds each kind of condition the API accepts', () => {
    for (const a of [
      ['--stage', 'promotion', '--repository', 'github.com/acme/', '--webhook', 'http://127.0.0.1:9000/hook'],
      ['--stage', 'test', '--site', 'site-b', '--outcome', 'success', '--work-item', 'PAY-1', '--amqp'],
      [
        '--artifact',
        'purl:pkg:maven/com.acme/*',
        '--stage',
        'deployment',
        '--amqp',
        '--jenkins-project',
        'system-test',
        '--jenkins-token',
        't',
      ],
      ['--failure', '--stages', 'build,test', '--area', 'payments', '--amqp', '--routing-key', 'failures.payments'],
      ['--stuck', 'test', '--after', '4h', '--amqp'],
      ['--event', 'EiffelConfidenceLevelModifiedEvent', '--field', 'data.name=stable,data.value=SUCCESS', '--amqp'],
      ['--condition', '{"on":"stage","stage":"release"}', '--amqp'],
      ['--insight', 'forecast,breach', '--segments', 'waiting-for-build', '--sites', 'site-a,site-b', '--amqp'],
      ['--insight', 'any', '--areas', 'payments', '--metrics', 'queue', '--amqp'],
    ]) {
      const r = accepted(...a);
      assert.ok(r.success, `${a.join(' ')}: ${JSON.stringify(r.error?.issues)}`);
    }
    assert.deepEqual(conditionOf(args('--event', 'push', '--field', 'ref=refs/heads/main')), {
      on: 'event',
      type: 'push',
      fields: { ref: 'refs/heads/main' },
    });
    assert.deepEqual(conditionOf(args('--insight', 'forecast', '--sites', 'site-a, site-b')), {
      on: 'insight',
      types: ['forecast'],
      sites: ['site-a', 'site-b'],
    });
    assert.deepEqual(conditionOf(args('--insight', 'any')), { on: 'insight' });
  });

  it('says what is missing or contradictory', () => {
    assert.throws(() => conditionOf(args('--repository', 'x')), UsageError);
    assert.throws(() => conditionOf(args('--failure', '--stuck', 'test')), /give one condition/);
    assert.throws(() => conditionOf(args('--event', 'push', '--field', 'noequals')), /PATH=VALUE/);
    assert.throws(() => deliveryOf(args()), /--webhook URL or --amqp/);
    assert.throws(() => deliveryOf(args('--amqp', '--jenkins-project', 'x')), /go together/);
    assert.throws(() => conditionOf(args('--condition', '{nope')), /must be JSON/);
    // An invalid stage is left to the API, which names it.
    const r = accepted('--stage', 'shipping', '--amqp');
    assert.equal(r.success, false);
    assert.throws(() => conditionOf(args('--insight', 'forecast', '--event', 'push')), /give one condition/);
    const bad = accepted('--insight', 'bottleneck', '--amqp');
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error?.issues[0]?.path, ['condition', 'types', 0]);
  });
});
