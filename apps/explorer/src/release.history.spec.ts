import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryStep } from '@not/graph';
import { componentsOf, historyBetween, packageOf } from './release.history.js';

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
});
