import { Inject, Injectable } from '@nestjs/common';
import { ExplorerReads } from '@not/graph';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';
import { notFound, ambiguous, TraceService, type UpstreamDto } from './trace.service.js';
import { WalkService } from './walk.service.js';

export interface ReleaseDto {
  readonly product: string;
  readonly version: string;
  readonly key: string;
  readonly artifacts: string[];
  readonly commits: UpstreamDto['commits'];
  readonly workItems: string[];
  readonly changes: string[];
  readonly builds: string[];
  readonly truncated: boolean;
  readonly diff?: ReleaseDiffDto;
}

interface ReleaseDiffDto {
  readonly against: string;
  readonly added: { artifacts: string[]; commits: string[]; workItems: string[] };
  readonly removed: { artifacts: string[]; commits: string[]; workItems: string[] };
}

/** "What is in my product?": the release's artifacts (through compositions), commits and work items, and a diff. */
@Injectable()
export class ReleaseService {
  constructor(
    private readonly reads: ExplorerReads,
    private readonly walker: WalkService,
    private readonly traces: TraceService,
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
  ) {}

  async contents(product: string, version: string, diffVersion?: string): Promise<ReleaseDto> {
    const [mine, other] = await Promise.all([
      this.one(product, version),
      diffVersion !== undefined ? this.one(product, diffVersion) : undefined,
    ]);
    if (!other) return mine;
    const minus = (a: readonly string[], b: readonly string[]): string[] => {
      const s = new Set(b);
      return a.filter((x) => !s.has(x));
    };
    const sets = (r: ReleaseDto) => ({ artifacts: r.artifacts, commits: r.commits.map((c) => c.key), workItems: r.workItems });
    const a = sets(mine);
    const b = sets(other);
    return {
      ...mine,
      diff: {
        against: other.key,
        added: {
          artifacts: minus(a.artifacts, b.artifacts),
          commits: minus(a.commits, b.commits),
          workItems: minus(a.workItems, b.workItems),
        },
        removed: {
          artifacts: minus(b.artifacts, a.artifacts),
          commits: minus(b.commits, a.commits),
          workItems: minus(b.workItems, a.workItems),
        },
      },
    };
  }

  private async one(product: string, version: string): Promise<ReleaseDto> {
    const key = `${product}@${version}`;
    const found = await this.reads.entity('Release', key);
    if (found.length === 0) {
      const known = await this.reads.releasesOf(product);
      throw notFound(`no release "${key}"`, [
        known.length ? `known versions of ${product}: ${known.join(', ')}` : `no release of a product named "${product}" is in the graph`,
      ]);
    }
    if (found.length > 1) throw ambiguous(`"${key}" names ${found.length} releases`, found);
    const walked = (
      await this.walker.walk([{ origin: 'r', entities: found }], 'up', { maxEvents: this.config.limits.releaseEvents, props: false })
    ).get('r')!;
    const up = this.traces.upstream(walked);
    return {
      product,
      version,
      key: found[0]!.key,
      artifacts: up.artifacts,
      commits: up.commits,
      workItems: up.workItems,
      changes: up.changes,
      builds: up.builds,
      truncated: walked.truncated,
    };
  }
}
