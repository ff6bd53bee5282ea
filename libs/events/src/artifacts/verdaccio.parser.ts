/**
 * Verdaccio `notify` webhooks. Verdaccio renders a user-defined Handlebars template on `npm publish`, so
 * this parser reads the JSON template recommended in the README:
 * `{name, publishedPackage ("name@version"), publisher, versions: [{version, shasum, integrity, tarball, gitHead, repository}]}`.
 * The shorter form `{name, version, dist: {shasum, integrity, tarball}}` is read as well.
 *
 * - The artifact is keyed by its tarball's digest (the SRI `integrity`, usually sha512, then the sha1 `shasum`),
 *   with `pkg:npm/<name>@<version>` as an alias, so it meets the same package seen through a CDEvent or
 *   Eiffel purl; a version published from a git checkout names its commit (`gitHead`).
 * - The id is `x-not-delivery-id`, else a hash of the body; the time is `x-not-received-at`.
 * - Verdaccio notifies only on publish, so every event is a publication.
 */
import { EventBuilder, deliveryOrHashId, fallbackTime, repo, type ParseContext } from '../context.js';
import { digestFromIntegrity, hexDigest } from '../artifact-ids.js';
import { fail } from '../errors.js';
import { asObject, join, optArray, optObject, optString, reqString, type Json, type JsonObject } from '../json.js';
import { isFullSha, npmPurl } from '../keys.js';
import type { TraceEvent } from '../model.js';
import { addArtifact } from './artifact-event.js';

interface Published {
  version: string;
  shasum?: string;
  integrity?: string;
  tarball?: string;
  gitHead?: string;
  repository?: string;
}

export function parseVerdaccio(ctx: ParseContext, body: Json): TraceEvent[] {
  const o = asObject(body, 'body');
  const name = reqString(o, 'name', '');
  const published = optString(o, 'publishedPackage', '');
  const versionField = optString(o, 'version', '');
  // `publishedPackage` is `<name>@<version>`; the version is what follows the last @ after the first character.
  const fromPublished = published && published.lastIndexOf('@') > 0 ? published.slice(published.lastIndexOf('@') + 1) : undefined;
  const fromVersion =
    versionField && versionField.lastIndexOf('@') > 0 ? versionField.slice(versionField.lastIndexOf('@') + 1) : versionField;
  const versions: Published[] = optArray(o, 'versions', '').map((v, i) => {
    const vp = join('versions', i);
    const vo = asObject(v, vp);
    return readDist(vo, vp, reqString(vo, 'version', vp));
  });
  const version = fromPublished ?? fromVersion ?? versions[versions.length - 1]?.version;
  if (!version) fail('required string is missing (or publishedPackage "name@version", or versions[].version)', 'version');
  const dist = optObject(o, 'dist', '');
  const entry = versions.find((v) => v.version === version) ?? (dist ? readDist(dist, 'dist', version) : { version });

  const b = new EventBuilder();
  const digests = [digestFromIntegrity(entry.integrity), hexDigest('sha1', entry.shasum)].filter((d): d is string => d !== undefined);
  const purl = npmPurl(name, version);
  const artifact = addArtifact(ctx, b, { digests, purl }, { name, version, tarball: entry.tarball }, 'published');
  if (artifact && entry.gitHead && isFullSha(entry.gitHead) && entry.repository) {
    const commit = b.commit(ctx, repo(ctx, entry.repository), entry.gitHead);
    b.concerns(commit, 'source');
  }
  const publisher = o['publisher'];
  return [
    b.build(ctx, {
      id: deliveryOrHashId(ctx),
      type: 'verdaccio.published',
      stage: 'publication',
      phase: 'created',
      outcome: 'success',
      time: fallbackTime(ctx),
      props: {
        name,
        version,
        purl,
        tarball: entry.tarball,
        publisher:
          typeof publisher === 'string'
            ? publisher || undefined
            : publisher !== undefined && publisher !== null
              ? optString(asObject(publisher, 'publisher'), 'name', 'publisher')
              : undefined,
        gitHead: entry.gitHead,
      },
    }),
  ];
}

function readDist(o: JsonObject, path: string, version: string): Published {
  const dist = optObject(o, 'dist', path);
  const dp = dist ? join(path, 'dist') : path;
  const d = dist ?? o;
  const repository = o['repository'];
  return {
    version,
    shasum: optString(d, 'shasum', dp),
    integrity: optString(d, 'integrity', dp),
    tarball: optString(d, 'tarball', dp),
    gitHead: optString(o, 'gitHead', path),
    repository:
      typeof repository === 'string'
        ? repository || undefined
        : repository
          ? optString(asObject(repository, join(path, 'repository')), 'url', join(path, 'repository'))
          : undefined,
  };
}
