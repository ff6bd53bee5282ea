/**
 * Eiffel Intelligence's tree form of a search result (UpStreamEventsHandler.traverseTree in
 * eiffel-intelligence): an array whose first element is an event and whose other elements are either
 * events (leaves) or arrays of the same form (an event with what it reaches), e.g.
 * `[A, [B, C, [D, E]], F]`: A reaches B and F, B reaches C and D, D reaches E.
 */
/** An event (its parsed body) or a nested array of the same form. */
export type TreeNode = unknown;

/** Builds the tree from the walk's parent of each event (first reached through it), children in walk order. */
export function buildTree(
  root: string,
  order: readonly string[],
  parentOf: ReadonlyMap<string, string>,
  body: (id: string) => unknown,
): TreeNode[] {
  const children = new Map<string, string[]>();
  for (const id of order) {
    const p = parentOf.get(id);
    if (p === undefined) continue;
    const list = children.get(p);
    if (list) list.push(id);
    else children.set(p, [id]);
  }
  const build = (id: string): TreeNode[] => [body(id), ...(children.get(id) ?? []).map((c) => (children.has(c) ? build(c) : body(c)))];
  return build(root);
}
