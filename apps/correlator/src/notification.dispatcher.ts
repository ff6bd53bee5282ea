import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  amqpBody,
  GraphRepository,
  notificationRoutingKey,
  retryDelayMs,
  signBody,
  SIGNATURE_HEADER,
  SubscriptionStore,
  type DueFiring,
} from '@not/graph';
import { describeConnectError } from '@not/messaging';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CentralBroker } from './central.broker.js';
import { CorrelatorSettings, type CorrelatorConfig } from './correlator.config.js';
import { OutboxLoop } from './outbox.loop.js';

type Settings = CorrelatorConfig['subscriptions'];

/** What to do with a firing after one attempt: a decision, apart from its effects. */
export type AfterAttempt =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry'; readonly at: number }
  | { readonly kind: 'give'; readonly as: 'dead' | 'cancelled' };

/**
 * After an attempt: delivered; or retried after a doubling delay while the firing is younger than
 * `retryForSeconds`; or dead-lettered (kept, visible in its firings, counted in the backlog alert's
 * companion gauge). A firing whose subscription is gone or disabled is cancelled.
 */
export function afterAttempt(
  f: Pick<DueFiring, 'attempts' | 'createdAt' | 'subscription'>,
  ok: boolean,
  now: number,
  s: Settings,
): AfterAttempt {
  if (!f.subscription || !f.subscription.enabled) return { kind: 'give', as: 'cancelled' };
  if (ok) return { kind: 'delivered' };
  const attempts = f.attempts + 1;
  const at = now + retryDelayMs(attempts, s.maxBackoffMs);
  if (at - f.createdAt > s.retryForSeconds * 1000) return { kind: 'give', as: 'dead' };
  return { kind: 'retry', at };
}

/** The HTTP request of a webhook delivery: the firing's body as it was recorded, signed. */
export function webhookRequest(f: Pick<DueFiring, 'id' | 'body' | 'attempts'>, subscriptionId: string, secret: string | null): RequestInit {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'network-of-traces',
    'x-traces-delivery': f.id,
    'idempotency-key': f.id,
    'x-traces-subscription': subscriptionId,
    'x-traces-attempt': String(f.attempts + 1),
  };
  if (secret) headers[SIGNATURE_HEADER] = signBody(secret, f.body);
  return { method: 'POST', headers, body: f.body };
}

/**
 * Delivers firings from the graph's outbox (`:FiringPending`): claims a few at a time for a while (a
 * second correlator skips them meanwhile), POSTs webhooks or publishes to the notifications exchange
 * with publisher confirms, and records each attempt. A firing is recorded once; a delivery is at least
 * once (after a crash between the receiver's answer and the record, it is sent again with the same
 * idempotency key).
 */
@Injectable()
export class NotificationDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(NotificationDispatcher.name);
  private readonly store: SubscriptionStore;
  private readonly token = randomUUID();
  private readonly deliveries: Counter<'channel' | 'result'>;
  private readonly latency: Histogram<'channel'>;
  private readonly evaluation: Histogram;
  private readonly backlog: Gauge<'status'>;
  private readonly oldest: Gauge;
  private readonly loop: OutboxLoop;
  private lastStuck = 0;
  private lastBacklog = 0;
  private failing = false;

  constructor(
    graph: GraphRepository,
    private readonly settings: CorrelatorSettings,
    private readonly broker: CentralBroker,
    registry: Registry,
  ) {
    this.store = new SubscriptionStore(graph);
    this.loop = new OutboxLoop(
      () => this.round(),
      () => settings.config.subscriptions.pollMs,
      () => settings.config.subscriptions.pollMaxMs,
    );
    this.deliveries = new Counter({
      name: 'traces_correlator_notification_deliveries_total',
      help: 'Delivery attempts of subscription firings (channel: webhook, amqp; result: delivered, failed, dead, cancelled)',
      labelNames: ['channel', 'result'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'traces_correlator_notification_latency_seconds',
      help: 'From the arrival of the event that completed a condition to the delivery of its firing',
      labelNames: ['channel'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
      registers: [registry],
    });
    this.evaluation = new Histogram({
      name: 'traces_correlator_subscription_evaluation_seconds',
      help: 'From the arrival of the event that completed a condition to its firing being recorded',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    });
    this.backlog = new Gauge({
      name: 'traces_correlator_notification_firings',
      help: 'Firings in the graph by status (pending: waiting for delivery or a retry; dead: given up). The same in every correlator',
      labelNames: ['status'],
      registers: [registry],
    });
    this.oldest = new Gauge({
      name: 'traces_correlator_notification_oldest_pending_seconds',
      help: 'Age of the oldest firing not yet delivered (0 when none)',
      registers: [registry],
    });
    // Every series exists from the start, so dashboards and alerts read 0 rather than nothing.
    for (const channel of ['webhook', 'amqp']) {
      for (const result of ['delivered', 'failed', 'dead', 'cancelled']) this.deliveries.inc({ channel, result }, 0);
      this.latency.zero({ channel });
    }
    this.backlog.set({ status: 'pending' }, 0);
    this.backlog.set({ status: 'dead' }, 0);
  }

  onApplicationBootstrap(): void {
    if (!this.settings.config.subscriptions.enabled) {
      this.log.log('subscriptions off (subscriptions.enabled: false): no firing is delivered by this correlator');
      return;
    }
    this.kick();
  }

  /** Looks at the outbox now (after a journey round recorded firings), or again after this round. */
  kick(): void {
    if (this.settings.config.subscriptions.enabled) this.loop.kick();
  }

  /** One look at the outbox; true when it delivered something or failed (look again soon). */
  private async round(): Promise<boolean> {
    const s = this.settings.config.subscriptions;
    let found = false;
    try {
      const now = Date.now();
      if (now - this.lastStuck >= s.stuckEverySeconds * 1000) {
        this.lastStuck = now;
        await this.store.sweepStuck(await this.store.enabled(), now);
      }
      for (;;) {
        const due = await this.store.claim(s.concurrency, s.timeoutMs * 3, this.token);
        if (!due.length) break;
        found = true;
        await Promise.all(due.map((f) => this.deliver(f)));
      }
      if (Date.now() - this.lastBacklog >= 5000) {
        this.lastBacklog = Date.now();
        const b = await this.store.backlog();
        this.backlog.set({ status: 'pending' }, b.pending);
        this.backlog.set({ status: 'dead' }, b.dead);
        this.oldest.set(b.oldestSeconds);
      }
      if (this.failing) this.log.log('firings are being delivered again');
      this.failing = false;
      return found;
    } catch (err) {
      if (!this.failing)
        this.log.warn(`firings could not be read or recorded (${describeConnectError(err)}); they stay in the graph, retrying`);
      this.failing = true;
      return true;
    }
  }

  private async deliver(f: DueFiring): Promise<void> {
    const s = this.settings.config.subscriptions;
    const channel = f.subscription?.delivery.type ?? 'none';
    if (f.attempts === 0 && f.causeAt !== null) this.evaluation.observe(Math.max(0, f.createdAt - f.causeAt) / 1000);
    let error = '';
    if (f.subscription?.enabled) {
      try {
        if (f.subscription.delivery.type === 'webhook') await this.post(f, f.subscription.delivery.url, f.subscription.secret);
        else await this.publish(f);
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
    } else error = f.subscription ? 'the subscription is disabled' : 'the subscription was deleted';
    const next = afterAttempt(f, error === '', Date.now(), s);
    switch (next.kind) {
      case 'delivered':
        await this.store.delivered(f.id, this.token);
        this.deliveries.inc({ channel, result: 'delivered' });
        if (f.causeAt !== null) this.latency.observe({ channel }, Math.max(0, Date.now() - f.causeAt) / 1000);
        return;
      case 'retry':
        await this.store.failed(f.id, this.token, error, { at: next.at });
        this.deliveries.inc({ channel, result: 'failed' });
        if (f.attempts === 0) this.log.warn(`firing ${f.id} of subscription ${f.subscription?.id}: ${error}; retrying`);
        return;
      case 'give':
        await this.store.failed(f.id, this.token, error, { give: next.as });
        this.deliveries.inc({ channel, result: next.as });
        if (next.as === 'dead')
          this.log.warn(`firing ${f.id} of subscription ${f.subscription?.id} given up after ${s.retryForSeconds} s: ${error}`);
        return;
      default: {
        const never: never = next;
        throw new Error(`unknown step ${JSON.stringify(never)}`);
      }
    }
  }

  private async post(f: DueFiring, url: string, secret: string | null): Promise<void> {
    const res = await fetch(url, {
      ...webhookRequest(f, f.subscription!.id, secret),
      signal: AbortSignal.timeout(this.settings.config.subscriptions.timeoutMs),
    }).catch((err: unknown) => {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      throw new Error(`POST ${url} failed (${err instanceof Error ? err.message : String(err)}${cause})`);
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`POST ${url} answered ${res.status} ${res.statusText}`);
  }

  private async publish(f: DueFiring): Promise<void> {
    const sub = f.subscription!;
    const exchange = this.settings.config.subscriptions.exchange;
    const key = notificationRoutingKey(sub);
    const { body, appId } = amqpBody(sub, f.body);
    try {
      const ch = await this.broker.confirmChannel(exchange);
      ch.publish(exchange, key, Buffer.from(body, 'utf8'), {
        persistent: true,
        mandatory: true,
        contentType: 'application/json',
        appId,
        messageId: f.id,
        headers: { 'x-traces-subscription': sub.id },
      });
      await ch.waitForConfirms();
    } catch (err) {
      await this.broker.drop();
      throw new Error(`publishing to exchange "${exchange}" failed (${describeConnectError(err)})`, { cause: err });
    }
    if (this.broker.takeReturned(f.id)) throw new Error(`no queue is bound to exchange "${exchange}" with routing key "${key}"`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.close();
  }
}
