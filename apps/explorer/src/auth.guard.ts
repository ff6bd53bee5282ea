import { createParamDecorator, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';

/** Where the guard leaves the name of the token a request came with. */
const TOKEN_NAME = Symbol('token name');
type NamedRequest = Request & { [TOKEN_NAME]?: string };

/**
 * The name of a configured token: its own, or for a bare token `token-` and the first 8 hex digits of
 * its SHA-256 (stable, and tells nothing of the token).
 */
function tokenName(t: ExplorerConfig['auth']['tokens'][number]): string {
  return typeof t === 'string' ? `token-${digest(t).toString('hex').slice(0, 8)}` : t.name;
}

/**
 * Bearer-token check for the API. `Authorization: Bearer <token>`; the live
 * stream also accepts `?access_token=` because browsers' EventSource cannot
 * send headers. Tokens are compared in constant time.
 */
@Injectable()
export class BearerGuard implements CanActivate {
  private readonly tokens: Array<{ digest: Buffer; name: string }>;

  constructor(@Inject(EXPLORER_CONFIG) config: ExplorerConfig) {
    this.tokens = config.auth.tokens.map((t) => ({ digest: digest(typeof t === 'string' ? t : t.token), name: tokenName(t) }));
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const req = http.getRequest<NamedRequest>();
    const header = req.headers.authorization;
    const query = req.path === '/api/v1/stream' ? req.query['access_token'] : undefined;
    const fromQuery = typeof query === 'string' ? query : undefined;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : fromQuery;
    const name = token ? this.nameOf(token) : undefined;
    if (name !== undefined) {
      req[TOKEN_NAME] = name;
      return true;
    }
    http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="explorer"');
    throw new UnauthorizedException({
      statusCode: 401,
      error: 'Unauthorized',
      message: token
        ? 'the bearer token is not one the explorer accepts (auth.tokens in its configuration)'
        : 'send "Authorization: Bearer <token>" (auth.tokens in the explorer configuration)',
    });
  }

  private nameOf(token: string): string | undefined {
    const d = digest(token);
    let found: string | undefined;
    for (const t of this.tokens) if (timingSafeEqual(t.digest, d) && found === undefined) found = t.name;
    return found;
  }
}

/** The name of the token the request was let in with (routes behind {@link BearerGuard}). */
export const TokenName = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const name = ctx.switchToHttp().getRequest<NamedRequest>()[TOKEN_NAME];
  if (name === undefined) throw new Error('TokenName used on a route without BearerGuard');
  return name;
});

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
