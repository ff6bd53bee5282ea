import { Inject, Injectable } from '@nestjs/common';
import { GraphWalker, WalkReads } from '@not/graph';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';

export { WALK_PARALLEL, type WalkResult, type WalkSeed } from '@not/graph';

/** The graph walk (libs/graph walk.ts) with the explorer's configured limits. */
@Injectable()
export class WalkService extends GraphWalker {
  constructor(reads: WalkReads, @Inject(EXPLORER_CONFIG) config: ExplorerConfig) {
    super(reads, () => config.limits);
  }
}
