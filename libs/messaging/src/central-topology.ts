/**
 * The central broker's topology, as data: declared by the correlator at start
 * (rascal's configuration-first style). Names are fixed by the design
 * (`not.central`, `not.ingest`, `not.archive`, `not.dead`).
 */
import { siteBindingKey } from '@not/events';
export const CENTRAL = {
  exchange: 'not.central',
  ingestQueue: 'not.ingest',
  archiveStream: 'not.archive',
  deadExchange: 'not.dead',
  deadQueue: 'not.dead',
  unroutableExchange: 'not.unroutable',
  unroutableQueue: 'not.unroutable',
  ingestSubscription: 'ingest',
  deadPublication: 'dead',
} as const;

export interface CentralTopologyOptions {
  /** One URL, or one per node of a central cluster (tried in turn, and again on reconnection). */
  readonly url: string | readonly string[];
  readonly prefetch: number;
  readonly deliveryLimit: number;
  readonly archiveMaxAge: string;
}

/** Rascal vhost configuration for the central broker. */
export function centralRascalConfig(o: CentralTopologyOptions): Record<string, unknown> {
  return {
    vhosts: {
      '/': {
        connections: centralUrls(o.url).map((url) => ({
          url,
          options: { heartbeat: 10 },
          retry: { min: 500, max: 5000, factor: 2, strategy: 'exponential' },
        })),
        // Nodes in a random order, so that several correlators spread over a cluster's nodes.
        connectionStrategy: 'random',
        exchanges: {
          [CENTRAL.unroutableExchange]: { type: 'fanout', options: { durable: true } },
          [CENTRAL.exchange]: { type: 'topic', options: { durable: true, alternateExchange: CENTRAL.unroutableExchange } },
          [CENTRAL.deadExchange]: { type: 'topic', options: { durable: true } },
        },
        queues: {
          [CENTRAL.ingestQueue]: {
            options: {
              durable: true,
              arguments: {
                'x-queue-type': 'quorum',
                'x-dead-letter-exchange': CENTRAL.deadExchange,
                'x-dead-letter-strategy': 'at-least-once',
                'x-overflow': 'reject-publish',
                'x-delivery-limit': o.deliveryLimit,
              },
            },
          },
          [CENTRAL.deadQueue]: { options: { durable: true, arguments: { 'x-queue-type': 'quorum' } } },
          [CENTRAL.archiveStream]: {
            options: { durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-age': o.archiveMaxAge } },
          },
          [CENTRAL.unroutableQueue]: { options: { durable: true, arguments: { 'x-queue-type': 'quorum' } } },
        },
        bindings: {
          ingest: { source: CENTRAL.exchange, destination: CENTRAL.ingestQueue, bindingKey: siteBindingKey() },
          archive: { source: CENTRAL.exchange, destination: CENTRAL.archiveStream, bindingKey: siteBindingKey() },
          dead: { source: CENTRAL.deadExchange, destination: CENTRAL.deadQueue, bindingKey: '#' },
          unroutable: { source: CENTRAL.unroutableExchange, destination: CENTRAL.unroutableQueue },
        },
        publications: {
          [CENTRAL.deadPublication]: { exchange: CENTRAL.deadExchange, confirm: true },
        },
        subscriptions: {
          [CENTRAL.ingestSubscription]: {
            queue: CENTRAL.ingestQueue,
            prefetch: o.prefetch,
            // Keep the payload as the original bytes: never let the client re-decode it.
            contentType: 'application/octet-stream',
          },
        },
      },
    },
  };
}

/** The central URL setting (one URL or a list) as a list. */
export function centralUrls(url: string | readonly string[]): string[] {
  return typeof url === 'string' ? [url] : [...url];
}
