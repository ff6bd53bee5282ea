import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';

@Injectable()
export class RelayMetrics {
  readonly linkUp: Gauge<'site' | 'source' | 'mode'>;
  readonly bufferMessages: Gauge<'site' | 'source'>;
  readonly reconcileActions: Counter<'site' | 'action'>;
  readonly reconcileErrors: Counter<'site'>;
  readonly webhooks: Counter<'endpoint' | 'result'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.linkUp = new Gauge({
      name: 'not_relay_link_up',
      help: '1 when the shovel or federation link of a source is running, else 0',
      labelNames: ['site', 'source', 'mode'],
      registers,
    });
    this.bufferMessages = new Gauge({
      name: 'not_relay_buffer_messages',
      help: 'Messages waiting in a source buffer queue on the site broker',
      labelNames: ['site', 'source'],
      registers,
    });
    this.reconcileActions = new Counter({
      name: 'not_relay_reconcile_actions_total',
      help: 'Changes the reconciler made to bring the broker to the configured state',
      labelNames: ['site', 'action'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'not_relay_reconcile_errors_total',
      help: 'Reconcile passes that failed',
      labelNames: ['site'],
      registers,
    });
    this.webhooks = new Counter({
      name: 'not_relay_webhook_requests_total',
      help: 'Webhook requests by endpoint and result (accepted or the HTTP status)',
      labelNames: ['endpoint', 'result'],
      registers,
    });
  }
}
