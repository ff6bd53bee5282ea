import { ENTITY_LABELS } from '@not/events';
import { JOURNEY_ORDER, stageProperty } from './journey.js';

/** Every uniqueness constraint and index the graph relies on; created at start if missing. */
export const SCHEMA_STATEMENTS: readonly string[] = [
  'CREATE CONSTRAINT event_id IF NOT EXISTS FOR (n:Event) REQUIRE n.id IS UNIQUE',
  ...ENTITY_LABELS.map((label) => `CREATE CONSTRAINT ${label.toLowerCase()}_key IF NOT EXISTS FOR (n:${label}) REQUIRE n.key IS UNIQUE`),
  'CREATE CONSTRAINT alias_id IF NOT EXISTS FOR (n:Alias) REQUIRE n.id IS UNIQUE',
  'CREATE INDEX event_time IF NOT EXISTS FOR (n:Event) ON (n.time)',
  'CREATE INDEX event_type IF NOT EXISTS FOR (n:Event) ON (n.type)',
  'CREATE INDEX event_site IF NOT EXISTS FOR (n:Event) ON (n.site)',
  'CREATE INDEX event_stage IF NOT EXISTS FOR (n:Event) ON (n.stage)',
  'CREATE INDEX event_stage_time IF NOT EXISTS FOR (n:Event) ON (n.stage, n.time)',
  'CREATE INDEX event_ingested IF NOT EXISTS FOR (n:Event) ON (n.ingestedAt)',
  'CREATE INDEX commit_sha IF NOT EXISTS FOR (n:Commit) ON (n.sha)',
  'CREATE CONSTRAINT lease_name IF NOT EXISTS FOR (n:Lease) REQUIRE n.name IS UNIQUE',
  // The journey read model (journeys.ts): one node per commit, found by the stages it reached and when.
  'CREATE CONSTRAINT journey_key IF NOT EXISTS FOR (n:Journey) REQUIRE n.key IS UNIQUE',
  ...JOURNEY_ORDER.map(
    (stage) =>
      `CREATE INDEX journey_${stageProperty(stage, 'First')} IF NOT EXISTS FOR (n:Journey) ON (n.${stageProperty(stage, 'First')})`,
  ),
  'CREATE INDEX journey_furthest IF NOT EXISTS FOR (n:Journey) ON (n.furthestStage)',
  // What changed since a reader's last round (changedSince, lastChange).
  'CREATE INDEX journey_updated IF NOT EXISTS FOR (n:Journey) ON (n.updatedAt)',
  // Subscriptions and their firings (subscriptions.ts): one firing per key, ever.
  'CREATE CONSTRAINT subscription_id IF NOT EXISTS FOR (n:Subscription) REQUIRE n.id IS UNIQUE',
  'CREATE CONSTRAINT firing_key IF NOT EXISTS FOR (n:Firing) REQUIRE n.key IS UNIQUE',
  'CREATE INDEX firing_id IF NOT EXISTS FOR (n:Firing) ON (n.id)',
  'CREATE INDEX firing_subscription IF NOT EXISTS FOR (n:Firing) ON (n.subscription)',
  'CREATE INDEX firing_status IF NOT EXISTS FOR (n:Firing) ON (n.status)',
  // One episode per finding of the explorer's trends (subscriptions.ts recordInsights).
  'CREATE CONSTRAINT insight_episode_finding IF NOT EXISTS FOR (n:InsightEpisode) REQUIRE n.finding IS UNIQUE',
  'CREATE INDEX insight_episode_last_seen IF NOT EXISTS FOR (n:InsightEpisode) ON (n.lastSeen)',
  // Eiffel events waiting to be republished on the central Eiffel bus (few at any time).
  'CREATE INDEX event_outbox IF NOT EXISTS FOR (n:Event) ON (n.outbox)',
  // CDEvents and the placeholders of CDEvents links by context id, and the per-context-id lock of the join
  // between them (cdevents-links.ts).
  'CREATE INDEX event_context_id IF NOT EXISTS FOR (n:Event) ON (n.contextId)',
  'CREATE CONSTRAINT cdevents_context_lock IF NOT EXISTS FOR (n:CdeventsContextLock) REQUIRE n.id IS UNIQUE',
];

const IDENT = /^[A-Z][A-Za-z0-9_]*$/;

/** Relationship types and labels cannot be query parameters: only safe identifiers are ever put into query text. */
export function cypherIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`unsafe graph identifier "${name}"`);
  return '`' + name + '`';
}
