// The part of rascal's API this project uses (rascal ships no type declarations).
declare module 'rascal' {
  import type { EventEmitter } from 'node:events';
  import type { Message } from 'amqplib';

  export type Recovery =
    | { strategy: 'ack' }
    | { strategy: 'nack'; requeue?: boolean }
    | { strategy: 'republish'; defer?: number; attempts?: number; immediateNack?: boolean }
    | { strategy: 'forward'; publication: string; options?: Record<string, unknown>; xDeathFix?: boolean };

  export type AckOrNack = (err?: Error, recovery?: Recovery | Recovery[]) => void;

  export interface SubscriptionSession extends EventEmitter {
    on(event: 'message', listener: (message: Message, content: unknown, ackOrNack: AckOrNack) => void): this;
    on(
      event: 'error' | 'invalid_content' | 'redeliveries_exceeded',
      listener: (err: Error, message?: Message, ackOrNack?: AckOrNack) => void,
    ): this;
    cancel(): Promise<void>;
  }

  export type PublicationSession = EventEmitter;

  export class BrokerAsPromised extends EventEmitter {
    static create(config: unknown, components?: unknown): Promise<BrokerAsPromised>;
    subscribe(name: string, overrides?: Record<string, unknown>): Promise<SubscriptionSession>;
    publish(name: string, message: unknown, overrides?: Record<string, unknown> | string): Promise<PublicationSession>;
    shutdown(): Promise<void>;
    nuke(): Promise<void>;
    connect(vhost: string): Promise<unknown>;
  }

  export function withDefaultConfig(config: unknown): unknown;

  const rascal: { BrokerAsPromised: typeof BrokerAsPromised; withDefaultConfig: typeof withDefaultConfig };
  export default rascal;
}
