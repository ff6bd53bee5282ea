/**
 * CDEvents event ids, built and read back in one place. CloudEvents and CDEvents make `source` + `id` unique
 * (a context id is unique only within its source), so an event's id is `cdevents:<context.source>|<context.id>`;
 * `|` cannot appear unescaped in a URI-reference source, so the split is unambiguous.
 *
 * A link names its target by context id alone (links spec: `from` / `target` `{contextId}`), so which
 * event it means is decided in two steps: the parser points it at the linking event's own source, and the
 * graph re-points it at an event of another source with that context id when that context id cannot be
 * ambiguous there ({@link globalContextId}; libs/events/README.md, "Joining a CDEvents link to another
 * tool's event").
 */

/** The event id of the CDEvent with this context source and id. */
export function cdeventsEventId(source: string, id: string): string {
  return `cdevents:${source}|${id}`;
}

/** The context source and id of a CDEvents event id; undefined for another id. */
export function parseCdeventsEventId(eventId: string): { source: string; contextId: string } | undefined {
  if (!eventId.startsWith('cdevents:')) return undefined;
  const bar = eventId.indexOf('|', 'cdevents:'.length);
  if (bar < 0 || bar === eventId.length - 1) return undefined;
  return { source: eventId.slice('cdevents:'.length, bar), contextId: eventId.slice(bar + 1) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a context id names one event whatever its source: a UUID, the form the spec gives and the SDKs
 * generate. A link to such an id may join an event of another source; a link to another id only an event of
 * the linking event's chain (`chainId`, the links spec's bucket of linked events, which producers propagate
 * from the events they consume).
 */
export function globalContextId(contextId: string): boolean {
  return UUID.test(contextId);
}
