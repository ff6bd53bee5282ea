/** `@not/events`: message bytes + headers + routing key -> canonical trace events. Pure: no I/O, no Nest. */
export * from './model.js';
export { parseMessage, DEFAULT_MAX_BYTES } from './parse.js';
export { parseOrigin, siteRoutingKey, siteBindingKey, routingKeySegments, FORMAT_HEADER, type OriginResult } from './origin.js';
export {
  normalizeRepositoryUrl,
  repositoryKey,
  commitKey,
  parseCommitKey,
  changeKey,
  gerritChangeKey,
  buildKey,
  runKey,
  jenkinsBuildFromUrl,
  releaseKey,
  parseReleaseKey,
  environmentKey,
  artifactKey,
  digestKey,
  normalizePurl,
  gavFromPurl,
  purlFromGav,
  npmPurl,
  normalizeHost,
  isFullSha,
  isNullSha,
  type ArtifactIdentity,
  type JenkinsBuildRef,
} from './keys.js';
export { findWorkItems, DEFAULT_WORK_ITEM_PATTERNS, type WorkItemOptions } from './work-items.js';
export { validateEiffel, eiffelSchemaVersion, type SchemaIssue } from './eiffel/eiffel.validator.js';
export {
  eiffelLinkProblem,
  eiffelLinkTargetProblem,
  eiffelTypeRules,
  knownEiffelTypes,
  missingRequiredEiffelLinks,
  type EiffelLinkRule,
  type EiffelTypeRules,
} from './eiffel/eiffel-legality.js';
export { EIFFEL_RUN_INSTANCE } from './eiffel/eiffel.parser.js';
export { applyArtifactBuilds, checkArtifactBuildRule, buildByRules } from './provenance.js';
export { cdeventsEventId, globalContextId, parseCdeventsEventId } from './cdevents/cdevents-ids.js';
export { eiffelEmitter, realisticChanges, type RealisticOptions, type SiteEvent, type StreamEvent } from './synthetic-stream.js';
