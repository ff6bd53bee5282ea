import { Global, Module, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { APP_NAME } from './app-name.js';
import { HealthRegistry } from './health.registry.js';
import { HttpObservabilityMiddleware } from './http.middleware.js';
import { ObservabilityController } from './observability.controller.js';

/**
 * `/metrics` and `/health/*` for an app, with one prom-client registry injectable as `Registry`.
 * Node's default metrics keep their standard names (`process_*`, `nodejs_*`) so stock dashboards and
 * alerts find them; `job` and `instance` come from Prometheus, so there is no `app` label.
 */
@Global()
@Module({})
export class ObservabilityModule implements NestModule {
  static forApp(app: string): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: [ObservabilityController],
      providers: [
        { provide: APP_NAME, useValue: app },
        {
          provide: Registry,
          useFactory: () => {
            const registry = new Registry();
            collectDefaultMetrics({ register: registry });
            return registry;
          },
        },
        HealthRegistry,
        HttpObservabilityMiddleware,
      ],
      exports: [Registry, HealthRegistry],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpObservabilityMiddleware).forRoutes({ path: '*path', method: RequestMethod.ALL });
  }
}
