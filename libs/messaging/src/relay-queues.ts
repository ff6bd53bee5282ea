/**
 * Names of what a site's relay owns on a broker, and the one thing central reads back from them: the
 * routing key a tool published with, kept by a source's intake queue (`keepRoutingKey`). Built by the
 * relay, read by the correlator; both sides here.
 */

/** Names of everything the relay owns on a broker: one recognisable prefix. */
export const RELAY_PREFIX = 'not-relay';

/** A source's buffer queue at its site: what the shovel (or the federation link) carries to central. */
export const bufferQueueName = (site: string, source: string): string => `${RELAY_PREFIX}.${site}.${source}`;

/**
 * A source's intake queue (`keepRoutingKey`): bound to the tool's exchange in the buffer's place, it
 * hands each message on to the buffer at once by dead-lettering (a message TTL of 0), and RabbitMQ's
 * dead-lettering records the routing key the tool used in the message's `x-death` header, which the
 * shovel carries to central with the other headers. Source names hold no dots: no other queue of the
 * relay has this name.
 */
export const intakeQueueName = (site: string, source: string): string => `${bufferQueueName(site, source)}.intake`;

/** The name of a source's link objects: its shovel, or its federation upstream, policy and central shovel. */
export const linkName = (site: string, source: string): string => `${RELAY_PREFIX}-${site}-${source}`;

/**
 * The routing key a tool published a message with, when the site's relay kept it: the first routing key
 * of the `x-death` entry the message's passage through the source's intake queue left. Entries of other
 * queues (a tool's own dead-lettering, central's) are not it. Undefined when there is none.
 */
export function keptRoutingKey(headers: Readonly<Record<string, unknown>>, site: string, source: string): string | undefined {
  const deaths = headers['x-death'];
  if (!Array.isArray(deaths)) return undefined;
  const intake = intakeQueueName(site, source);
  for (const d of deaths as unknown[]) {
    if (typeof d !== 'object' || d === null) continue;
    const { queue, 'routing-keys': keys } = d as { queue?: unknown; 'routing-keys'?: unknown };
    if (queue !== intake || !Array.isArray(keys)) continue;
    const first = (keys as unknown[])[0];
    return typeof first === 'string' ? first : undefined;
  }
  return undefined;
}
