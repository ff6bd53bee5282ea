import {
  sameFields,
  type FederationUpstreamDefinition,
  type PolicyDefinition,
  type QueueInfo,
  type ShovelDefinition,
} from '@not/messaging';

/**
 * What reconciling a broker changes, decided apart from doing it: pure functions from what the config
 * wants and what the broker has to a list of actions, which {@link ReconcileService} applies through
 * the management API in order. Only names the relay owns (its prefix and site) are ever in a plan.
 */
export type ReconcileAction =
  | {
      readonly kind: 'put-shovel';
      readonly name: string;
      readonly def: ShovelDefinition;
      readonly verb: 'created' | 'replaced';
      readonly message: string;
    }
  | { readonly kind: 'delete-shovel'; readonly name: string; readonly message: string }
  | {
      readonly kind: 'put-upstream';
      readonly name: string;
      readonly def: FederationUpstreamDefinition;
      readonly verb: 'created' | 'replaced';
      readonly message: string;
    }
  | { readonly kind: 'delete-upstream'; readonly name: string; readonly message: string }
  | {
      readonly kind: 'put-policy';
      readonly name: string;
      readonly def: PolicyDefinition;
      readonly verb: 'created' | 'replaced';
      readonly message: string;
    }
  | { readonly kind: 'delete-policy'; readonly name: string; readonly message: string }
  | { readonly kind: 'create-queue'; readonly name: string; readonly queue: string; readonly message: string }
  /**
   * Retire an emptied central queue of a source no longer federated: its shovel first (what it holds
   * unacknowledged goes back to the queue), then the queue if empty (the broker checks, atomically);
   * if it is not empty after all, the shovel is put back to drain it.
   */
  | {
      readonly kind: 'retire-queue';
      readonly name: string;
      readonly queue: string;
      readonly shovel?: ShovelDefinition;
      readonly message: string;
    };

/** Site broker, shovel mode: a shovel per source, as the config defines it; the relay's other shovels go. */
export function planSiteShovels(
  wanted: ReadonlyMap<string, ShovelDefinition>,
  existing: ReadonlyMap<string, unknown>,
  ownPrefix: string,
): ReconcileAction[] {
  const plan: ReconcileAction[] = [];
  for (const [name, def] of wanted) {
    const current = existing.get(name);
    const route = `${def['dest-exchange']} (${def['dest-exchange-key'] ?? 'routing key kept'})`;
    if (current === undefined) plan.push({ kind: 'put-shovel', name, def, verb: 'created', message: `created shovel ${name} → ${route}` });
    else if (!sameFields(current, def, ['dest-exchange-key'])) {
      plan.push({
        kind: 'put-shovel',
        name,
        def,
        verb: 'replaced',
        message: `replaced shovel ${name}: its definition differed from the config`,
      });
    }
  }
  // Shovels of sources no longer configured, or now federated, go; their buffer queues stay (they may hold events).
  for (const name of existing.keys()) {
    if (name.startsWith(ownPrefix) && !wanted.has(name)) {
      plan.push({ kind: 'delete-shovel', name, message: `deleted shovel ${name}: its source is no longer configured in shovel mode` });
    }
  }
  return plan;
}

/**
 * Site broker: the buffer (and intake) queues' policies, put where missing or different. Never deleted:
 * the queues of a source no longer configured stay (they may hold events), and so do their limits.
 */
export function planBufferPolicies(
  wanted: ReadonlyMap<string, PolicyDefinition>,
  existing: ReadonlyMap<string, unknown>,
): ReconcileAction[] {
  const plan: ReconcileAction[] = [];
  for (const [name, def] of wanted) {
    const current = existing.get(name);
    if (current !== undefined && sameFields(current, def)) continue;
    const verb = current === undefined ? 'created' : 'replaced';
    const limit = `max-length ${String(def.definition['max-length'])}, overflow ${String(def.definition['overflow'])}`;
    plan.push({ kind: 'put-policy', name, def, verb, message: `${verb} policy ${name} (${limit}) for queues ${def.pattern}` });
  }
  return plan;
}

/**
 * The limit a buffer queue has in effect, from what the broker reports: its arguments (a queue declared
 * by an earlier relay keeps `x-max-length`/`x-overflow`) and the policy in effect. Where both set a
 * length the smaller applies (RabbitMQ's rule); every overflow setting must be `reject-publish`, or a
 * full buffer would drop its oldest messages. `problem` says what differs from the config and what to do;
 * nothing is judged before the broker reports the queue's policy (the configured limit is taken as in effect).
 */
export function bufferLimit(
  queue: string,
  info: Pick<QueueInfo, 'arguments' | 'policy' | 'effective_policy_definition'>,
  policy: string,
  maxLength: number,
): { limit: number | undefined; problem?: string } {
  // Not reported yet: the management API lists a new queue's policy with its first statistics, seconds
  // later. The queue was declared after its policy was put: the configured limit is the one in effect.
  if (info.effective_policy_definition === undefined) return { limit: maxLength };
  const args = info.arguments ?? {};
  const applied = info.effective_policy_definition ?? {};
  const lengths = [args['x-max-length'], applied['max-length']].filter((v): v is number => typeof v === 'number');
  const limit = lengths.length ? Math.min(...lengths) : undefined;
  const overflows = [args['x-overflow'], applied['overflow']].filter((v) => v !== undefined);
  const other =
    info.policy === policy
      ? ''
      : info.policy
        ? ` (policy ${info.policy} is in effect, not ${policy}: it has a higher priority)`
        : ` (no policy is in effect, not even ${policy})`;
  if (!overflows.length || overflows.some((o) => o !== 'reject-publish')) {
    const overflow = overflows.map(String).join('/') || 'unset';
    return {
      limit,
      problem: `buffer queue ${queue} has overflow ${overflow}${other}: it must be reject-publish, or a full buffer drops its oldest messages (docs/operations.md, "Buffer queue limits")`,
    };
  }
  if (limit !== maxLength) {
    const declared = args['x-max-length'];
    return {
      limit,
      problem:
        typeof declared === 'number' && declared < maxLength
          ? `buffer queue ${queue} was declared with x-max-length ${declared} by an earlier relay: the smaller of that and maxLength ${maxLength} applies (docs/operations.md, "Buffer queue limits")`
          : `buffer queue ${queue} has limit ${limit ?? 'none'} where the config says ${maxLength}${other}`,
    };
  }
  return { limit };
}

/** One federated source as the central plan needs it. */
export interface FederatedLink {
  /** The link's name (upstream, policy and shovel): `not-relay-<site>-<source>`. */
  readonly name: string;
  /** The buffer queue's name, the same on the site and on central. */
  readonly queue: string;
  readonly broker: string;
  readonly upstream: FederationUpstreamDefinition;
  readonly policy: PolicyDefinition;
  readonly shovel: ShovelDefinition;
  /** Its site buffer queue has the wrong type: keep what exists, create nothing. */
  readonly conflict: boolean;
}

export interface CentralState {
  readonly upstreams: ReadonlyMap<string, unknown>;
  readonly policies: ReadonlyMap<string, unknown>;
  readonly shovels: ReadonlyMap<string, ShovelDefinition | unknown>;
  readonly queues: ReadonlyMap<string, Pick<QueueInfo, 'messages'>>;
}

/** Names the relay owns on central: `not-relay-<site>-` for links, `not-relay.<site>.` for queues. */
export interface CentralNames {
  readonly ownName: string;
  readonly ownQueue: string;
  /** The link name of a central queue name (`not-relay.<site>.<source>` → `not-relay-<site>-<source>`). */
  readonly linkOfQueue: (queue: string) => string;
  readonly exchange: string;
}

/**
 * Central broker, federation mode: per federated source an upstream, a policy, a transit queue and a
 * shovel to the central exchange; what belongs to sources no longer federated goes — policy and
 * upstream at once, queue and shovel once the queue is empty. Also the problems that stop a
 * retirement (a queue that still holds messages), keyed for logging once.
 */
export function planCentral(
  links: readonly FederatedLink[],
  have: CentralState,
  names: CentralNames,
): { actions: ReconcileAction[]; waiting: Map<string, string> } {
  const actions: ReconcileAction[] = [];
  const waiting = new Map<string, string>();
  const wanted = new Set(links.map((l) => l.name));
  for (const l of links) {
    if (l.conflict) continue;
    const verb = (m: ReadonlyMap<string, unknown>): 'created' | 'replaced' => (m.has(l.name) ? 'replaced' : 'created');
    if (!have.upstreams.has(l.name) || !sameFields(have.upstreams.get(l.name), l.upstream)) {
      const v = verb(have.upstreams);
      actions.push({
        kind: 'put-upstream',
        name: l.name,
        def: l.upstream,
        verb: v,
        message: `${v} federation upstream ${l.name} on central → ${l.broker}/${l.queue}`,
      });
    }
    if (!have.policies.has(l.name) || !sameFields(have.policies.get(l.name), l.policy)) {
      const v = verb(have.policies);
      actions.push({
        kind: 'put-policy',
        name: l.name,
        def: l.policy,
        verb: v,
        message: `${v} federation policy ${l.name} on central for queue ${l.queue}`,
      });
    }
    if (!have.queues.has(l.queue))
      actions.push({ kind: 'create-queue', name: l.name, queue: l.queue, message: `created federated queue ${l.queue} on central` });
    if (!have.shovels.has(l.name) || !sameFields(have.shovels.get(l.name), l.shovel, ['dest-exchange-key'])) {
      const v = verb(have.shovels);
      actions.push({
        kind: 'put-shovel',
        name: l.name,
        def: l.shovel,
        verb: v,
        message: `${v} central shovel ${l.name} → ${l.shovel['dest-exchange']} (${l.shovel['dest-exchange-key']})`,
      });
    }
  }
  // Leftovers of sources no longer federated: stop pulling first ...
  for (const name of have.policies.keys()) {
    if (name.startsWith(names.ownName) && !wanted.has(name)) {
      actions.push({
        kind: 'delete-policy',
        name,
        message: `deleted federation policy ${name} on central: its source is no longer federated`,
      });
    }
  }
  for (const name of have.upstreams.keys()) {
    if (name.startsWith(names.ownName) && !wanted.has(name)) {
      actions.push({
        kind: 'delete-upstream',
        name,
        message: `deleted federation upstream ${name} on central: its source is no longer federated`,
      });
    }
  }
  // ... then, on a later pass (no policy left), once the shovel has emptied the queue, retire both.
  const retiring = new Set<string>();
  for (const [queue, info] of have.queues) {
    if (!queue.startsWith(names.ownQueue)) continue;
    const name = names.linkOfQueue(queue);
    if (wanted.has(name) || have.policies.has(name)) continue;
    const shovel = have.shovels.get(name) as ShovelDefinition | undefined;
    if ((info.messages ?? 0) > 0) {
      waiting.set(
        `${name}:drain`,
        shovel
          ? `central queue ${queue} still holds ${info.messages} messages; its shovel ${name} stays until it is empty`
          : `central queue ${queue} still holds ${info.messages} messages and has no shovel: move them to ${names.exchange} by hand (or configure the source again), then the relay deletes it`,
      );
      continue;
    }
    retiring.add(name);
    actions.push({
      kind: 'retire-queue',
      name,
      queue,
      ...(shovel ? { shovel } : {}),
      message: `deleted federated queue ${queue}${shovel ? ` and its shovel ${name}` : ''} on central: empty, and its source is no longer federated`,
    });
  }
  // A shovel left without its queue.
  for (const name of have.shovels.keys()) {
    if (!name.startsWith(names.ownName) || wanted.has(name) || retiring.has(name)) continue;
    const queue = names.ownQueue + name.slice(names.ownName.length);
    if (!have.queues.has(queue))
      actions.push({ kind: 'delete-shovel', name, message: `deleted central shovel ${name}: its source is no longer federated` });
  }
  return { actions, waiting };
}
