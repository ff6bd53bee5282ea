import { Global, Module, type DynamicModule } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { HealthRegistry } from './health.registry.js';
import { ObservabilityController } from './observability.controller.js';

/** `/metrics` and `/health/*` for an app, with one prom-client registry injectable as `Registry`. */
@Global()
@Module({})
export class ObservabilityModule {
  static forApp(app: string): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: [ObservabilityController],
      providers: [
        {
          provide: Registry,
          useFactory: () => {
            const registry = new Registry();
            registry.setDefaultLabels({ app });
            collectDefaultMetrics({ register: registry, prefix: `not_${app}_` });
            return registry;
          },
        },
        HealthRegistry,
      ],
      exports: [Registry, HealthRegistry],
    };
  }
}
