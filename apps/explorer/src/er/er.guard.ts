import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext, type OnModuleInit } from '@nestjs/common';
import { BearerGuard } from '../auth.guard.js';
import type { ExplorerConfig } from '../explorer.config.js';
import { EXPLORER_CONFIG } from '../explorer.tokens.js';

/**
 * The Event Repository routes: open to anonymous readers when `eiffelApi.anonymousRead` is on (Eiffel
 * Intelligence has no setting for credentials towards its ER), else the same bearer tokens as the API.
 */
@Injectable()
export class ErReadGuard implements CanActivate, OnModuleInit {
  private readonly log = new Logger(ErReadGuard.name);

  constructor(
    @Inject(EXPLORER_CONFIG) private readonly config: ExplorerConfig,
    private readonly bearer: BearerGuard,
  ) {}

  onModuleInit(): void {
    const { basePath, anonymousRead } = this.config.eiffelApi;
    if (anonymousRead)
      this.log.warn(`eiffelApi.anonymousRead is on: ${basePath}/* can be read without a token (the rest of the API keeps its tokens)`);
    else this.log.log(`Eiffel Event Repository API at ${basePath}/* (bearer token required; eiffelApi.anonymousRead: false)`);
  }

  canActivate(context: ExecutionContext): boolean {
    return this.config.eiffelApi.anonymousRead || this.bearer.canActivate(context);
  }
}
