import { Logger } from '@nestjs/common';
import { BaseRpcContext, RpcException, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { Message } from 'amqplib';
import rascal, { type AckOrNack, type BrokerAsPromised } from 'rascal';
import { isObservable, lastValueFrom } from 'rxjs';
import { describeConnectError, maskUrl } from './amqp-url.js';

/** What a handler bound with `@EventPattern(format)` receives: the message exactly as it arrived. */
export interface AmqpMessage {
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly routingKey: string;
  readonly redelivered: boolean;
  readonly timestamp?: number;
}

/** Set by `traces replay`: the routing key the message had when it first reached central. */
export const REPLAY_ROUTING_KEY_HEADER = 'x-not-routing-key';

/** Thrown by a handler to dead-letter a message with a reason instead of retrying it. */
export class PoisonMessageError extends RpcException {
  constructor(reason: string) {
    // Nest's RPC exception filter passes `getError()` on: keep the name so the transport recognises it.
    super({ name: 'PoisonMessageError', message: reason });
    this.name = 'PoisonMessageError';
    this.message = reason;
  }
}

class AmqpContext extends BaseRpcContext<[Message]> {
  constructor(message: Message) {
    super([message]);
  }
}

export interface RascalServerOptions {
  /**
   * Rascal configuration (vhosts, exchanges, queues, bindings, publications, subscriptions), or a function
   * giving it when the server starts listening (after the app's start-up hooks, which may decide part of it).
   */
  readonly config: Record<string, unknown> | (() => Record<string, unknown>);
  /** The subscription to consume. */
  readonly subscription: string;
  /** The publication dead letters are forwarded through (with the reason in `x-not-reason`). */
  readonly deadLetterPublication: string;
  /** Chooses the handler pattern for a message; unmatched patterns go to the `*` handler if there is one. */
  readonly patternOf: (message: AmqpMessage) => string;
  /** For messages of an unknown URL in the error text. */
  readonly url: string;
}

/**
 * A `@nestjs/microservices` transport on rascal that fits foreign payloads:
 * no `{pattern, data}` envelope, manual acknowledgement. A message is acked
 * only when its handler's promise resolves (for the correlator: when its batch
 * committed); a handler that throws {@link PoisonMessageError} gets the
 * message forwarded to the dead-letter exchange with the reason; any other
 * failure is retried by redelivery.
 */
export class RascalServer extends Server implements CustomTransportStrategy {
  private broker?: BrokerAsPromised;
  private readonly log = new Logger(RascalServer.name);
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: RascalServerOptions) {
    super();
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      this.broker = await rascal.BrokerAsPromised.create(
        rascal.withDefaultConfig(typeof this.options.config === 'function' ? this.options.config() : this.options.config),
      );
    } catch (err) {
      callback(new Error(`cannot reach the central broker at ${maskUrl(this.options.url)}: ${describeConnectError(err)}`));
      return;
    }
    this.broker.on('error', (err: Error) => this.log.error(`broker error: ${err.message}`));
    const session = await this.broker.subscribe(this.options.subscription);
    session.on('message', (message, _content, ackOrNack) => {
      const p = this.dispatch(message, ackOrNack).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    });
    session.on('error', (err) => this.log.error(`subscription error: ${err.message}`));
    session.on('invalid_content', (err, _m, ackOrNack) => ackOrNack?.(err, this.deadLetter(err.message)));
    callback();
  }

  private async dispatch(message: Message, ackOrNack: AckOrNack): Promise<void> {
    const headers = message.properties.headers ?? {};
    const replayed = headers[REPLAY_ROUTING_KEY_HEADER];
    const msg: AmqpMessage = {
      body: message.content,
      headers,
      // A replayed message keeps the routing key it first arrived with.
      routingKey: typeof replayed === 'string' ? replayed : message.fields.routingKey,
      redelivered: message.fields.redelivered,
      timestamp: typeof message.properties.timestamp === 'number' ? message.properties.timestamp : undefined,
    };
    const pattern = this.options.patternOf(msg);
    const handler = this.getHandlerByPattern(pattern) ?? this.getHandlerByPattern('*');
    if (!handler) {
      ackOrNack(new Error(`no handler for format "${pattern}"`), this.deadLetter(`no handler for format "${pattern}"`));
      return;
    }
    try {
      const out: unknown = await handler(msg, new AmqpContext(message));
      if (isObservable(out)) await lastValueFrom(out, { defaultValue: undefined });
      ackOrNack();
    } catch (err) {
      const error = toError(err);
      if (error instanceof PoisonMessageError || error.name === 'PoisonMessageError') {
        ackOrNack(error, this.deadLetter(error.message));
      } else {
        this.log.warn(`message on ${msg.routingKey} failed and will be redelivered: ${error.message}`);
        ackOrNack(error, { strategy: 'nack', requeue: true });
      }
    }
  }

  private deadLetter(reason: string) {
    return {
      strategy: 'forward' as const,
      publication: this.options.deadLetterPublication,
      options: { options: { headers: { 'x-not-reason': reason.slice(0, 1024) } } },
    };
  }

  /** Opens (and closes) a connection to the broker: fails when the broker is unreachable. */
  async checkBroker(): Promise<void> {
    if (!this.broker) throw new Error('not connected to the central broker');
    const conn = (await this.broker.connect('/')) as { close(): Promise<void> };
    await conn.close();
  }

  /** Messages waiting in a queue (ready, not yet delivered): the consumer lag. */
  async queueDepth(queue: string): Promise<number> {
    if (!this.broker) throw new Error('not connected to the central broker');
    const conn = (await this.broker.connect('/')) as import('amqplib').ChannelModel;
    try {
      const ch = await conn.createChannel();
      const q = await ch.checkQueue(queue);
      return q.messageCount;
    } finally {
      await conn.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.broker?.shutdown().catch(() => undefined);
  }

  on(): never {
    throw new Error('RascalServer does not support event listeners; use the broker metrics instead');
  }

  unwrap<T>(): T {
    return this.broker as T;
  }
}

function toError(err: unknown): Error {
  if (err instanceof Error) return err;
  // Nest's RPC exception filter wraps thrown errors into plain objects.
  if (err && typeof err === 'object' && 'message' in err) {
    const e = new Error(String((err as { message: unknown }).message));
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string') e.name = name;
    return e;
  }
  return new Error(String(err));
}
