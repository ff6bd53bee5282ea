import { Module, type DynamicModule } from '@nestjs/common';
import { BrokerAdmin } from '@not/messaging';
import { ObservabilityModule } from '@not/observability';
import { Registry } from 'prom-client';
import { RelaySettings, type RelayConfig } from './relay.config.js';
import { RelayMetrics } from './relay.metrics.js';
import { ReconcileService } from './reconcile.service.js';
import { RelayStartup } from './relay.startup.js';
import { WebhookController } from './webhook.controller.js';
import { WebhookPublisher } from './webhook.publisher.js';
import { WebhookService } from './webhook.service.js';

@Module({})
export class RelayModule {
  static forConfig(config: RelayConfig, file?: string): DynamicModule {
    return {
      module: RelayModule,
      imports: [ObservabilityModule.forApp('relay')],
      providers: [
        { provide: RelaySettings, useValue: new RelaySettings(config, file) },
        {
          provide: RelayMetrics,
          inject: [Registry],
          useFactory: (registry: Registry) => {
            BrokerAdmin.instrument(registry, 'relay');
            return new RelayMetrics(registry);
          },
        },
        RelayStartup,
        ReconcileService,
        WebhookPublisher,
        WebhookService,
      ],
      controllers: [WebhookController],
    };
  }
}
