import { Module, type DynamicModule } from '@nestjs/common';
import { GraphRepository } from '@not/graph';
import { HealthRegistry, ObservabilityModule } from '@not/observability';
import { Registry } from 'prom-client';
import { BatchWriter } from './batch.writer.js';
import { CorrelatorSettings, type CorrelatorConfig } from './correlator.config.js';
import { CorrelatorMetrics } from './correlator.metrics.js';
import { IngestController } from './ingest.controller.js';
import { IngestService } from './ingest.service.js';

@Module({})
export class CorrelatorModule {
  static forConfig(config: CorrelatorConfig): DynamicModule {
    return {
      module: CorrelatorModule,
      imports: [ObservabilityModule.forApp('correlator')],
      controllers: [IngestController],
      providers: [
        { provide: CorrelatorSettings, useValue: new CorrelatorSettings(config) },
        {
          provide: GraphRepository,
          inject: [Registry, HealthRegistry],
          useFactory: (registry: Registry, health: HealthRegistry) => {
            const graph = new GraphRepository(config.neo4j);
            graph.instrument(registry, 'correlator');
            health.register('neo4j', () => graph.ping());
            return graph;
          },
        },
        CorrelatorMetrics,
        BatchWriter,
        IngestService,
      ],
    };
  }
}
