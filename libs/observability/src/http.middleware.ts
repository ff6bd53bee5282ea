import { Inject, Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Histogram, Registry } from 'prom-client';
import { requestIdFrom, withRequestId } from './request-context.js';
import { APP_NAME } from './app-name.js';

/** The route template a request matched (bounded: never the raw path with ids in it). */
export function routeOf(req: Pick<Request, 'baseUrl'> & { route?: { path?: unknown } }): string {
  const path = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` || '/' : 'unmatched';
}

/**
 * Every HTTP request: a request id (the caller's `x-request-id` or a new one) echoed in the response and
 * carried by every log line written while it is handled; one access-log line; and its duration in
 * `traces_<app>_http_request_duration_seconds{method,route,status}` (rate, errors and latency in one histogram).
 */
@Injectable()
export class HttpObservabilityMiddleware implements NestMiddleware {
  private readonly log = new Logger('Http');
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(registry: Registry, @Inject(APP_NAME) app: string) {
    const name = `traces_${app}_http_request_duration_seconds`;
    this.duration =
      (registry.getSingleMetric(name) as Histogram<'method' | 'route' | 'status'> | undefined) ??
      new Histogram({
        name,
        help: 'HTTP requests served, by method, route template and status code, with their duration',
        labelNames: ['method', 'route', 'status'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req);
      this.duration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      // Scrapes and probes would drown the access log; they still count in the histogram.
      if (route === '/metrics' || route.startsWith('/health/')) return;
      withRequestId(requestId, () =>
        this.log.log({
          msg: 'request',
          method: req.method,
          url: req.originalUrl.split('?')[0],
          route,
          status: res.statusCode,
          durationMs: Math.round(seconds * 1000),
        }),
      );
    });
    withRequestId(requestId, next);
  }
}
