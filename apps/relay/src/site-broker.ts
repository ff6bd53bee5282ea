import { describeConnectError, maskUrl } from '@not/messaging';
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
}

/** Names of everything the relay owns on a site broker: one recognisable prefix. */
export const RELAY_PREFIX = 'not-relay';
export const bufferQueueName = (site: string, source: string): string => `${RELAY_PREFIX}.${site}.${source}`;
/** The name of a source's link objects: its shovel, or its federation upstream, policy and central shovel. */
export const linkName = (site: string, source: string): string => `${RELAY_PREFIX}-${site}-${source}`;

/**
 * The buffer queue's type: quorum for shovels; classic for federation, because
 * queue federation consuming a quorum upstream queue crashes the upstream channel
 * on RabbitMQ 3.10 (observed: redeliveries, duplicates, a tenth of the throughput).
 */
export const bufferQueueType = (link: Pick<BufferedLink, 'mode'>): 'quorum' | 'classic' =>
  link.mode === 'federation' ? 'classic' : 'quorum';

/**
 * AMQP access to one site broker: declares the source exchange, the buffer queue and its bindings.
 * The queue's limit is not an argument but a policy ({@link bufferPolicy} in link-definitions.ts), put
 * before the queue is declared.
 */
export class SiteBroker {
  constructor(readonly config: BrokerConfig) {}

  /**
   * `exists`: the queue is there already; it is then only checked (a passive declare), never declared
   * again: a queue declared by an earlier relay with `x-max-length`/`x-overflow` arguments keeps them,
   * where a declare with other arguments would fail (PRECONDITION_FAILED).
   */
  async declareBuffer(site: string, source: BufferedLink, exists: boolean): Promise<string> {
    const queue = bufferQueueName(site, source.name);
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
      if (exists) await ch.checkQueue(queue);
      else await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': bufferQueueType(source) } });
      for (const key of source.bindingKeys) await ch.bindQueue(queue, source.exchange, key);
      await ch.close();
    } finally {
      await conn.close().catch(() => undefined);
    }
    return queue;
  }
}
