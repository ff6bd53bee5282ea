import { Module, type DynamicModule } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import {
  DeliveryReads,
  EntityReads,
  EventReads,
  EventSearchReads,
  GraphRepository,
  HistoryReads,
  Journeys,
  RawEventReads,
  SubscriptionStore,
  WalkReads,
} from '@not/graph';
import { HealthRegistry, ObservabilityModule } from '@not/observability';
import { Registry } from 'prom-client';
import { BearerGuard } from './auth.guard.js';
import { DeliveryMetricsService } from './delivery.metrics.js';
import { EiffelController } from './eiffel.controller.js';
import { EiffelService } from './eiffel.service.js';
import type { ExplorerConfig } from './explorer.config.js';
import { EXPLORER_CONFIG } from './explorer.tokens.js';
import { ErController } from './er/er.controller.js';
import { ErReadGuard } from './er/er.guard.js';
import { ErService } from './er/er.service.js';
import { LeadTimeController } from './lead-time.controller.js';
import { LeadTimeService } from './lead-time.service.js';
import { OpenApiController } from './openapi.controller.js';
import { ReleaseController } from './release.controller.js';
import { ReleaseService } from './release.service.js';
import { StreamController } from './stream.controller.js';
import { StreamService } from './stream.service.js';
import { SubscriptionsController } from './subscriptions/subscriptions.controller.js';
import { SubscriptionsService } from './subscriptions/subscriptions.service.js';
import { TraceController } from './trace.controller.js';
import { TraceService } from './trace.service.js';
import { WalkService } from './walk.service.js';
import { WebController } from './web.controller.js';
import { TrendsController } from './trends/trends.controller.js';
import { TrendsService } from './trends/trends.service.js';
import { ExplorerStartup } from './explorer.startup.js';

/** Every controller of the explorer: the OpenAPI test reads their routes from here. */
export const EXPLORER_CONTROLLERS = [
  TraceController,
  ReleaseController,
  LeadTimeController,
  EiffelController,
  ErController,
  StreamController,
  SubscriptionsController,
  OpenApiController,
  WebController,
  TrendsController,
];

@Module({})
export class ExplorerModule {
  static forConfig(config: ExplorerConfig): DynamicModule {
    // The Event Repository routes live where the configuration says (Nest reads the path when it maps routes).
    Reflect.defineMetadata(PATH_METADATA, config.eiffelApi.basePath.replace(/^\//, ''), ErController);
    return {
      module: ExplorerModule,
      imports: [ObservabilityModule.forApp('explorer')],
      controllers: EXPLORER_CONTROLLERS,
      providers: [
        { provide: EXPLORER_CONFIG, useValue: config },
        ExplorerStartup,
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
        { provide: EntityReads, inject: [GraphRepository], useFactory: (graph: GraphRepository) => new EntityReads(graph) },
        { provide: EventReads, inject: [GraphRepository], useFactory: (graph: GraphRepository) => new EventReads(graph) },
        { provide: EventSearchReads, inject: [GraphRepository], useFactory: (graph: GraphRepository) => new EventSearchReads(graph) },
        { provide: WalkReads, inject: [GraphRepository], useFactory: (graph: GraphRepository) => new WalkReads(graph) },
        {
          provide: Journeys,
          inject: [GraphRepository, WalkReads],
          useFactory: (graph: GraphRepository, reads: WalkReads) => new Journeys(graph, reads, () => config.limits),
        },
        { provide: DeliveryReads, inject: [GraphRepository], useFactory: (graph: GraphRepository) => new DeliveryReads(graph) },
        { provide: HistoryReads, inject: [GraphRepository], useFactory: (graph: GraphRepository) => new HistoryReads(graph) },
        { provide: RawEventReads, inject: [GraphRepository], useFactory: (graph: GraphRepository) => new RawEventReads(graph) },
        { provide: SubscriptionStore, inject: [GraphRepository], useFactory: (graph: GraphRepository) => new SubscriptionStore(graph) },
        SubscriptionsService,
        ErReadGuard,
        ErService,
        BearerGuard,
        WalkService,
        TraceService,
        ReleaseService,
        LeadTimeService,
        EiffelService,
        StreamService,
        DeliveryMetricsService,
        TrendsService,
      ],
    };
  }
}
