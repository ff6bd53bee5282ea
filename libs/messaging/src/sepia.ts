/**
 * Routing keys of the central Eiffel bus, in the form Eiffel's Sepia architecture and its reference
 * publisher REMReM use: `eiffel.<family>.<type>.<tag>.<domainId>`, e.g.
 * `eiffel.activity.EiffelActivityFinishedEvent.notag.example.domain` (eiffel-remrem-publish's
 * integration test `testRoutingKey` expects exactly that form; the domain id may contain dots, it is
 * the last segment). A consumer binds `eiffel.*.EiffelArtifactCreatedEvent.#` or `eiffel.#.<domain>`.
 */

/** Event type → family (the word after `eiffel.`), as Eiffel SDKs group the protocol's types. */
const FAMILIES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^EiffelActivity/, 'activity'],
  [/^EiffelArtifact/, 'artifact'],
  [/^Eiffel(FlowContext|Composition|Environment|Issue)Defined/, 'definition'],
  [/^EiffelAnnouncement/, 'notification'],
  [/^EiffelSourceChange/, 'source'],
  [/^EiffelTest/, 'test'],
  [/^Eiffel(ConfidenceLevel|IssueVerified)/, 'verdict'],
];

const WORD = /^[A-Za-z0-9_-]+$/;

/** The Sepia routing key of an Eiffel event (its parsed JSON); `fallbackDomain` when it names no domain. */
export function sepiaRoutingKey(event: unknown, fallbackDomain: string): string {
  const meta = isObject(event) && isObject(event['meta']) ? event['meta'] : {};
  const type = typeof meta['type'] === 'string' && WORD.test(meta['type']) ? meta['type'] : 'unknown';
  const family = FAMILIES.find(([re]) => re.test(type))?.[1] ?? 'other';
  const source = isObject(meta['source']) ? meta['source'] : {};
  const domain = typeof source['domainId'] === 'string' && source['domainId'] !== '' ? source['domainId'] : fallbackDomain;
  return `eiffel.${family}.${type}.notag.${domain.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** True for a routing key of the Sepia form (five or more words, the first `eiffel`), as a tool at a site used it. */
export function isSepiaRoutingKey(key: unknown): key is string {
  return typeof key === 'string' && key.length <= 255 && /^eiffel(\.[^.#*\s]+){4,}$/.test(key);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
