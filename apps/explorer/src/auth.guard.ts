import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';

/**
 * Bearer-token check for the API. `Authorization: Bearer <token>`; the live
 * stream also accepts `?access_token=` because browsers' EventSource cannot
 * send headers. Tokens are compared in constant time.
 */
@Injectable()
export class BearerGuard implements CanActivate {
  private readonly digests: Buffer[];

  constructor(@Inject(EXPLORER_CONFIG) config: ExplorerConfig) {
    this.digests = config.auth.tokens.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const header = req.headers.authorization;
    const query = req.path === '/api/v1/stream' ? req.query['access_token'] : undefined;
    const fromQuery = typeof query === 'string' ? query : undefined;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : fromQuery;
    if (token && this.accepts(token)) return true;
    http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="explorer"');
    throw new UnauthorizedException({
      statusCode: 401,
      error: 'Unauthorized',
      message: token
        ? 'the bearer token is not one the explorer accepts (auth.tokens in its configuration)'
        : 'send "Authorization: Bearer <token>" (auth.tokens in the explorer configuration)',
    });
  }

  private accepts(token: string): boolean {
    const d = digest(token);
    let ok = false;
    for (const x of this.digests) ok = timingSafeEqual(x, d) || ok;
    return ok;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
