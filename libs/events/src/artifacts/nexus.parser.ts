/**
 * Nexus Repository 3 webhooks: repository asset and component events (`X-Nexus-Webhook-Id`
 * `rm:repository:asset` / `rm:repository:component`), action CREATED, UPDATED or DELETED. Other webhook
 * kinds (repository configuration `rm:repository`, `rm:audit`) are kept as generic events marked `unmodelled`,
 * with the repository and the asset or component they still name.
 *
 * - The webhook kind is read from `x-not-event`, then `X-Nexus-Webhook-Id`, else from the body's shape.
 * - The id is the delivery id (`x-not-delivery-id`, `X-Nexus-Webhook-Delivery`), else a hash of the body.
 * - Nexus sends no checksums, so the artifact is keyed by purl (a component's format, group, name and
 *   version; a Maven or npm asset's path), else by `path:<repository>/<asset name>`; the path is an alias.
 */
import { EventBuilder, deliveryOrHashId, fallbackTime, header, type ParseContext } from '../context.js';
import { coordinatesFromPath, purlFromComponent } from '../artifact-ids.js';
import { asObject, isObject, optString, reqObject, reqString, type Json, type JsonObject } from '../json.js';
import type { TraceEvent } from '../model.js';
import { isoFromText } from '../time.js';
import { actionPhase, addArtifact } from './artifact-event.js';

export function parseNexus(ctx: ParseContext, body: Json): TraceEvent[] {
  const o = asObject(body, 'body');
  const hook =
    header(ctx, 'x-not-event') ??
    header(ctx, 'x-nexus-webhook-id') ??
    (o['asset'] !== undefined ? 'rm:repository:asset' : o['component'] !== undefined ? 'rm:repository:component' : undefined);
  const id = deliveryOrHashId(ctx, 'x-nexus-webhook-delivery');
  const stamp = optString(o, 'timestamp', '');
  const time = stamp ? isoFromText(stamp, 'timestamp') : fallbackTime(ctx);
  if (hook === 'rm:repository:asset' || hook === 'rm:repository:component') return [repositoryEvent(ctx, o, hook, id, time)];
  reqString(o, 'nodeId', '');
  return [unmodelled(ctx, o, hook ?? 'unknown', id, time)];
}

/**
 * A webhook kind the project does not model (`rm:repository` configuration changes, `audit`, a newer one): a
 * generic event (`other`, `unmodelled: true`, counted per kind) with the repository it names
 * (`repositoryName`, `repository.name`, an audit's `repository.name` attribute) and an asset or component in it
 * (`asset` / `component` with `format` and `name`, or the `attributes.name` of an audit of an asset or component),
 * keyed as above.
 */
function unmodelled(ctx: ParseContext, o: JsonObject, hook: string, id: string, time: string): TraceEvent {
  const text = (x: JsonObject | undefined, k: string): string | undefined => {
    const v = x?.[k];
    return typeof v === 'string' && v.trim() ? v : undefined;
  };
  const obj = (x: JsonObject | undefined, k: string): JsonObject | undefined => {
    const v = x?.[k];
    return isObject(v) ? v : undefined;
  };
  const audit = obj(o, 'audit');
  const attributes = obj(audit, 'attributes');
  const repository = text(o, 'repositoryName') ?? text(obj(o, 'repository'), 'name') ?? text(attributes, 'repository.name');
  const item = obj(o, 'asset') ?? obj(o, 'component');
  const format = text(item, 'format') ?? text(obj(o, 'repository'), 'format') ?? text(attributes, 'format');
  const auditOfContent = /^repository\.(?:asset|component)$/.test(text(audit, 'domain') ?? '');
  const name = text(item, 'name') ?? (auditOfContent ? text(attributes, 'name') : undefined);
  const b = new EventBuilder();
  if (repository && name) {
    const coords = coordinatesFromPath(name, format);
    addArtifact(
      ctx,
      b,
      { purl: coords?.purl, gav: coords?.gav, path: `${repository}/${name.replace(/^\/+/, '')}` },
      { repository, format, name },
      'mentioned',
    );
  }
  return b.build(ctx, {
    id,
    type: `nexus.${hook}`,
    stage: 'other',
    time,
    props: {
      unmodelled: true,
      action: text(o, 'action'),
      repository,
      format,
      name,
      auditDomain: text(audit, 'domain'),
      auditType: text(audit, 'type'),
      initiator: optString(o, 'initiator', ''),
      nodeId: optString(o, 'nodeId', ''),
    },
  });
}

function repositoryEvent(ctx: ParseContext, o: JsonObject, hook: string, id: string, time: string): TraceEvent {
  const repository = reqString(o, 'repositoryName', '');
  const action = reqString(o, 'action', '').toUpperCase();
  const b = new EventBuilder();
  const kind = hook === 'rm:repository:asset' ? 'asset' : 'component';
  const x = reqObject(o, kind, '');
  const format = reqString(x, 'format', kind);
  const name = reqString(x, 'name', kind);
  const props = {
    repository,
    format,
    nexusId: optString(x, kind === 'asset' ? 'assetId' : 'componentId', kind) ?? optString(x, 'id', kind),
  };
  if (kind === 'asset') {
    const coords = coordinatesFromPath(name, format);
    addArtifact(
      ctx,
      b,
      { purl: coords?.purl, gav: coords?.gav, path: `${repository}/${name.replace(/^\/+/, '')}` },
      { ...props, name },
      action.toLowerCase(),
    );
  } else {
    const group = optString(x, 'group', kind);
    const version = optString(x, 'version', kind);
    const purl = purlFromComponent(format, group, name, version);
    const path = `${repository}/${[group, name, version].filter(Boolean).join('/')}`;
    addArtifact(ctx, b, { purl, path }, { ...props, name, group, version }, action.toLowerCase());
  }
  return b.build(ctx, {
    id,
    type: `nexus.${kind}.${action.toLowerCase()}`,
    stage: 'publication',
    phase: actionPhase(action),
    outcome: action === 'DELETED' ? undefined : 'success',
    time,
    props: { action, repository, format, name, initiator: optString(o, 'initiator', ''), nodeId: optString(o, 'nodeId', '') },
  });
}
