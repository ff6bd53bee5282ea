import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryStep } from '@not/graph';
import { Ancestry, componentsOf, FIRST_BASE, historyBetween, packageOf } from './release.history.js';

/** A commit graph as `child -> [parents]`, answered as the graph store would. */
function ancestry(edges: Record<string, string[]>, via: HistoryStep['via'] = 'parent') {
  const calls: string[][] = [];
  const earlier = async (keys: readonly string[]): Promise<HistoryStep[]> => {
    calls.push([...keys]);
    return keys.flatMap((k) => (edges[k] ?? []).map((to) => ({ from: k, to, via })));
  };
  return { earlier, calls };
}

describe('release history', () => {
  it('names a package by its purl without version and qualifiers', () => {
    assert.deepEqual(packageOf('pkg:maven/com.acme/app@1.2.0?type=jar'), { name: 'pkg:maven/com.acme/app', version: '1.2.0' });
    assert.deepEqual(packageOf('pkg:oci/shop@sha256%3Aab12?repository_url=r'), { name: 'pkg:oci/shop', version: 'sha256:ab12' });
    assert.deepEqual(packageOf('pkg:npm/%40acme/ui'), { name: 'pkg:npm/%40acme/ui', version: null });
  });

  it("takes as components the artifacts built from commits of their own; a composite's commits are its parts'", () => {
    const up = new Map([
      ['lib', { artifacts: new Set(['lib']), commits: new Set(['r/lib@2', 'r/lib@1']) }],
      ['image', { artifacts: new Set(['image', 'lib', 'app']), commits: new Set(['r/lib@2', 'r/lib@1', 'r/app@9']) }],
      ['app', { artifacts: new Set(['app']), commits: new Set(['r/app@9']) }],
      ['bundle', { artifacts: new Set(['bundle', 'lib']), commits: new Set(['r/lib@2', 'r/lib@1']) }],
    ]);
    const got = componentsOf(up, new Map([['lib', 'pkg:maven/acme/lib@2.0']]));
    assert.deepEqual(got, [
      { name: 'r/app', artifact: 'app', version: null, builtFrom: ['r/app@9'] },
      { name: 'pkg:maven/acme/lib', artifact: 'lib', version: '2.0', builtFrom: ['r/lib@1', 'r/lib@2'] },
    ]);
  });

  it('lists every commit between the base and the head, through merges, and says the history is complete', async () => {
    // b0 <- x1 <- x2 <- m (merge of x2 and y1) <- h ; y1 <- b0 ; b0 <- old
    const { earlier } = ancestry({ h: ['m'], m: ['x2', 'y1'], x2: ['x1'], x1: ['b0'], y1: ['b0'], b0: ['old'] });
    const h = await historyBetween(['h'], ['b0'], earlier, 100);
    assert.deepEqual(h, { commits: ['h', 'm', 'x1', 'x2', 'y1'], state: 'complete', via: ['parent'], truncated: false });
  });

  it('flags a gap when a path back ends before the base, and keeps what it knows', async () => {
    const { earlier } = ancestry({ h: ['m'], m: ['x1', 'y1'], x1: ['b0'] }); // y1's parents are not known
    const h = await historyBetween(['h'], ['b0'], earlier, 100);
    assert.deepEqual([h.commits, h.state], [['h', 'm', 'x1', 'y1'], 'gap']);
  });

  it('does not count a merged older branch as new: commits before the base stay out', async () => {
    // The head merges in 'old2', which the base already had (b0 <- old2).
    const { earlier } = ancestry({ h: ['b0', 'old2'], b0: ['old2'], old2: ['old1'] });
    assert.deepEqual((await historyBetween(['h'], ['b0'], earlier, 100)).commits, ['h']);
  });

  it('says a component went back when its head is before the base, with no commits', async () => {
    const { earlier } = ancestry({ b1: ['b0'], b0: ['a'] });
    assert.deepEqual(await historyBetween(['b0'], ['b1'], earlier, 100), { commits: [], state: 'back', via: [], truncated: false });
    assert.equal((await historyBetween(['b1'], ['b1'], earlier, 100)).state, 'complete', 'the same commit: nothing new');
  });

  it("takes a push's commits as history of its head, closed by the push's before commit", async () => {
    const steps: Record<string, HistoryStep[]> = {
      h: [
        { from: 'h', to: 'p1', via: 'push-list' },
        { from: 'h', to: 'p2', via: 'push-list' },
        { from: 'h', to: 'b0', via: 'push' },
      ],
    };
    const earlier = async (keys: readonly string[]) => keys.flatMap((k) => steps[k] ?? []);
    assert.deepEqual(await historyBetween(['h'], ['b0'], earlier, 100), {
      commits: ['h', 'p1', 'p2'],
      state: 'complete',
      via: ['push'],
      truncated: false,
    });
    // Without the before commit the push's head has nothing closing its history: a gap.
    const noBefore = async (keys: readonly string[]) => keys.flatMap((k) => (steps[k] ?? []).filter((s) => s.via === 'push-list'));
    assert.equal((await historyBetween(['h'], ['b0'], noBefore, 100)).state, 'gap');
  });

  it("follows a merged request's head from its merge commit, but knows the merge's other side is missing without the push", async () => {
    const steps: Record<string, HistoryStep[]> = {
      m: [{ from: 'm', to: 'h', via: 'merge' }],
      h: [{ from: 'h', to: 'b0', via: 'parent' }],
    };
    const earlier = async (keys: readonly string[]) => keys.flatMap((k) => steps[k] ?? []);
    const alone = await historyBetween(['m'], ['b0'], earlier, 100);
    assert.deepEqual([alone.commits, alone.state, alone.via], [['h', 'm'], 'gap', ['merge', 'parent']]);
    // With the push of the target branch (head m, before b0) the merge's history is whole.
    steps['m']!.push({ from: 'm', to: 'b0', via: 'push' });
    assert.equal((await historyBetween(['m'], ['b0'], earlier, 100)).state, 'complete');
  });

  it('stops at the limit and says so', async () => {
    const chain: Record<string, string[]> = {};
    for (let i = 0; i < 50; i++) chain[`c${i + 1}`] = [`c${i}`];
    const { earlier } = ancestry(chain);
    const h = await historyBetween(['c50'], ['c0'], earlier, 10);
    assert.deepEqual([h.commits.length, h.truncated, h.state], [10, true, 'gap']);
    assert.equal((await historyBetween(['c5'], [], earlier, 100)).state, 'first');
    // The base's own past read back only 3 commits: a linear history still stops at the base itself.
    assert.deepEqual(await historyBetween(['c45'], ['c40'], earlier, 100, 3), {
      commits: ['c41', 'c42', 'c43', 'c44', 'c45'],
      state: 'complete',
      via: ['parent'],
      truncated: false,
    });
  });

  it("reads the base's past further back only when a path goes past its newest commits", async () => {
    // b0 <- o1 <- ... <- o300 (the base's long past); the head merges o250, a commit far back in it.
    const edges: Record<string, string[]> = { b0: ['o1'], x1: ['b0'], m: ['x1', 'o250'], h: ['m'] };
    for (let i = 1; i < 300; i++) edges[`o${i}`] = [`o${i + 1}`];
    const { earlier, calls } = ancestry(edges);
    assert.deepEqual(await historyBetween(['h'], ['b0'], earlier, 1000), {
      commits: ['h', 'm', 'x1'],
      state: 'complete',
      via: ['parent'],
      truncated: false,
    });
    // A linear history needs none of it: the base's newest commits are all that is read of its past.
    const linear = ancestry(edges);
    assert.deepEqual((await historyBetween(['x1'], ['b0'], linear.earlier, 1000)).commits, ['x1']);
    const read = new Set(linear.calls.flat());
    assert.ok(read.size <= FIRST_BASE + 2, `${read.size} commits read for one new commit`);
    assert.ok(new Set(calls.flat()).has('o299'), 'the merge of o250 sent the walk back through the whole past');
  });

  describe('ancestry read in neighbourhoods', () => {
    /** `child -> [parents]`, answered `depth` steps around each asked commit, as HistoryReads.earlierAround does. */
    function around(edges: Record<string, string[]>, depth: number) {
      const calls: string[][] = [];
      const read = async (keys: readonly string[]) => {
        calls.push([...keys]);
        const known = new Set<string>();
        let frontier = [...keys];
        for (let d = 0; d <= depth && frontier.length; d++) {
          const next: string[] = [];
          for (const k of frontier) if (!known.has(k) && (known.add(k), true)) next.push(...(edges[k] ?? []));
          frontier = next;
        }
        const steps = [...known].flatMap((k) => (edges[k] ?? []).map((to) => ({ from: k, to, via: 'parent' as const })));
        return { steps, known: [...known] };
      };
      return { read, calls };
    }

    it('gives the same history as one read per step, in far fewer reads', async () => {
      const chain: Record<string, string[]> = {};
      for (let i = 1; i <= 100; i++) chain[`c${i}`] = [`c${i - 1}`];
      chain['c60'] = ['c59', 'f2'];
      chain['f2'] = ['f1'];
      chain['f1'] = ['c30'];
      const stepwise = await historyBetween(['c90'], ['c50'], ancestry(chain).earlier, 1000);
      const { read, calls } = around(chain, 10);
      const ancestryCache = new Ancestry(read);
      assert.deepEqual(await historyBetween(['c90'], ['c50'], ancestryCache.earlier, 1000), stepwise);
      assert.deepEqual(stepwise.commits.length, 42, 'c51..c90 and the branch f1, f2');
      assert.ok(calls.length <= 12, `${calls.length} reads for a walk of about 90 steps back, 10 steps a read`);
    });

    it('sends the commits asked for by walks at the same time in one read, and reads each commit once', async () => {
      const { read, calls } = around({ a2: ['a1'], b2: ['b1'], a1: ['a0'] }, 0);
      const cache = new Ancestry(read);
      const [a, b] = await Promise.all([cache.earlier(['a2']), cache.earlier(['b2', 'a2'])]);
      assert.deepEqual(calls, [['a2', 'b2']]);
      assert.deepEqual(a, [{ from: 'a2', to: 'a1', via: 'parent' }]);
      assert.deepEqual(
        b.map((s) => s.to),
        ['b1', 'a1'],
      );
      // Known now, with or without steps back: no further read.
      assert.deepEqual(await cache.earlier(['b2']), [{ from: 'b2', to: 'b1', via: 'parent' }]);
      assert.deepEqual(await cache.earlier(['a1']), [{ from: 'a1', to: 'a0', via: 'parent' }]);
      assert.deepEqual(await cache.earlier(['zz']), []);
      assert.deepEqual(await cache.earlier(['zz']), []);
      assert.deepEqual(calls, [['a2', 'b2'], ['a1'], ['zz']]);
    });

    it('passes a failed read on to every walk waiting for it, and reads those commits again next time', async () => {
      let fail = true;
      const cache = new Ancestry(async (keys) => {
        if (fail) throw new Error('the graph store is away');
        return { steps: keys.map((k) => ({ from: k, to: 'p', via: 'parent' as const })), known: [...keys] };
      });
      const both = await Promise.allSettled([cache.earlier(['x']), cache.earlier(['y'])]);
      assert.deepEqual(
        both.map((r) => r.status),
        ['rejected', 'rejected'],
      );
      fail = false;
      assert.deepEqual(await cache.earlier(['x']), [{ from: 'x', to: 'p', via: 'parent' }]);
    });
  });
});
