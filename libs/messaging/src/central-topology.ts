/**
 * The central broker's topology, as data: declared by the correlator at start
 * (rascal's configuration-first style). Names are fixed by the design
 * (`not.central`, `not.ingest`, `not.archive`, `not.dead`).
 */
import { siteBindingKey } from '@not/events';
import amqp from 'amqplib';
import { describeConnectError, maskUrl } from './amqp-url.js';
import { ManagementApiError, sameFields, type BrokerAdmin, type PolicyDefinition } from './broker-admin.js';

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
  /**
   * How `not.ingest` is declared: `policy`, with its type only (the policy `not-ingest` carries its
   * settings, so they change without declaring it again); `arguments` (the default), with every setting
   * as an argument, on a broker whose policies the correlator does not set; `existing`, not declared but
   * checked, for a queue that exists already (by definitions, an operator, an earlier version): declaring
   * it with other arguments than it has would be refused.
   */
  readonly ingestArguments?: 'policy' | 'arguments' | 'existing';
}

/** The policy that carries the ingest queue's settings. */
export const INGEST_POLICY = 'not-ingest';

/**
 * The ingest queue's settings as a policy: dead letters to `not.dead` at least once (which needs
 * `reject-publish`), and a poison message dead-lettered after `deliveryLimit` deliveries. RabbitMQ applies
 * one policy per queue, the matching one of highest priority; an operator's own policy on `not.ingest`
 * needs a higher priority and these keys.
 */
export function ingestPolicy(deliveryLimit: number): PolicyDefinition {
  return {
    pattern: `^${CENTRAL.ingestQueue.replace(/\./g, '\\.')}$`,
    'apply-to': 'queues',
    priority: 10,
    definition: {
      'dead-letter-exchange': CENTRAL.deadExchange,
      'dead-letter-strategy': 'at-least-once',
      overflow: 'reject-publish',
      'delivery-limit': deliveryLimit,
    },
  };
}

/** The ingest queue's settings as arguments (`ingestArguments: 'arguments'`): the same values as the policy. */
function ingestSettingsAsArguments(deliveryLimit: number): Record<string, unknown> {
  return Object.fromEntries(Object.entries(ingestPolicy(deliveryLimit).definition).map(([k, v]) => [`x-${k}`, v]));
}

/** The arguments of an existing queue that a policy would otherwise carry (they win over it). */
const SETTING_ARGUMENTS = Object.keys(ingestSettingsAsArguments(1));

export interface IngestPreparation {
  /** What `centralRascalConfig` declares the queue with. */
  readonly ingestArguments: 'policy' | 'existing';
  /** Whether the policy was created or changed now. */
  readonly policyChanged: boolean;
  /** Set when the queue keeps settings as arguments that win over the policy: what to tell the operator. */
  readonly notice?: string;
}

/**
 * Before the correlator declares the central topology, through the central broker's management API:
 * sets the policy `not-ingest` (when it differs), then reads `not.ingest`. A queue that does not exist yet
 * is declared with its type only; one that exists is used as it is, and if it was declared with its
 * settings as arguments (they win over the policy) the notice says so and what to do.
 */
export async function prepareIngestQueue(admin: BrokerAdmin, deliveryLimit: number, vhost = '/'): Promise<IngestPreparation> {
  const wanted = ingestPolicy(deliveryLimit);
  const current = (await admin.listPolicies(vhost)).find((p) => p.name === INGEST_POLICY);
  const same = current !== undefined && sameFields(current, wanted);
  if (!same) await admin.putPolicy(INGEST_POLICY, wanted, vhost);
  const queue = await admin.queue(CENTRAL.ingestQueue, vhost).catch((err: unknown) => {
    if (err instanceof ManagementApiError && err.status === 404) return undefined;
    throw err;
  });
  if (!queue) return { ingestArguments: 'policy', policyChanged: !same };
  const args = queue.arguments ?? {};
  const kept = SETTING_ARGUMENTS.filter((k) => k in args);
  return {
    ingestArguments: 'existing',
    policyChanged: !same,
    ...(kept.length
      ? {
          notice:
            `${CENTRAL.ingestQueue} was declared with its settings as arguments (${kept.map((k) => `${k}=${String(args[k])}`).join(', ')}), ` +
            `which win over the policy ${INGEST_POLICY}: a change of amqp.deliveryLimit does not reach it until the queue is declared anew ` +
            `(docs/operations.md, "The ingest queue's settings")`,
        }
      : {}),
  };
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
          [CENTRAL.ingestQueue]:
            o.ingestArguments === 'existing'
              ? { assert: false, check: true }
              : { options: { durable: true, arguments: ingestQueueArguments(o.ingestArguments ?? 'arguments', o.deliveryLimit) } },
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

/** The arguments `not.ingest` is declared with (see `CentralTopologyOptions.ingestArguments`). */
function ingestQueueArguments(mode: 'policy' | 'arguments', deliveryLimit: number): Record<string, unknown> {
  return mode === 'policy' ? { 'x-queue-type': 'quorum' } : { 'x-queue-type': 'quorum', ...ingestSettingsAsArguments(deliveryLimit) };
}

/**
 * Whether a queue exists on the central broker (a passive declaration), asking its nodes in turn until
 * one answers; rejects naming every node when none does.
 */
export async function queueExists(url: string | readonly string[], queue: string): Promise<boolean> {
  const problems: string[] = [];
  for (const u of centralUrls(url)) {
    let conn: amqp.ChannelModel;
    try {
      conn = await amqp.connect(u);
    } catch (err) {
      problems.push(`${maskUrl(u)}: ${describeConnectError(err)}`);
      continue;
    }
    try {
      conn.on('error', () => undefined);
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      return await ch.checkQueue(queue).then(
        () => true,
        (err: { code?: number }) => {
          if (err.code === 404) return false;
          throw err;
        },
      );
    } finally {
      await conn.close().catch(() => undefined);
    }
  }
  throw new Error(
    problems.length === 1
      ? `cannot reach the central broker at ${problems[0]}`
      : `cannot reach any node of the central broker (${problems.join('; ')})`,
  );
}
