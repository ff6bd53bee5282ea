import type { HistoryEdge, HistoryStep } from '@not/graph';

/**
 * A release's components and their history between releases (docs/explorer.md, "Release contents").
 * Pure, apart from the one lookup of commit ancestry it is given.
 */

/** What an upstream walk from one artifact met: the artifacts and commits inside it. */
export interface ArtifactUpstream {
  readonly artifacts: ReadonlySet<string>;
  readonly commits: ReadonlySet<string>;
}

/** A component of a release: an artifact built from commits of its own (not only through artifacts inside it). */
export interface Component {
  /** The package (purl without version and qualifiers), else the repository it was built from, else the artifact key. */
  readonly name: string;
  readonly artifact: string;
  /** The purl's version, else null. */
  readonly version: string | null;
  /** The commits it was built from. */
  readonly builtFrom: readonly string[];
}

/** `pkg:maven/com.acme/app@1.2.0?type=jar` -> name `pkg:maven/com.acme/app`, version `1.2.0`. */
export function packageOf(purl: string): { name: string; version: string | null } {
  const plain = purl.replace(/[?#].*$/, '');
  const at = plain.lastIndexOf('@');
  return at > plain.indexOf('/') && at > 0
    ? { name: plain.slice(0, at), version: decodeURIComponent(plain.slice(at + 1)) }
    : { name: plain, version: null };
}

/**
 * The components among a release's artifacts: an artifact's own commits are those upstream of it
 * that are not upstream of another artifact inside it (a composite's commits belong to its parts).
 * Two artifacts with the same name keep their keys apart (`name#2`, … in key order).
 */
export function componentsOf(upstream: ReadonlyMap<string, ArtifactUpstream>, purls: ReadonlyMap<string, string>): Component[] {
  const out: Component[] = [];
  for (const [artifact, up] of [...upstream.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const inner = new Set<string>();
    for (const other of up.artifacts) if (other !== artifact) for (const c of upstream.get(other)?.commits ?? []) inner.add(c);
    const own = [...up.commits].filter((c) => !inner.has(c)).sort();
    if (!own.length) continue;
    const purl = purls.get(artifact);
    const repository = own[0]!.slice(0, own[0]!.lastIndexOf('@'));
    const { name, version } = purl ? packageOf(purl) : { name: repository || artifact, version: null };
    out.push({ name, artifact, version, builtFrom: own });
  }
  const seen = new Map<string, number>();
  return out.map((c) => {
    const n = (seen.get(c.name) ?? 0) + 1;
    seen.set(c.name, n);
    return n === 1 ? c : { ...c, name: `${c.name}#${n}` };
  });
}

export interface History {
  /** Commits after the base up to and including the heads (`git log base..heads`, as far as the graph knows). */
  readonly commits: string[];
  /**
   * `complete`: every path back from the heads reached the base; `gap`: some path ended before it (the
   * graph does not know that part of the history, so commits may be missing); `back`: the heads are
   * behind the base (the component went back in history); `first`: there is no base, everything known
   * before the heads is listed.
   */
  readonly state: 'complete' | 'gap' | 'back' | 'first';
  /** How the history was established: the kinds of steps taken. */
  readonly via: HistoryEdge[];
  /** A walk stopped at the limit. */
  readonly truncated: boolean;
}

type Earlier = (keys: readonly string[]) => Promise<readonly HistoryStep[]>;

/** Reads the steps back of the given commits and of those around them (`HistoryReads.earlierAround`). */
type Around = (keys: readonly string[]) => Promise<{ steps: readonly HistoryStep[]; known: readonly string[] }>;

/**
 * Commit ancestry for one request, read in neighbourhoods and kept: {@link earlier} answers from what
 * was read, and the commits it does not know yet, asked for by any number of walks at once, go to the
 * graph store together in one read of their neighbourhoods (`around`). A walk of a few hundred commits
 * back takes a couple of round trips instead of one per step, and the components of a release walk
 * side by side.
 */
export class Ancestry {
  private readonly steps = new Map<string, HistoryStep[]>();
  private readonly loading = new Map<string, Promise<void>>();
  private queued = new Set<string>();
  private flush: Promise<void> | null = null;

  constructor(private readonly around: Around) {}

  readonly earlier: Earlier = async (keys) => {
    const waits = new Set<Promise<void>>();
    for (const k of keys) {
      if (this.steps.has(k)) continue;
      const pending = this.loading.get(k);
      if (pending) waits.add(pending);
      else waits.add(this.queue(k));
    }
    await Promise.all(waits);
    return keys.flatMap((k) => this.steps.get(k) ?? []);
  };

  /** Queues a key for the next read; every key queued before it runs shares that read. */
  private queue(key: string): Promise<void> {
    this.queued.add(key);
    if (!this.flush) {
      this.flush = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        const keys = [...this.queued];
        this.queued = new Set();
        this.flush = null;
        try {
          const { steps, known } = await this.around(keys);
          const read = new Map<string, HistoryStep[]>();
          for (const k of [...keys, ...known]) if (!this.steps.has(k)) read.set(k, []);
          for (const s of steps) read.get(s.from)?.push(s);
          for (const [k, v] of read) this.steps.set(k, v);
        } finally {
          for (const k of keys) this.loading.delete(k);
        }
      });
    }
    this.loading.set(key, this.flush);
    return this.flush;
  }
}

/** Every commit known to come before the given ones (and themselves), breadth first, at most `limit`. */
async function ancestors(start: readonly string[], earlier: Earlier, limit: number): Promise<{ seen: Set<string>; truncated: boolean }> {
  const seen = new Set(start);
  let frontier = [...start];
  while (frontier.length) {
    const next: string[] = [];
    for (const s of await earlier(frontier)) {
      if (seen.has(s.to)) continue;
      if (seen.size >= limit) return { seen, truncated: true };
      seen.add(s.to);
      next.push(s.to);
    }
    frontier = next;
  }
  return { seen, truncated: false };
}

/**
 * The history from `base` to `heads`: the commits reachable back from the heads over the known steps
 * (parents, Eiffel `PREVIOUS_VERSION`, pushes, merged requests) that are not the base or before it. One
 * lookup per step back. Without a base, everything known before the heads (up to `limit`).
 */
export async function historyBetween(
  heads: readonly string[],
  base: readonly string[],
  earlier: Earlier,
  limit: number,
  baseLimit = limit,
): Promise<History> {
  // The base's past is read as far as needed: first its newest commits only, which a linear history and
  // most merges meet. A path that goes past those into older history (a merge of an old commit) almost
  // always ends without reaching the base (a gap) or at the limit, and then the base's past is read back
  // further. It comes back to them only through the fork point of a branch that both sides merged; its
  // older commits then count as new (docs/explorer.md, "Release contents").
  // The first try also walks at most FIRST_HEADS commits from the heads: heads behind the base (a component
  // that went back) walk away from the base's newest commits into all of the history before them.
  if (baseLimit > FIRST_BASE) {
    const first = await historyFrom(heads, base, earlier, Math.min(limit, FIRST_HEADS), FIRST_BASE);
    if (first.state !== 'gap') return first;
  }
  return historyFrom(heads, base, earlier, limit, baseLimit);
}

/** Commits of the base's past read by {@link historyBetween}'s first try. */
export const FIRST_BASE = 200;
/** Commits from the heads collected by {@link historyBetween}'s first try. */
const FIRST_HEADS = 1000;

async function historyFrom(
  heads: readonly string[],
  base: readonly string[],
  earlier: Earlier,
  limit: number,
  baseLimit: number,
): Promise<History> {
  // What the base already had, as far back as `baseLimit` commits: a path from the heads stops there. A
  // linear history meets the base itself; only a merge of a branch older than that reaches further back.
  const before = base.length ? await ancestors(base, earlier, baseLimit) : { seen: new Set<string>(), truncated: false };
  if (base.length && heads.every((h) => before.seen.has(h))) {
    return { commits: [], state: heads.every((h) => base.includes(h)) ? 'complete' : 'back', via: [], truncated: false };
  }
  const seen = new Set(heads.filter((h) => !before.seen.has(h)));
  const via = new Set<HistoryEdge>();
  const edge = (s: HistoryStep): HistoryEdge => (s.via === 'push-list' ? 'push' : s.via);
  // Commits listed in a push whose head was reached: the head's step to the push's `before` covers them.
  const listed = new Set<string>();
  let frontier = [...seen];
  let open = false; // a path back ended before reaching the base
  let truncated = false;
  while (frontier.length && !truncated) {
    const steps = await earlier(frontier);
    // A step to a parent, an Eiffel previous version or a push's `before` closes a commit's way back; the other
    // commits of a push and a merged request's head are only part of it.
    const back = new Set(steps.filter((s) => s.via !== 'push-list' && s.via !== 'merge').map((s) => s.from));
    if (frontier.some((f) => !back.has(f) && !listed.has(f))) open = true;
    const next: string[] = [];
    for (const s of steps) {
      if (s.via === 'push-list') listed.add(s.to);
      if (before.seen.has(s.to)) {
        via.add(edge(s));
        continue;
      }
      if (seen.has(s.to)) continue;
      if (seen.size >= limit) {
        truncated = true;
        break;
      }
      via.add(edge(s));
      seen.add(s.to);
      next.push(s.to);
    }
    frontier = next;
  }
  return {
    commits: [...seen].sort(),
    state: !base.length ? 'first' : open || truncated ? 'gap' : 'complete',
    via: [...via].sort(),
    truncated,
  };
}
