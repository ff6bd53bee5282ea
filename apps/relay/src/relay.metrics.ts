import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';

@Injectable()
export class RelayMetrics {
  readonly linkUp: Gauge<'site' | 'source' | 'mode'>;
  readonly linkState: Gauge<'site' | 'source' | 'mode' | 'state'>;
  readonly lastReconcile: Gauge<'site'>;
  readonly bufferMessages: Gauge<'site' | 'source'>;
  readonly bufferLimit: Gauge<'site' | 'source'>;
  readonly reconcileActions: Counter<'site' | 'action'>;
  readonly reconcileErrors: Counter<'site'>;
  readonly webhooks: Counter<'endpoint' | 'result'>;
  readonly linkForwarded: Counter<'site' | 'source'>;
  readonly linkLastProgress: Gauge<'site' | 'source'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.linkUp = new Gauge({
      name: 'traces_relay_link_up',
      help: '1 when the shovel or federation link of a source is running, else 0',
      labelNames: ['site', 'source', 'mode'],
      registers,
    });
    this.linkState = new Gauge({
      name: 'traces_relay_link_state',
      help: '1 for the current state of each source link (running, starting, terminated, missing), 0 for the others',
      labelNames: ['site', 'source', 'mode', 'state'],
      registers,
    });
    this.lastReconcile = new Gauge({
      name: 'traces_relay_last_reconcile_success_timestamp_seconds',
      help: 'When the last reconcile pass over every broker succeeded (Unix time)',
      labelNames: ['site'],
      registers,
    });
    this.bufferMessages = new Gauge({
      name: 'traces_relay_buffer_messages',
      help: 'Messages waiting at the site for a source: in its buffer queue (and its intake queue, with keepRoutingKey)',
      labelNames: ['site', 'source'],
      registers,
    });
    this.bufferLimit = new Gauge({
      name: 'traces_relay_buffer_limit_messages',
      help: 'The length limit in effect on a source buffer queue (its policy, or an older x-max-length if smaller); past it the broker refuses new messages',
      labelNames: ['site', 'source'],
      registers,
    });
    this.reconcileActions = new Counter({
      name: 'traces_relay_reconcile_actions_total',
      help: 'Changes the reconciler made to bring the broker to the configured state',
      labelNames: ['site', 'action'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'traces_relay_reconcile_errors_total',
      help: 'Reconcile passes that failed',
      labelNames: ['site'],
      registers,
    });
    this.linkForwarded = new Counter({
      name: 'traces_relay_link_forwarded_messages_total',
      help: 'Messages the link took off a source buffer queue and central confirmed (acknowledgements on the buffer queue)',
      labelNames: ['site', 'source'],
      registers,
    });
    this.linkLastProgress = new Gauge({
      name: 'traces_relay_link_last_progress_timestamp_seconds',
      help: 'When the link of a source last moved messages, or last had none waiting (Unix time): stale while a hung link holds the buffer, fresh on a slow one',
      labelNames: ['site', 'source'],
      registers,
    });
    this.webhooks = new Counter({
      name: 'traces_relay_webhook_requests_total',
      help: 'Webhook requests by endpoint and result (accepted or the HTTP status)',
      labelNames: ['endpoint', 'result'],
      registers,
    });
  }
}
