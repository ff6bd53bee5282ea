import { bufferQueueName, describeConnectError, intakeQueueName, maskUrl } from '@not/messaging';
import amqp from 'amqplib';
import type { BrokerConfig } from './relay.config.js';

/** What the relay carries from one site exchange to central: a source, or the relay's own webhook exchange. */
export interface BufferedLink {
  readonly name: string;
  readonly exchange: string;
  readonly exchangeType: 'topic' | 'direct' | 'fanout' | 'headers';
  readonly bindingKeys: readonly string[];
  readonly maxLength: number;
  readonly mode: 'shovel' | 'federation';
  /** Routing key at central; absent: keep the key the message was published with. */
  readonly centralKey?: string;
  /** The exchange binds an intake queue that keeps the tool's routing key (in `x-death`) on the way to the buffer. */
  readonly keepRoutingKey?: boolean;
}

/**
 * The buffer queue's type: quorum for shovels; classic for federation, because
 * queue federation consuming a quorum upstream queue crashes the upstream channel
 * on RabbitMQ 3.10 (observed: redeliveries, duplicates, a tenth of the throughput).
 */
export const bufferQueueType = (link: Pick<BufferedLink, 'mode'>): 'quorum' | 'classic' =>
  link.mode === 'federation' ? 'classic' : 'quorum';

/**
 * AMQP access to one site broker: declares the source exchange, the buffer queue (and with
 * `keepRoutingKey` the intake queue) and their bindings. Limits are not arguments but policies
 * ({@link bufferPolicy}, {@link intakePolicy} in link-definitions.ts), put before the queues are declared.
 */
export class SiteBroker {
  constructor(readonly config: BrokerConfig) {}

  /**
   * `exists`: the queue is there already; it is then only checked (a passive declare), never declared
   * again: a queue declared by an earlier relay with `x-max-length`/`x-overflow` arguments keeps them,
   * where a declare with other arguments would fail (PRECONDITION_FAILED).
   *
   * With `keepRoutingKey` the exchange binds the intake queue instead, which its policy
   * ({@link intakePolicy}) makes hand every message on to the buffer; the buffer's own bindings go.
   * Without it, the reverse. The new binding comes before the old one goes: a message published in
   * between reaches both (a duplicate, which central drops), never neither (lost).
   */
  async declareBuffer(site: string, source: BufferedLink, exists: { buffer: boolean; intake: boolean }): Promise<string> {
    const queue = bufferQueueName(site, source.name);
    const intake = intakeQueueName(site, source.name);
    let conn: amqp.ChannelModel;
    try {
      conn = await amqp.connect(this.config.url);
    } catch (err) {
      throw new Error(`site broker "${this.config.name}" at ${maskUrl(this.config.url)}: ${describeConnectError(err)}`, { cause: err });
    }
    try {
      const ch = await conn.createChannel();
      await ch.assertExchange(source.exchange, source.exchangeType, { durable: true });
      // The type is the one setting a policy cannot give; the limit and overflow come from the buffer policy.
      if (exists.buffer) await ch.checkQueue(queue);
      else await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': bufferQueueType(source) } });
      if (source.keepRoutingKey) {
        // Quorum: dead-lettering at-least-once (the policy's strategy) needs a quorum queue as its source.
        if (exists.intake) await ch.checkQueue(intake);
        else await ch.assertQueue(intake, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
        for (const key of source.bindingKeys) await ch.bindQueue(intake, source.exchange, key);
        for (const key of source.bindingKeys) await ch.unbindQueue(queue, source.exchange, key);
      } else {
        for (const key of source.bindingKeys) await ch.bindQueue(queue, source.exchange, key);
        // Left by keepRoutingKey: unbound, it still hands what it holds on to the buffer.
        if (exists.intake) for (const key of source.bindingKeys) await ch.unbindQueue(intake, source.exchange, key);
      }
      await ch.close();
    } finally {
      await conn.close().catch(() => undefined);
    }
    return queue;
  }
}
