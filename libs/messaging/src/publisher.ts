import amqp from 'amqplib';
import { describeConnectError, maskUrl } from './amqp-url.js';

export interface PublishItem {
  readonly body: Buffer;
  readonly routingKey: string;
  readonly headers?: Record<string, unknown>;
  readonly messageId?: string;
  readonly contentType?: string;
}

/** A connection and confirm channel kept open to publish to one exchange, as a tool keeps its own. */
export interface ConfirmedPublisher {
  /** Resolves only when the broker confirmed every message; rejects with a clear reason otherwise. */
  publish(items: readonly PublishItem[]): Promise<void>;
  close(): Promise<void>;
}

/** Connects to `url` and checks that `exchange` exists; the publisher then sends with publisher confirms. */
export async function openPublisher(url: string, exchange: string): Promise<ConfirmedPublisher> {
  let conn: amqp.ChannelModel;
  try {
    conn = await amqp.connect(url);
  } catch (err) {
    throw new Error(`cannot reach broker at ${maskUrl(url)}: ${describeConnectError(err)}`, { cause: err });
  }
  // A channel or connection error between publishes is reported by the next confirm wait.
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    await ch.checkExchange(exchange).catch((err: Error) => {
      throw new Error(`exchange "${exchange}" does not exist on ${maskUrl(url)} (${err.message.split(';')[0]})`);
    });
    return {
      async publish(items) {
        for (const it of items) {
          ch.publish(exchange, it.routingKey, it.body, {
            persistent: true,
            headers: it.headers,
            messageId: it.messageId,
            contentType: it.contentType ?? 'application/json',
            timestamp: Math.floor(Date.now() / 1000),
          });
        }
        await ch.waitForConfirms();
      },
      async close() {
        await ch.close().catch(() => undefined);
        await conn.close().catch(() => undefined);
      },
    };
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
}

/**
 * Publishes with publisher confirms on a connection of its own: resolves only when the broker confirmed
 * every message; rejects with a clear reason otherwise.
 */
export async function publishConfirmed(url: string, exchange: string, items: readonly PublishItem[]): Promise<void> {
  const publisher = await openPublisher(url, exchange);
  try {
    await publisher.publish(items);
  } finally {
    await publisher.close();
  }
}
