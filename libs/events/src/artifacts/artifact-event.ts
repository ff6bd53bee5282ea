/** What the artifact-repository parsers share: one artifact entity per event, with its repository and site. */
import type { EventBuilder, ParseContext } from '../context.js';
import { artifactKey, type ArtifactIdentity } from '../keys.js';
import type { EntityRef, Phase, Properties } from '../model.js';

/** Adds the artifact (key per keys.ts: sha256, other digest, purl, GAV, path) and the site it was seen at. */
export function addArtifact(
  ctx: ParseContext,
  b: EventBuilder,
  id: ArtifactIdentity,
  props: Record<string, Properties[string] | undefined>,
  role: string,
): EntityRef | undefined {
  const key = artifactKey(id);
  if (!key) return undefined;
  const ref = b.entity('Artifact', key.key, { purl: id.purl, ...props }, key.aliases);
  b.concerns(ref, role);
  b.relate(ref, 'AT_SITE', b.entity('Site', ctx.origin.site, {}));
  return ref;
}

/** Created / updated / deleted as the repositories say it, in upper or lower case. */
export function actionPhase(action: string): Phase {
  const a = action.toLowerCase();
  if (a === 'created' || a === 'deployed' || a === 'pushed' || a === 'uploaded' || a === 'published') return 'created';
  if (a === 'deleted' || a === 'removed' || a === 'unpublished') return 'deleted';
  return 'modified';
}
