import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { centralUrls, describeConnectError, maskUrl } from '@not/messaging';
import amqp from 'amqplib';
import { CorrelatorSettings } from './correlator.config.js';

/**
 * The correlator's publishing connection to the central broker (the Eiffel bus and AMQP notifications
 * share it): one confirm channel, opened on first use on the first node of a cluster that answers, the
 * exchanges it publishes to declared once. Dropped on any error and opened again by the next use.
 */
@Injectable()
export class CentralBroker implements OnModuleDestroy {
  private conn?: amqp.ChannelModel;
  private channel?: amqp.ConfirmChannel;
  private opening?: Promise<amqp.ConfirmChannel>;
  private readonly declared = new Set<string>();
  private readonly returned = new Set<string>();

  constructor(private readonly settings: CorrelatorSettings) {}

  /** A confirm channel on which `exchange` (a durable topic exchange) exists. */
  async confirmChannel(exchange: string): Promise<amqp.ConfirmChannel> {
    const ch = this.channel ?? (await (this.opening ??= this.open().finally(() => (this.opening = undefined))));
    if (!this.declared.has(exchange)) {
      await ch.assertExchange(exchange, 'topic', { durable: true });
      this.declared.add(exchange);
    }
    return ch;
  }

  /** Whether a message published `mandatory` with this id came back unroutable (asked once, after its confirm). */
  takeReturned(messageId: string): boolean {
    return this.returned.delete(messageId);
  }

  private async open(): Promise<amqp.ConfirmChannel> {
    const failures: string[] = [];
    let conn: amqp.ChannelModel | undefined;
    for (const url of centralUrls(this.settings.config.amqp.url)) {
      try {
        conn = await amqp.connect(url);
        break;
      } catch (err) {
        failures.push(`${maskUrl(url)}: ${describeConnectError(err)}`);
      }
    }
    if (!conn) throw new Error(`cannot reach the central broker (${failures.join('; ')})`);
    conn.on('error', () => undefined);
    conn.on('close', () => {
      if (this.conn === conn) this.forget();
    });
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    ch.on('return', (msg: amqp.ConsumeMessage) => {
      const id = msg.properties.messageId as unknown;
      if (typeof id === 'string') this.returned.add(id);
    });
    this.conn = conn;
    this.channel = ch;
    return ch;
  }

  private forget(): void {
    this.conn = undefined;
    this.channel = undefined;
    this.declared.clear();
  }

  /** Closes the connection (after an error: the next use opens a new one). */
  async drop(): Promise<void> {
    const conn = this.conn;
    this.forget();
    await conn?.close().catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    await this.drop();
  }
}
