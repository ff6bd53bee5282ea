import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { idleDelay, OutboxLoop } from './outbox.loop.js';

describe('outbox loop: looks again soon while there is work, less often while there is none', () => {
  it('waits the base after a look that found work, then doubles while looks find none, up to the most', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((n) => idleDelay(500, 5000, n)),
      [500, 500, 1000, 2000, 4000, 5000, 5000],
    );
    // A most below the base is the base; a long quiet stays at the most.
    assert.equal(idleDelay(1000, 200, 5), 1000);
    assert.equal(idleDelay(1000, 10_000, 10_000), 10_000);
  });

  it('runs rounds on that schedule; a round with work, or a kick, brings the next look back at once', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const found: boolean[] = [];
      let work = false;
      const loop = new OutboxLoop(
        async () => {
          found.push(work);
          return work;
        },
        () => 100,
        () => 400,
      );
      const settle = async (): Promise<void> => {
        for (let i = 0; i < 5; i++) await Promise.resolve();
      };
      const advance = async (ms: number): Promise<void> => {
        mock.timers.tick(ms);
        await settle();
      };
      loop.kick();
      await settle();
      assert.equal(found.length, 1, 'the first look at once');
      // Idle looks: after 100, 200, 400, then 400 ms (no longer than the most), none a millisecond sooner.
      for (const [wait, looks] of [
        [100, 2],
        [200, 3],
        [400, 4],
        [400, 5],
      ] as const) {
        await advance(wait - 1);
        assert.equal(found.length, looks - 1, `look ${looks} waits ${wait} ms`);
        await advance(1);
        assert.equal(found.length, looks);
      }
      // Work appears: a kick looks at once, and the next look is back at the base.
      work = true;
      loop.kick();
      await settle();
      assert.equal(found.length, 6);
      await advance(100);
      assert.equal(found.length, 7);
      work = false;
      await advance(100);
      assert.equal(found.length, 8, 'the first idle look after work waits the base');
      await loop.close();
      await advance(10_000);
      assert.equal(found.length, 8, 'no look after close');
    } finally {
      mock.timers.reset();
    }
  });
});
