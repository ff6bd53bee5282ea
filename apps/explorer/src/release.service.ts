import { releaseKey } from '@not/events';
import { Inject, Injectable } from '@nestjs/common';
import { EntityReads, HistoryReads, type HistoryStep } from '@not/graph';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';
import { notFound, ambiguous, TraceService } from './trace.service.js';
import type { ReleaseDto, UpstreamDto } from './api.schemas.js';
import { Ancestry, componentsOf, historyBetween, type ArtifactUpstream, type Component, type History } from './release.history.js';
import { WalkService } from './walk.service.js';

type ComponentDto = ReleaseDto['components'][number];
type ReleaseDiffDto = NonNullable<ReleaseDto['diff']>;
type ComponentDiffDto = ReleaseDiffDto['components'][number];

/** Most commits one component's history walk collects. */
const HISTORY_LIMIT = 20_000;
/** Most commits before the previous release's that are read to tell old history from new. */
const BASE_LIMIT = 2_000;
/** Most artifacts of a release that are walked one by one to find its components. */
const COMPONENT_ARTIFACTS = 2_000;

interface Walked {
  readonly key: string;
  readonly product: string;
  readonly version: string;
  readonly up: UpstreamDto;
  readonly components: Component[];
  readonly truncated: boolean;
  readonly componentsTruncated: boolean;
}

/** "What is in my product?": the release's components with their history, artifacts, commits and work items, and a diff. */
@Injectable()
export class ReleaseService {
  constructor(
    private readonly entityReads: EntityReads,
    private readonly history: HistoryReads,
    private readonly walker: WalkService,
    private readonly traces: TraceService,
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
  ) {}

  async contents(product: string, version: string, diffVersion?: string): Promise<ReleaseDto> {
    const [mine, other] = await Promise.all([
      this.one(product, version),
      diffVersion !== undefined ? this.one(product, diffVersion) : undefined,
    ]);
    const order = await this.history.releasesInOrder(product);
    const at = order.findIndex((r) => r.key === mine.key);
    const previousKey = at > 0 ? order[at - 1]!.key : null;
    const previous =
      previousKey === null ? undefined : previousKey === other?.key ? other : await this.one(product, order[at - 1]!.version);
    // One ancestry for the whole request: the components' histories (and the diff's) are walked side by side.
    const ancestry = new Ancestry((keys) => this.history.earlierAround(keys));
    const components = await Promise.all(
      mine.components.map(async (c): Promise<ComponentDto> => {
        const before = previous?.components.find((p) => p.name === c.name);
        // The same artifact, or rebuilt from the same commits: nothing changed.
        const same = before !== undefined && (before.artifact === c.artifact || sameSet(c.builtFrom, before.builtFrom));
        // A new component lists the commits it was built from: its whole past would be its repository's.
        const h: History =
          before && !same
            ? await historyBetween(c.builtFrom, before.builtFrom, ancestry.earlier, HISTORY_LIMIT, BASE_LIMIT)
            : { commits: [], state: before ? 'complete' : 'first', via: [], truncated: false };
        const commits = h.state === 'back' ? [] : [...new Set([...c.builtFrom, ...h.commits])].sort();
        return {
          ...c,
          previous: before
            ? { release: previous!.key, artifact: before.artifact, version: before.version, builtFrom: before.builtFrom }
            : null,
          history: h.state,
          historyFrom: ['built-from', ...h.via],
          commits: same ? [] : commits,
          workItems: [],
        };
      }),
    );
    const items = await this.history.workItems([...new Set(components.flatMap((c) => c.commits))]);
    // The diff mostly asks about the same commits: what was read is kept for it.
    const withItems = components.map((c) => ({ ...c, workItems: [...new Set(c.commits.flatMap((k) => items.get(k) ?? []))].sort() }));
    const commitKeys = new Set([...mine.up.commits.map((c) => c.key), ...withItems.flatMap((c) => c.commits)]);
    const result: ReleaseDto = {
      product,
      version,
      key: mine.key,
      artifacts: mine.up.artifacts,
      productArtifacts: await this.history.productArtifacts(mine.key),
      previous: previousKey,
      components: withItems,
      commits: [...commitKeys].sort().map(commitRef),
      workItems: [...new Set([...mine.up.workItems, ...withItems.flatMap((c) => c.workItems)])].sort(),
      changes: mine.up.changes,
      builds: mine.up.builds,
      truncated: mine.truncated || (previous?.truncated ?? false),
      componentsTruncated: mine.componentsTruncated || (previous?.componentsTruncated ?? false),
    };
    if (!other) return result;
    return { ...result, diff: await this.diff(result, mine, other, ancestry, items) };
  }

  /** Per component: unchanged, upgraded (with the commits added, and removed only when it went back), added, removed. */
  private async diff(
    result: ReleaseDto,
    mine: Walked,
    other: Walked,
    ancestry: Ancestry,
    known: ReadonlyMap<string, string[]>,
  ): Promise<ReleaseDiffDto> {
    const earlier = ancestry.earlier;
    const names = [...new Set([...mine.components.map((c) => c.name), ...other.components.map((c) => c.name)])].sort();
    const out = await Promise.all(names.map((name) => this.diffOne(name, mine, other, earlier)));
    return this.diffTotals(result, other, out, known);
  }

  /** One component's change between two releases. */
  private async diffOne(
    name: string,
    mine: Walked,
    other: Walked,
    earlier: (keys: readonly string[]) => Promise<readonly HistoryStep[]>,
  ): Promise<ComponentDiffDto> {
    const to = mine.components.find((c) => c.name === name);
    const from = other.components.find((c) => c.name === name);
    const ref = (c: Component | undefined) => (c ? { artifact: c.artifact, version: c.version } : null);
    if (to && from && (to.artifact === from.artifact || sameSet(to.builtFrom, from.builtFrom))) {
      return { name, status: 'unchanged', from: ref(from), to: ref(to), commitsAdded: [], commitsRemoved: [], history: 'complete' };
    }
    if (to && from) {
      const [added, removed] = await Promise.all([
        historyBetween(to.builtFrom, from.builtFrom, earlier, HISTORY_LIMIT, BASE_LIMIT),
        historyBetween(from.builtFrom, to.builtFrom, earlier, HISTORY_LIMIT, BASE_LIMIT),
      ]);
      return {
        name,
        status: added.state === 'back' ? 'downgraded' : 'upgraded',
        from: ref(from),
        to: ref(to),
        commitsAdded: added.commits,
        commitsRemoved: removed.state === 'complete' || removed.state === 'back' ? removed.commits : [],
        history: added.state,
      };
    }
    if (to) return { name, status: 'added', from: null, to: ref(to), commitsAdded: [...to.builtFrom], commitsRemoved: [], history: null };
    return { name, status: 'removed', from: ref(from), to: null, commitsAdded: [], commitsRemoved: [...from!.builtFrom], history: null };
  }

  /** The diff's totals: artifacts, commits and work items added and removed. */
  private async diffTotals(
    result: ReleaseDto,
    other: Walked,
    out: readonly ComponentDiffDto[],
    known: ReadonlyMap<string, string[]>,
  ): Promise<ReleaseDiffDto> {
    const added = [...new Set(out.flatMap((c) => c.commitsAdded))].sort();
    const removed = [...new Set(out.flatMap((c) => c.commitsRemoved))].sort();
    const items = new Map(known);
    for (const [k, v] of await this.history.workItems([...added, ...removed].filter((k) => !known.has(k)))) items.set(k, v);
    const itemsOf = (keys: readonly string[]) => new Set(keys.flatMap((k) => items.get(k) ?? []));
    const [inAdded, inRemoved] = [itemsOf(added), itemsOf(removed)];
    const minus = (a: readonly string[], b: readonly string[]): string[] => {
      const s = new Set(b);
      return a.filter((x) => !s.has(x));
    };
    return {
      against: other.key,
      components: [...out],
      added: {
        artifacts: minus(result.artifacts, other.up.artifacts),
        commits: added,
        workItems: [...inAdded].filter((w) => !inRemoved.has(w)).sort(),
      },
      removed: {
        artifacts: minus(other.up.artifacts, result.artifacts),
        commits: removed,
        workItems: [...inRemoved].filter((w) => !inAdded.has(w)).sort(),
      },
    };
  }

  private async one(product: string, version: string): Promise<Walked> {
    const key = releaseKey(product, version);
    const found = await this.entityReads.entity('Release', key);
    if (found.length === 0) {
      const known = await this.entityReads.releasesOf(product);
      throw notFound(`no release "${key}"`, [
        known.length ? `known versions of ${product}: ${known.join(', ')}` : `no release of a product named "${product}" is in the graph`,
      ]);
    }
    if (found.length > 1) throw ambiguous(`"${key}" names ${found.length} releases`, found);
    const walked = (
      await this.walker.walk([{ origin: 'r', entities: found }], 'up', { maxEvents: this.config.limits.releaseEvents, props: false })
    ).get('r')!;
    const up = this.traces.upstream(walked);
    // Each artifact walked on its own, to tell which commits are its own (a component) and which its parts'.
    const artifacts = [...walked.entities.values()].filter((x) => x.label === 'Artifact').slice(0, COMPONENT_ARTIFACTS);
    const each = await this.walker.walkMany(
      artifacts.map((a) => ({ origin: a.key, entities: [a] })),
      'up',
    );
    const upstream = new Map<string, ArtifactUpstream>();
    for (const [k, r] of each) {
      const xs = [...r.entities.values()];
      upstream.set(k, {
        artifacts: new Set(xs.filter((x) => x.label === 'Artifact').map((x) => x.key)),
        commits: new Set(xs.filter((x) => x.label === 'Commit').map((x) => x.key)),
      });
    }
    const purls = await this.history.purls([...upstream.keys()]);
    return {
      key: found[0]!.key,
      product,
      version,
      up,
      components: componentsOf(upstream, purls),
      truncated: walked.truncated,
      componentsTruncated: artifacts.length >= COMPONENT_ARTIFACTS,
    };
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function commitRef(key: string): UpstreamDto['commits'][number] {
  const at = key.lastIndexOf('@');
  return { key, sha: at > 0 ? key.slice(at + 1) : null, repository: at > 0 ? key.slice(0, at) : null };
}
