/**
 * JFrog Artifactory (JFrog Platform) webhooks: `{domain, event_type, data, subscription_key, jpd_origin, source}`.
 *
 * - `artifact` deployed / deleted / moved / copied, `docker` pushed / deleted / promoted: an artifact keyed by
 *   its `sha256` (else purl from the path's Maven or npm layout, else `path:<repo>/<path>`).
 *   Deploys and pushes are publications, moves and copies between repositories are promotions, deletions
 *   have the `deleted` phase.
 * - `build` uploaded / deleted / promoted: the build info of `<jpd_origin host>/<build_name>#<build_number>`, or the
 *   CI build a `buildInfoBuilds` rule says that build-info describes (JFrog does not name the CI server).
 * - `release_bundle` / `release_bundle_v2` events: a Release `<name>@<version>`.
 * - Other domains and event types (`artifact_property`, `distribution`, a newer domain) are kept as generic events
 *   (`other`, `unmodelled: true`, counted per kind) with the artifact, build-info or release bundle their `data`
 *   still names. `data` may be an object or (newer event service) a JSON string.
 * - The id is `x-not-delivery-id`, else the body's `id`, else a hash of the body. Artifactory sends no
 *   event time except a build's start, so the time is `x-not-received-at` (set it in the relay).
 */
import { EventBuilder, fallbackTime, hashId, header, type ParseContext, type Props } from '../context.js';
import { coordinatesFromPath, hexDigest } from '../artifact-ids.js';
import { fail } from '../errors.js';
import { asObject, isObject, optArray, optId, optNumber, optString, reqId, reqString, type Json, type JsonObject } from '../json.js';
import { buildKey, normalizeHost, releaseKey } from '../keys.js';
import type { Outcome, Phase, Stage, TraceEvent } from '../model.js';
import { buildByRules } from '../provenance.js';
import { isoFromText } from '../time.js';
import { actionPhase, addArtifact } from './artifact-event.js';

function dataOf(o: JsonObject): JsonObject {
  const d = o['data'];
  if (typeof d === 'string') {
    try {
      return asObject(JSON.parse(d) as Json, 'data');
    } catch {
      fail('expected an object (or its JSON text)', 'data');
    }
  }
  if (d === undefined || d === null) fail('required object is missing', 'data');
  return asObject(d, 'data');
}

export function parseArtifactory(ctx: ParseContext, body: Json): TraceEvent[] {
  const o = asObject(body, 'body');
  const domain = reqString(o, 'domain', '');
  const eventType = reqString(o, 'event_type', '');
  const data = dataOf(o);
  const delivery = header(ctx, 'x-not-delivery-id') ?? optId(o, 'id', '');
  const id = delivery ? `artifactory:${delivery.trim()}` : hashId('artifactory', ctx.body);
  const origin = optString(o, 'jpd_origin', '');
  const b = new EventBuilder();
  let stage: Stage = 'other';
  let phase: Phase | undefined;
  let outcome: Outcome | undefined;
  const time = fallbackTime(ctx);
  const props: Props = {
    domain,
    eventType,
    origin,
    source: optString(o, 'source', ''),
  };

  switch (domain) {
    case 'artifact':
    case 'docker': {
      const repoKey = reqString(data, 'repo_key', 'data');
      const path = reqString(data, 'path', 'data');
      const sha256 = hexDigest('sha256', optString(data, 'sha256', 'data'));
      const image = optString(data, 'image_name', 'data');
      const tag = optString(data, 'tag', 'data');
      const coords = domain === 'docker' ? undefined : coordinatesFromPath(path);
      const purl = image && tag ? `pkg:docker/${image}@${encodeURIComponent(tag)}` : coords?.purl;
      const from = optString(data, 'source_repo_path', 'data');
      const to = optString(data, 'target_repo_path', 'data');
      const platforms = optArray(data, 'platforms', 'data').map((p, i) => {
        const po = asObject(p, `data.platforms[${i}]`);
        return [optString(po, 'os', `data.platforms[${i}]`), optString(po, 'architecture', `data.platforms[${i}]`)]
          .filter(Boolean)
          .join('/');
      });
      addArtifact(
        ctx,
        b,
        { digests: sha256 ? [sha256] : [], purl, gav: coords?.gav, path: `${repoKey}/${path}` },
        { name: optString(data, 'name', 'data'), size: optNumber(data, 'size', 'data'), repository: repoKey, image, tag },
        eventType,
      );
      Object.assign(props, {
        repository: repoKey,
        path,
        image,
        tag,
        fromRepository: from,
        toRepository: to,
        platforms: platforms.length ? platforms : undefined,
      });
      if (eventType === 'moved' || eventType === 'copied' || eventType === 'promoted') {
        stage = 'promotion';
        phase = 'finished';
        outcome = 'success';
      } else {
        stage = 'publication';
        phase = actionPhase(eventType);
        outcome = phase === 'created' ? 'success' : undefined;
      }
      break;
    }
    case 'build': {
      const name = reqString(data, 'build_name', 'data');
      const number = reqId(data, 'build_number', 'data');
      const started = optString(data, 'build_started', 'data');
      const instance = normalizeHost(origin ?? ctx.origin.source);
      const buildInfo = buildKey(instance, name, number);
      const startedAt = started ? isoFromText(started, 'data.build_started') : undefined;
      // The CI build a rule says this build-info describes (JFrog names no CI server): the event is about that build.
      const ci = ctx.options.buildInfoBuilds?.length ? buildByRules(ctx.options.buildInfoBuilds, [buildInfo]) : undefined;
      b.concerns(
        ci
          ? b.entity('Build', ci, { buildInfo, buildInfoStartedAt: startedAt })
          : b.entity('Build', buildInfo, { job: name, number, startedAt }),
        eventType,
      );
      Object.assign(props, {
        buildName: name,
        buildNumber: number,
        buildRepository: optString(data, 'build_repo', 'data'),
        buildInfo,
        ciBuild: ci,
      });
      stage = eventType === 'promoted' ? 'promotion' : 'publication';
      phase = eventType === 'promoted' ? 'finished' : actionPhase(eventType);
      outcome = phase === 'deleted' ? undefined : 'success';
      break;
    }
    case 'release_bundle':
    case 'release_bundle_v2': {
      const name = reqString(data, 'release_bundle_name', 'data');
      const version = reqId(data, 'release_bundle_version', 'data');
      const environment = optString(data, 'environment', 'data');
      b.concerns(b.entity('Release', releaseKey(name, version), { product: name, version }), eventType);
      if (environment) b.concerns(b.entity('Environment', environment, { name: environment }), 'environment');
      Object.assign(props, { releaseBundle: name, version, environment });
      const failed = /failed/.test(eventType);
      stage = /promot|distribut/.test(eventType) ? 'promotion' : 'release';
      phase = /deleted|delete_completed/.test(eventType)
        ? 'deleted'
        : /started/.test(eventType)
          ? 'started'
          : /completed|signed|created/.test(eventType)
            ? 'finished'
            : 'modified';
      outcome = failed ? 'failure' : phase === 'finished' ? 'success' : undefined;
      break;
    }
    default:
      if (!isObject(data)) fail('expected an object', 'data');
      unmodelledIdentities(ctx, b, data, origin, props);
  }
  if (!MODELLED[domain]?.test(eventType)) {
    // A domain or event type the project does not model: a generic event with the identities found above, counted by kind.
    props['unmodelled'] = true;
    return [b.build(ctx, { id, type: `${domain}.${eventType}`, stage: 'other', time, props })];
  }
  return [b.build(ctx, { id, type: `${domain}.${eventType}`, stage, phase, outcome, time, props })];
}

/** The event types of each domain the project models (JFrog's "Event Types" pages); others are kept as generic events. */
const MODELLED: Readonly<Record<string, RegExp>> = {
  artifact: /^(?:deployed|deleted|moved|copied|cached)$/,
  docker: /^(?:pushed|deleted|promoted)$/,
  build: /^(?:uploaded|deleted|promoted)$/,
  release_bundle: /^(?:created|signed|deleted)$/,
  release_bundle_v2: /./,
};

/**
 * The identities an event of a domain the project does not model (`artifact_property`, `artifactory_release_bundle`,
 * `distribution`, a newer domain) still names in `data`: the artifact (`repo_key` + `path`, `sha256`), the
 * build-info (`build_name` + `build_number`), the release bundle (`release_bundle_name` + `release_bundle_version`).
 * Read leniently: a field of another type is skipped.
 */
function unmodelledIdentities(ctx: ParseContext, b: EventBuilder, data: JsonObject, origin: string | undefined, props: Props): void {
  const text = (k: string): string | undefined => {
    const v = data[k];
    return typeof v === 'string' && v.trim() ? v : typeof v === 'number' ? String(v) : undefined;
  };
  const repoKey = text('repo_key');
  const path = text('path');
  if (repoKey && path) {
    const sha256 = hexDigest('sha256', text('sha256'));
    const coords = coordinatesFromPath(path);
    addArtifact(
      ctx,
      b,
      { digests: sha256 ? [sha256] : [], purl: coords?.purl, gav: coords?.gav, path: `${repoKey}/${path}` },
      { name: text('name'), repository: repoKey },
      'mentioned',
    );
    Object.assign(props, { repository: repoKey, path, propertyKey: text('property_key') });
  }
  const buildName = text('build_name');
  const buildNumber = text('build_number');
  if (buildName && buildNumber) {
    const buildInfo = buildKey(normalizeHost(origin ?? ctx.origin.source), buildName, buildNumber);
    b.concerns(b.entity('Build', buildInfo, { job: buildName, number: buildNumber }), 'mentioned');
    Object.assign(props, { buildName, buildNumber, buildInfo });
  }
  const bundle = text('release_bundle_name');
  const bundleVersion = text('release_bundle_version');
  if (bundle && bundleVersion) {
    b.concerns(b.entity('Release', releaseKey(bundle, bundleVersion), { product: bundle, version: bundleVersion }), 'mentioned');
    Object.assign(props, { releaseBundle: bundle, version: bundleVersion });
  }
}
