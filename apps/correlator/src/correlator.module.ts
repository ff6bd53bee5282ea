import { Module, type DynamicModule } from '@nestjs/common';
import { GraphRepository } from '@not/graph';
import { CENTRAL, centralRascalConfig, centralUrls, RascalServer } from '@not/messaging';
import { ObservabilityModule } from '@not/observability';
import { Registry } from 'prom-client';
import { BatchWriter } from './batch.writer.js';
import { CentralBroker } from './central.broker.js';
import { CorrelatorSettings, type CorrelatorConfig } from './correlator.config.js';
import { CorrelatorMetrics } from './correlator.metrics.js';
import { CorrelatorStartup } from './correlator.startup.js';
import { EiffelBusPublisher } from './eiffel-bus.publisher.js';
import { INGEST_PATTERN, IngestController } from './ingest.controller.js';
import { IngestService } from './ingest.service.js';
import { JourneyService } from './journey.service.js';
import { MonitorService } from './monitor.service.js';
import { NotificationDispatcher } from './notification.dispatcher.js';

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
          inject: [Registry],
          useFactory: (registry: Registry) => {
            const graph = new GraphRepository(config.neo4j);
            graph.instrument(registry, 'correlator');
            return graph;
          },
        },
        {
          provide: RascalServer,
          inject: [CorrelatorStartup],
          useFactory: (startup: CorrelatorStartup) =>
            new RascalServer({
              // Read when consuming starts: the start-up hook decides how the ingest queue is declared.
              config: () => centralRascalConfig({ ...config.amqp, ingestArguments: startup.ingestArguments }),
              subscription: CENTRAL.ingestSubscription,
              deadLetterPublication: CENTRAL.deadPublication,
              patternOf: () => INGEST_PATTERN,
              url: centralUrls(config.amqp.url).join(', '),
            }),
        },
        CorrelatorStartup,
        MonitorService,
        CorrelatorMetrics,
        BatchWriter,
        IngestService,
        CentralBroker,
        NotificationDispatcher,
        JourneyService,
        EiffelBusPublisher,
      ],
    };
  }
}
