import amqp from 'amqplib';
import { describeConnectError, maskUrl } from './amqp-url.js';

export interface PublishItem {
  readonly body: Buffer;
  readonly routingKey: string;
  readonly headers?: Record<string, unknown>;
  readonly messageId?: string;
  readonly contentType?: string;
}

/**
 * Publishes with publisher confirms: resolves only when the broker confirmed
 * every message; rejects with a clear reason otherwise.
 */
export async function publishConfirmed(url: string, exchange: string, items: readonly PublishItem[]): Promise<void> {
  let conn: amqp.ChannelModel;
  try {
    conn = await amqp.connect(url);
  } catch (err) {
    throw new Error(`cannot reach broker at ${maskUrl(url)}: ${describeConnectError(err)}`, { cause: err });
  }
  try {
    const ch = await conn.createConfirmChannel();
    await ch.checkExchange(exchange).catch((err: Error) => {
      throw new Error(`exchange "${exchange}" does not exist on ${maskUrl(url)} (${err.message.split(';')[0]})`);
    });
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
    await ch.close();
  } finally {
    await conn.close().catch(() => undefined);
  }
}
