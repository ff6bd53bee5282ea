import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationShutdown } from '@nestjs/common';
import { describeConnectError, maskUrl } from '@not/messaging';
import amqp from 'amqplib';
import { RelaySettings, type WebhooksConfig } from './relay.config.js';

export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError';
}

/**
 * Publishes webhook bodies to the site broker with publisher confirms over one
 * long-lived connection, reconnecting on the next publish after a failure.
 */
@Injectable()
export class WebhookPublisher implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly log = new Logger(WebhookPublisher.name);
  private channel?: Promise<amqp.ConfirmChannel>;
  private connection?: amqp.ChannelModel;
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;

  constructor(private readonly settings: RelaySettings) {}

  private get webhooks(): WebhooksConfig {
    return this.settings.config.webhooks!;
  }

  private get url(): string {
    return this.settings.config.brokers.find((b) => b.name === this.webhooks.broker)!.url;
  }

  private open(): Promise<amqp.ConfirmChannel> {
    this.channel ??= (async () => {
      try {
        const conn = await amqp.connect(this.url, { timeout: 5000 });
        this.connection = conn;
        const reset = (): void => {
          this.channel = undefined;
          this.connection = undefined;
        };
        conn.on('error', (err: Error) => this.log.warn(`site broker connection error: ${err.message}`));
        conn.on('close', reset);
        const ch = await conn.createConfirmChannel();
        ch.on('error', (err: Error) => this.log.warn(`site broker channel error: ${err.message}`));
        ch.on('close', reset);
        await ch.assertExchange(this.webhooks.exchange, 'topic', { durable: true });
        return ch;
      } catch (err) {
        this.channel = undefined;
        throw new BrokerUnavailableError(`site broker at ${maskUrl(this.url)}: ${describeConnectError(err)}`);
      }
    })();
    return this.channel;
  }

  /** Resolves once the broker confirmed the message; rejects with BrokerUnavailableError otherwise. */
  publish(routingKey: string, body: Buffer, headers: Record<string, string>, contentType: string): Promise<void> {
    if (this.closing) return Promise.reject(new BrokerUnavailableError('the relay is shutting down'));
    const p = this.doPublish(routingKey, body, headers, contentType).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  }

  private async doPublish(routingKey: string, body: Buffer, headers: Record<string, string>, contentType: string): Promise<void> {
    const ch = await this.open();
    const timeoutMs = this.webhooks.confirmTimeoutSeconds * 1000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new BrokerUnavailableError(`no confirm from the site broker within ${timeoutMs} ms`)),
        timeoutMs,
      );
      try {
        ch.publish(
          this.webhooks.exchange,
          routingKey,
          body,
          { persistent: true, mandatory: false, contentType, headers, timestamp: Math.floor(Date.now() / 1000) },
          (err) => {
            clearTimeout(timer);
            if (err) reject(new BrokerUnavailableError('the site broker refused the message (nack)'));
            else resolve();
          },
        );
      } catch (err) {
        clearTimeout(timer);
        this.channel = undefined;
        reject(new BrokerUnavailableError(`publish failed: ${(err as Error).message}`));
      }
    });
  }

  /**
   * Shutdown, before the HTTP server closes: no new publish starts (503), and
   * every publish already handed to the broker finishes — confirmed (202) or
   * not within confirmTimeoutSeconds (503) — so no request is left half done.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    if (this.inFlight.size > 0) this.log.log(`shutting down: waiting for ${this.inFlight.size} webhook publishes in flight`);
    await Promise.allSettled([...this.inFlight]);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.inFlight]);
    await this.connection?.close().catch(() => undefined);
  }
}
