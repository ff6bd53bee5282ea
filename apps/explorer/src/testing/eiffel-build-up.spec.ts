import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '@not/events';
import { eiffelBuildUp } from './eiffel-build-up.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = Date.parse('2026-10-01T12:00:00Z');
const o = { now, historyMs: 6 * DAY, onsetAgoMs: 3 * DAY, everyMs: HOUR / 2, baseWaitMs: 20 * 60_000, growth: 1 / 15, objective: 13 };

describe('eiffel build-up', () => {
  it('grows the planned queue as merges at rate λ with a linearly growing wait make it: λ(w0 + g·(t − onset))/(1 + g)', () => {
    const b = eiffelBuildUp('spec', o);
    const lambda = 2 / HOUR;
    for (const days of [0.5, 1, 2, 3, 4]) {
      const t = b.onset + days * DAY;
      const expected = (lambda * (o.baseWaitMs + o.growth * days * DAY)) / (1 + o.growth);
      assert.ok(Math.abs(b.queueAt(t) - expected) <= 1, `at onset + ${days} d: ${b.queueAt(t)} against ${expected.toFixed(2)}`);
    }
    assert.ok(b.queueAt(b.onset - DAY) <= 1, 'before the onset a change waits 20 min: at most one waiting');
  });

  it('crosses the objective where the planned queue first reaches it, after now', () => {
    const b = eiffelBuildUp('spec', o);
    const continuous = (t: number): number => ((2 / HOUR) * (o.baseWaitMs + o.growth * (t - b.onset))) / (1 + o.growth);
    assert.ok(b.crossing > now);
    // The queue counts whole changes: the crossing is where λ(w0 + g·(t − onset))/(1 + g) is within one change of 13.
    assert.ok(Math.abs(continuous(b.crossing) - 13) <= 1, `${continuous(b.crossing).toFixed(2)} at the crossing`);
    assert.equal(b.crossing % HOUR, 0, 'at the end of a clock hour');
    assert.ok(b.queueAt(b.crossing) >= 13 && b.queueAt(b.crossing - HOUR) < 13);
  });

  it('is valid Eiffel that the parser accepts without warnings', () => {
    for (const event of eiffelBuildUp('spec', o).events) {
      const r = parseMessage({ body: Buffer.from(JSON.stringify(event)), headers: {}, routingKey: 'site.site-a.ci.eiffel' });
      assert.ok(r.ok, `${event.meta.type}: ${r.ok ? '' : r.rejection.reason}`);
      assert.deepEqual(r.warnings, [], event.meta.type);
    }
  });

  it('publishes only what happened by now, and ends the build-up with one trigger per waiting change', () => {
    const b = eiffelBuildUp('spec', o);
    assert.ok(b.events.every((e) => e.meta.time <= now));
    const merges = b.events.filter((e) => e.meta.type === 'EiffelSourceChangeSubmittedEvent').length;
    const triggers = b.events.filter((e) => e.meta.type === 'EiffelActivityTriggeredEvent').length;
    assert.equal(merges - triggers, b.queueAt(now));
    assert.equal(b.triggersAt(now + 1).length, b.queueAt(now));
  });
});
