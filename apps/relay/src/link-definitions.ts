import { siteBindingKey, siteRoutingKey } from '@not/events';
import {
  amqpVhost,
  bufferQueueName,
  intakeQueueName,
  linkName,
  type FederationUpstreamDefinition,
  type PolicyDefinition,
  type ShovelDefinition,
} from '@not/messaging';
import { WEBHOOK_SOURCE, type BrokerConfig, type RelayConfig } from './relay.config.js';
import type { BufferedLink } from './site-broker.js';

/**
 * What the relay wants to exist on the brokers, as pure data: the reconciler
 * compares these with what the management APIs report.
 */

export type Link = BufferedLink & { readonly broker: string };

/** Every buffered link the config asks for: its sources, plus the webhook exchange when webhooks are on. */
export function linksOf(config: RelayConfig): Link[] {
  const links: Link[] = config.sources.map((s) => ({
    ...s,
    centralKey: siteRoutingKey(config.site, s.name, s.format),
  }));
  if (config.webhooks) {
    links.push({
      name: WEBHOOK_SOURCE,
      broker: config.webhooks.broker,
      exchange: config.webhooks.exchange,
      exchangeType: 'topic',
      // Only what the relay itself published for this site.
      bindingKeys: [siteBindingKey(config.site, WEBHOOK_SOURCE)],
      maxLength: 1_000_000,
      mode: 'shovel',
    });
  }
  return links;
}

/** Central URIs as the shovel takes them: amqps ones carry the TLS options as query parameters. */
function centralUris(config: RelayConfig): string | string[] {
  const tls = config.central.tls;
  const uris = config.central.urls.map((url) => {
    if (!url.startsWith('amqps://') || !tls) return url;
    const u = new URL(url);
    u.searchParams.set('cacertfile', tls.caFile);
    u.searchParams.set('verify', 'verify_peer');
    u.searchParams.set('server_name_indication', tls.serverName ?? u.hostname);
    return u.toString();
  });
  return uris.length === 1 ? uris[0]! : uris;
}

/** The central vhost, from the first central URL's path (`/%2F` or none: `/`). */
export function centralVhost(config: RelayConfig): string {
  return amqpVhost(config.central.urls[0]!);
}

/** Shovel mode: on the site broker, from the buffer queue to the central exchange. */
export function siteShovel(config: RelayConfig, broker: BrokerConfig, link: BufferedLink): ShovelDefinition {
  return shovel(config, broker.url, link);
}

/**
 * Federation mode, on the central broker: a federation upstream that points at
 * the site's buffer queue. The broker on the central side opens the connection
 * (central pulls); the site needs no outbound access to central.
 */
export function federationUpstream(broker: BrokerConfig, site: string, link: BufferedLink): FederationUpstreamDefinition {
  return {
    uri: broker.federationUrl ?? broker.url,
    queue: bufferQueueName(site, link.name),
    'ack-mode': 'on-confirm',
    'prefetch-count': 1000,
    'reconnect-delay': 5,
    'trust-user-id': false,
  };
}

/**
 * The buffer queue's limit, as a policy on the site broker rather than queue arguments, so that a new
 * `maxLength` takes effect without redeclaring the queue. The relay puts it before it declares the
 * queue, so the queue is limited from its first message. `reject-publish`: when the buffer is full the
 * broker refuses new messages (publishers see a nack) rather than dropping the oldest.
 */
export function bufferPolicy(site: string, link: BufferedLink): PolicyDefinition {
  return queuePolicy(bufferQueueName(site, link.name), { 'max-length': link.maxLength, overflow: 'reject-publish' });
}

/** A policy for exactly one queue: its exact-name pattern outranks an operator's broad policies (only one policy applies to a queue). */
function queuePolicy(queue: string, definition: PolicyDefinition['definition']): PolicyDefinition {
  return { pattern: `^${escapeRegExp(queue)}$`, 'apply-to': 'queues', priority: 100, definition };
}

/**
 * `keepRoutingKey`: the intake queue's policy. A message TTL of 0 dead-letters each message as soon as
 * it reaches the head of the queue, through the default exchange straight into the buffer queue; the
 * broker records the tool's exchange and routing key in the message's `x-death` header on the way
 * (`keptRoutingKey` of @not/messaging reads it back at central). `at-least-once`: the intake keeps a message until
 * the buffer has taken it (RabbitMQ's quorum queue dead-lettering; it needs `reject-publish`), so a
 * full buffer holds messages back here rather than dropping them. The same limit as the buffer's.
 */
export function intakePolicy(site: string, link: BufferedLink): PolicyDefinition {
  return queuePolicy(intakeQueueName(site, link.name), {
    'message-ttl': 0,
    'dead-letter-exchange': '',
    'dead-letter-routing-key': bufferQueueName(site, link.name),
    'dead-letter-strategy': 'at-least-once',
    'max-length': link.maxLength,
    overflow: 'reject-publish',
  });
}

/** Federation mode: the policy that makes the central queue of the same name a federated queue of that upstream. */
export function federationPolicy(site: string, link: BufferedLink): PolicyDefinition {
  return queuePolicy(bufferQueueName(site, link.name), { 'federation-upstream': linkName(site, link.name) });
}

/**
 * Federation mode, on the central broker: a local shovel from the federated
 * queue to the central exchange. Federation cannot change a routing key; this
 * shovel sets `site.<site>.<source>.<format>` and publishes with the site's own
 * central credentials, so the topic permissions still bind the site's identity.
 */
export function centralShovel(config: RelayConfig, link: BufferedLink): ShovelDefinition {
  const vhost = centralVhost(config);
  return shovel(config, vhost === '/' ? 'amqp://' : `amqp:///${encodeURIComponent(vhost)}`, link);
}

function shovel(config: RelayConfig, srcUri: string, link: BufferedLink): ShovelDefinition {
  return {
    'src-protocol': 'amqp091',
    'src-uri': srcUri,
    'src-queue': bufferQueueName(config.site, link.name),
    'dest-protocol': 'amqp091',
    'dest-uri': centralUris(config),
    'dest-exchange': config.central.exchange,
    ...(link.centralKey ? { 'dest-exchange-key': link.centralKey } : {}),
    'ack-mode': 'on-confirm',
    'dest-add-forward-headers': true,
    'dest-add-timestamp-header': true,
    'reconnect-delay': 5,
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
