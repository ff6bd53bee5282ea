import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WalkReads } from '@not/graph';
import { explorerConfigSchema } from './explorer.config.js';
import { WALK_PARALLEL, WalkService, type WalkResult, type WalkSeed } from './walk.service.js';

const config = explorerConfigSchema.parse({
  neo4j: { url: 'bolt://127.0.0.1:1', user: 'neo4j', password: 'x' },
  http: { port: 1 },
  auth: { tokens: ['unit-token-000000'] },
});

/** A WalkService whose one-chunk walk is replaced: answers after a delay that differs per chunk, and records concurrency. */
function fakeWalker(delays: (first: string) => number): { walker: WalkService; calls: string[][]; maxInFlight: () => number } {
  const walker = new WalkService({} as WalkReads, config);
  const calls: string[][] = [];
  let inFlight = 0;
  let max = 0;
  walker.walk = async (seeds: readonly WalkSeed[]): Promise<Map<string, WalkResult>> => {
    calls.push(seeds.map((s) => s.origin));
    inFlight++;
    max = Math.max(max, inFlight);
    await new Promise((r) => setTimeout(r, delays(seeds[0]!.origin)));
    inFlight--;
    return new Map(seeds.map((s) => [s.origin, { events: new Set(s.events), entities: new Map(), truncated: false }]));
  };
  return { walker, calls, maxInFlight: () => max };
}

describe('WalkService.walkMany', () => {
  const seeds: WalkSeed[] = Array.from({ length: 23 }, (_, i) => ({ origin: `o${i}`, events: [`e${i}`] }));

  it('walks every origin once, in chunks, with two chunks in flight, and answers in the seeds order', async () => {
    // Early chunks answer last, so chunks finish out of order.
    const { walker, calls, maxInFlight } = fakeWalker((first) => 40 - Number(first.slice(1)));
    const out = await walker.walkMany(seeds, 'up', 5);
    assert.deepEqual(
      [...out.keys()],
      seeds.map((s) => s.origin),
    );
    assert.deepEqual([...out.get('o7')!.events], ['e7']);
    assert.equal(calls.length, 5);
    assert.ok(calls.every((c) => c.length <= 5));
    assert.deepEqual(calls.flat().sort(), seeds.map((s) => s.origin).sort());
    assert.equal(maxInFlight(), WALK_PARALLEL);
  });

  it('walks nothing for no seeds', async () => {
    const { walker, calls } = fakeWalker(() => 0);
    assert.equal((await walker.walkMany([], 'down')).size, 0);
    assert.equal(calls.length, 0);
  });

  it('passes the first failure on and starts no further chunk', async () => {
    const walker = new WalkService({} as WalkReads, config);
    const started: string[] = [];
    walker.walk = async (s: readonly WalkSeed[]) => {
      started.push(s[0]!.origin);
      if (s[0]!.origin === 'o5') throw new Error('graph store unavailable');
      await new Promise((r) => setTimeout(r, 10));
      return new Map();
    };
    await assert.rejects(walker.walkMany(seeds, 'down', 5), /graph store unavailable/);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(started, ['o0', 'o5']);
  });
});
