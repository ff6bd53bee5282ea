import { Module, type DynamicModule } from '@nestjs/common';
import { GraphRepository } from '@not/graph';
import { HealthRegistry, ObservabilityModule } from '@not/observability';
import { Registry } from 'prom-client';
import type { ExplorerConfig } from './explorer.config.js';
import { EventsController } from './events.controller.js';
import { EventsService } from './events.service.js';

@Module({})
export class ExplorerModule {
  static forConfig(config: ExplorerConfig): DynamicModule {
    return {
      module: ExplorerModule,
      imports: [ObservabilityModule.forApp('explorer')],
      controllers: [EventsController],
      providers: [
        {
          provide: GraphRepository,
          inject: [Registry, HealthRegistry],
          useFactory: (registry: Registry, health: HealthRegistry) => {
            const graph = new GraphRepository(config.neo4j);
            graph.instrument(registry, 'explorer');
            health.register('neo4j', () => graph.ping());
            return graph;
          },
        },
        EventsService,
      ],
    };
  }
}
