/**
 * The canonical trace model: what every parser produces, whatever the format.
 *
 * A message (body bytes + AMQP headers + routing key) parses into zero or more
 * {@link TraceEvent}s. Each event carries its own typed links to other events
 * (the event layer) and the entities it is about, keyed by natural identities
 * so that the same commit or artifact seen at two sites is one node (the
 * entity layer). Everything here is plain data: no classes, no I/O.
 */

/** Every wire format the central side understands. The last segment of the format in the routing key. */
export const FORMATS = [
  'eiffel',
  'cdevents',
  'jenkins',
  'gerrit',
  'github',
  'gitlab',
  'gitea',
  'git-hook',
  'nexus',
  'artifactory',
  'verdaccio',
  'jira',
] as const;
export type Format = (typeof FORMATS)[number];

export function isFormat(value: string): value is Format {
  return (FORMATS as readonly string[]).includes(value);
}

/** A message as it arrives from the broker. */
export interface InboundMessage {
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, unknown>>;
  /** `site.<siteId>.<source>.<format>[.<rest>]` */
  readonly routingKey: string;
}

/** Where a message came from, as the central routing key says (the broker enforces the site part). */
export interface Origin {
  readonly site: string;
  readonly source: string;
  readonly format: Format;
}

/** The pipeline stage an event belongs to; the explorer orders a change's journey by it. */
export const STAGES = [
  'work-item',
  'commit',
  'review',
  'merge',
  'build',
  'test',
  'artifact',
  'publication',
  'promotion',
  'deployment',
  'release',
  'other',
] as const;
export type Stage = (typeof STAGES)[number];

export type Phase = 'defined' | 'triggered' | 'queued' | 'started' | 'finished' | 'canceled' | 'created' | 'deleted' | 'modified';
export type Outcome = 'success' | 'failure' | 'error' | 'canceled' | 'inconclusive';

/**
 * The outcomes that are a failure: a failed build, test run or deployment, a change failure for DORA, a
 * failure in the live stream. A canceled run is not one (nothing was found wrong).
 */
export const FAILED_OUTCOMES: ReadonlySet<string> = new Set<Outcome>(['failure', 'error']);

/** The outcomes at which a stage did not pass: the failures, and a canceled run. The stage bar shows these as stopped. */
export const STOPPED_OUTCOMES: ReadonlySet<string> = new Set<string>([...FAILED_OUTCOMES, 'canceled']);

export type Scalar = string | number | boolean | null;
export type Properties = Record<string, Scalar | readonly string[]>;

export const ENTITY_LABELS = [
  'Commit',
  'Change',
  'WorkItem',
  'Build',
  'TestRun',
  'Artifact',
  'Environment',
  'Release',
  'Repository',
  'Site',
] as const;
export type EntityLabel = (typeof ENTITY_LABELS)[number];

/** A reference to an entity by its natural key (see `keys.ts` for how keys are built). */
export interface EntityRef {
  readonly label: EntityLabel;
  readonly key: string;
}

export interface Entity extends EntityRef {
  /** Properties to set on the entity node; never overwrite the key. */
  readonly props: Properties;
  /** Other keys the same entity is known by (purl, GAV, path for artifacts). */
  readonly aliases?: readonly string[];
}

/** Relations between entities; the relationship type in the graph. */
export const ENTITY_RELATIONS = [
  'IN_REPOSITORY', // Commit|Change -> Repository
  'PARENT', // Commit -> Commit
  'REFERENCES', // Commit|Change -> WorkItem
  'INCLUDES', // Change -> Commit
  'MERGED_AS', // Change -> Commit: the commit a merged change landed as (merge, squash or rebase commit)
  'BUILT', // Build -> Commit
  'PRODUCED', // Build -> Artifact
  'TESTED', // TestRun -> Artifact|Commit|Build
  'DEPLOYED_TO', // Artifact -> Environment (promotion / deployment)
  'CONTAINS', // Release -> Artifact, Artifact -> Artifact (composition)
  'AT_SITE', // Build|TestRun|Artifact -> Site
] as const;
export type EntityRelationType = (typeof ENTITY_RELATIONS)[number];

export interface EntityRelation {
  readonly from: EntityRef;
  readonly type: EntityRelationType;
  readonly to: EntityRef;
}

/** A typed link from this event to another event, by the target's event id. */
export interface EventLink {
  /** Upper-case link type, e.g. CAUSE, CONTEXT, ARTIFACT, FLOW_CONTEXT. */
  readonly type: string;
  readonly target: string;
  /** Set when the link breaks the format's legality rules: kept, but flagged with why. */
  readonly illegal?: string;
}

/** How an event relates to an entity it is about (`:ABOUT {role}` in the graph). */
export interface About {
  readonly entity: EntityRef;
  readonly role: string;
}

export interface TraceEvent {
  /** Globally unique, stable across redelivery: the same message always yields the same id. */
  readonly id: string;
  /** The format's own type name, e.g. `EiffelArtifactCreatedEvent`, `dev.cdevents.build.finished.0.2.0`, `push`. */
  readonly type: string;
  readonly stage: Stage;
  readonly phase?: Phase;
  readonly outcome?: Outcome;
  /** ISO-8601 UTC time the event says it happened (or, failing that, when it was received). */
  readonly time: string;
  readonly site: string;
  readonly source: string;
  readonly format: Format;
  /** Flat, bounded properties to store on the event node (no nested objects). */
  readonly props: Properties;
  readonly links: readonly EventLink[];
  readonly about: readonly About[];
  readonly entities: readonly Entity[];
  readonly relations: readonly EntityRelation[];
}

/** Why a message was not accepted; `field` names the offending path when there is one. */
export interface Rejection {
  readonly reason: string;
  readonly field?: string;
}

export type ParseResult =
  | { readonly ok: true; readonly events: readonly TraceEvent[]; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly rejection: Rejection };

export interface ParseOptions {
  /** Bodies larger than this are rejected (default 1 MiB). */
  readonly maxBytes?: number;
  /** Regular expressions (source text) that find work-item keys in messages and titles. */
  readonly workItemPatterns?: readonly string[];
  /** Repository aliases: normalised mirror URL -> normalised canonical URL. */
  readonly repositoryAliases?: Readonly<Record<string, string>>;
  /** Used when an event carries no time of its own. */
  readonly receivedAt?: Date;
  /**
   * What to do when an Eiffel event claims the current version of a known type but breaks its official
   * schema: `reject` (default) or accept it with a warning. Older and newer versions are never checked
   * beyond the envelope, and link problems never reject.
   */
  readonly eiffelSchema?: 'reject' | 'warn';
  /**
   * Which build produced an artifact, for repositories whose webhooks do not say (Nexus, Artifactory,
   * Verdaccio): the first rule whose `match` matches one of the artifact's keys relates the build
   * `buildKey(ci, job, number)` to it with `PRODUCED`, `$<name>` in ci/job/number being the match's named groups
   * (as in `String.prototype.replace`; `${…}` in config files is an environment variable).
   */
  readonly artifactBuilds?: readonly ArtifactBuildRule[];
  /**
   * Which CI build a JFrog build-info names, for Artifactory's `build` webhooks (they say only `build_name` and
   * `build_number`, not the CI server): the first rule whose `match` matches the build-info's key
   * `<platform host>/<build_name>#<build_number>` makes the event about the build `buildKey(ci, job, number)`
   * (the key the CI's own events give it) instead, `$<name>` being the match's named groups as in `artifactBuilds`.
   */
  readonly buildInfoBuilds?: readonly ArtifactBuildRule[];
}

/** A rule that names a CI build from another tool's key for it (see `artifactBuilds`, `buildInfoBuilds`). */
export interface ArtifactBuildRule {
  /**
   * A regular expression over the other tool's key: an artifact key (`purl:pkg:maven/com.acme/app@1.4.128`,
   * `path:raw/app/128/app.tgz`, `sha256:…`) or a JFrog build-info key (`artifacts.example.com/platform/app#128`).
   */
  readonly match: string;
  /** The CI instance, e.g. `ci.example.com/jenkins`. */
  readonly ci: string;
  /** The job, e.g. `platform/app` or `$<job>`; with `number`, the build is `<ci>/<job>#<number>`. */
  readonly job?: string;
  /** The build number, e.g. `$<number>`. */
  readonly number?: string;
  /**
   * Instead of job and number: the run id of a CI that keys its runs `<ci>/run/<id>` (GitHub Actions, GitLab
   * pipelines, CDEvents runs), e.g. `$<run>`.
   */
  readonly run?: string;
}
