/**
 * Nexus Repository 3 webhooks: repository asset and component events (`X-Nexus-Webhook-Id`
 * `rm:repository:asset` / `rm:repository:component`), action CREATED, UPDATED or DELETED. Other webhook
 * kinds (repository configuration, audit) are kept as generic events.
 *
 * - The webhook kind is read from `x-not-event`, then `X-Nexus-Webhook-Id`, else from the body's shape.
 * - The id is the delivery id (`x-not-delivery-id`, `X-Nexus-Webhook-Delivery`), else a hash of the body.
 * - Nexus sends no checksums, so the artifact is keyed by purl (a component's format, group, name and
 *   version; a Maven or npm asset's path), else by `path:<repository>/<asset name>`; the path is an alias.
 */
import { EventBuilder, deliveryOrHashId, fallbackTime, header, type ParseContext } from '../context.js';
import { coordinatesFromPath, purlFromComponent } from '../artifact-ids.js';
import { asObject, optString, reqObject, reqString, type Json, type JsonObject } from '../json.js';
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
  return [
    new EventBuilder().build(ctx, {
      id,
      type: `nexus.${hook ?? 'unknown'}`,
      stage: 'other',
      time,
      props: { initiator: optString(o, 'initiator', '') },
    }),
  ];
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
