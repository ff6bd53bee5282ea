import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTree } from './er-tree.js';

describe("EI's tree form", () => {
  it('nests what each event reaches after it, leaves as plain events (UpStreamEventsHandler.traverseTree)', () => {
    // EI's javadoc example: [A, [B, C, [D, E]], [F, [N, [G, H]]], [I, [J, [K, L, [M]]]]] — here a smaller one of the same form.
    const parent = new Map([
      ['B', 'A'],
      ['F', 'A'],
      ['C', 'B'],
      ['D', 'B'],
      ['E', 'D'],
    ]);
    const tree = buildTree('A', ['B', 'F', 'C', 'D', 'E'], parent, (id) => ({ id }));
    assert.deepEqual(tree, [{ id: 'A' }, [{ id: 'B' }, { id: 'C' }, [{ id: 'D' }, { id: 'E' }]], { id: 'F' }]);
  });

  it('is the start event alone when nothing is reached', () => {
    assert.deepEqual(
      buildTree('A', [], new Map(), (id) => id),
      ['A'],
    );
  });
});
