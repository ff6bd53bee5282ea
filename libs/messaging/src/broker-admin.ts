import { Histogram, type Registry } from 'prom-client';

/** Connection details for one broker's management HTTP API. */
export interface ManagementEndpoint {
  readonly url: string;
  readonly user: string;
  readonly password: string;
}

export class ManagementApiError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    detail: string,
  ) {
    super(`management API ${method} ${path} answered ${status}: ${detail}`);
    this.name = 'ManagementApiError';
  }
}

/** The shovel definition fields the relay sets (see RabbitMQ's dynamic shovel docs). */
export interface ShovelDefinition {
  readonly 'src-protocol': 'amqp091';
  readonly 'src-uri': string | readonly string[];
  readonly 'src-queue': string;
  readonly 'dest-protocol': 'amqp091';
  readonly 'dest-uri': string | readonly string[];
  readonly 'dest-exchange': string;
  readonly 'dest-exchange-key'?: string;
  readonly 'ack-mode': 'on-confirm' | 'on-publish' | 'no-ack';
  readonly 'dest-add-forward-headers': boolean;
  readonly 'dest-add-timestamp-header': boolean;
  readonly 'reconnect-delay': number;
  readonly 'src-prefetch-count'?: number;
}

export interface ShovelStatus {
  readonly name: string;
  readonly vhost: string;
  readonly type: 'dynamic' | 'static';
  readonly state: 'starting' | 'running' | 'terminated' | string;
  readonly reason?: string;
}

/** A federation upstream's fields as the relay sets them (see RabbitMQ's federation reference). */
export interface FederationUpstreamDefinition {
  readonly uri: string | readonly string[];
  /** Queue federation: the upstream queue to consume from. */
  readonly queue?: string;
  /** Exchange federation: the upstream exchange. */
  readonly exchange?: string;
  readonly 'ack-mode': 'on-confirm' | 'on-publish' | 'no-ack';
  readonly 'prefetch-count'?: number;
  readonly 'reconnect-delay': number;
  readonly 'trust-user-id'?: boolean;
}

export interface PolicyDefinition {
  readonly pattern: string;
  readonly 'apply-to': 'queues' | 'exchanges' | 'all';
  readonly priority: number;
  readonly definition: Record<string, unknown>;
}

/** One running (or failing) federation link, from the federation management plugin. */
export interface FederationLinkStatus {
  readonly upstream: string;
  readonly vhost: string;
  readonly type: 'queue' | 'exchange';
  readonly queue?: string;
  readonly exchange?: string;
  readonly status: 'starting' | 'running' | 'error' | 'shutdown' | string;
  readonly error?: string;
}

export interface QueueInfo {
  readonly name: string;
  readonly messages?: number;
  readonly type?: string;
  /** Cumulative counters since the queue started on its node (`ack`: deliveries acknowledged by consumers). */
  readonly message_stats?: { readonly ack?: number };
  /** The optional arguments it was declared with (`x-max-length`, …); fixed for the queue's life. */
  readonly arguments?: Record<string, unknown>;
  /** The policy in effect (only one applies to a queue: the matching one of highest priority). */
  readonly policy?: string;
  /** That policy's definition (`max-length`, `overflow`, …), as the broker applies it. */
  readonly effective_policy_definition?: Record<string, unknown>;
}

/**
 * The RabbitMQ management HTTP API, as the project uses it: shovels, federation
 * upstreams and policies, users, permissions, queues. Holds no business rules; every call is timed.
 */
export class BrokerAdmin {
  private static histogram?: Histogram<'method' | 'result'>;

  constructor(
    private readonly endpoint: ManagementEndpoint,
    private readonly timeoutMs = 5000,
  ) {}

  /** Times every call into `traces_<app>_management_api_duration_seconds`. */
  static instrument(registry: Registry, app: string): void {
    BrokerAdmin.histogram ??= new Histogram({
      name: `traces_${app}_management_api_duration_seconds`,
      help: 'RabbitMQ management API call duration',
      labelNames: ['method', 'result'],
      registers: [registry],
    });
  }

  get url(): string {
    return this.endpoint.url;
  }

  overview(): Promise<{ rabbitmq_version: string; node: string }> {
    return this.request('GET', '/api/overview');
  }

  async listShovelParameters(vhost = '/'): Promise<Array<{ name: string; value: ShovelDefinition }>> {
    return this.request('GET', `/api/parameters/shovel/${enc(vhost)}`);
  }

  putShovel(name: string, value: ShovelDefinition, vhost = '/'): Promise<void> {
    return this.request('PUT', `/api/parameters/shovel/${enc(vhost)}/${enc(name)}`, { value });
  }

  deleteShovel(name: string, vhost = '/'): Promise<void> {
    return this.request('DELETE', `/api/parameters/shovel/${enc(vhost)}/${enc(name)}`);
  }

  /** Restarts a dynamic shovel (RabbitMQ 3.7+). */
  restartShovel(name: string, vhost = '/'): Promise<void> {
    return this.request('DELETE', `/api/shovels/vhost/${enc(vhost)}/${enc(name)}/restart`);
  }

  shovelStatus(vhost = '/'): Promise<ShovelStatus[]> {
    return this.request('GET', `/api/shovels/${enc(vhost)}`);
  }

  queue(name: string, vhost = '/'): Promise<QueueInfo> {
    return this.request('GET', `/api/queues/${enc(vhost)}/${enc(name)}`);
  }

  listFederationUpstreams(vhost = '/'): Promise<Array<{ name: string; value: FederationUpstreamDefinition }>> {
    return this.request('GET', `/api/parameters/federation-upstream/${enc(vhost)}`);
  }

  putFederationUpstream(name: string, value: FederationUpstreamDefinition, vhost = '/'): Promise<void> {
    return this.request('PUT', `/api/parameters/federation-upstream/${enc(vhost)}/${enc(name)}`, { value });
  }

  deleteFederationUpstream(name: string, vhost = '/'): Promise<void> {
    return this.request('DELETE', `/api/parameters/federation-upstream/${enc(vhost)}/${enc(name)}`);
  }

  /** Status of every federation link in a vhost (needs the rabbitmq_federation_management plugin). */
  federationLinks(vhost = '/'): Promise<FederationLinkStatus[]> {
    return this.request('GET', `/api/federation-links/${enc(vhost)}`);
  }

  listPolicies(vhost = '/'): Promise<Array<PolicyDefinition & { name: string }>> {
    return this.request('GET', `/api/policies/${enc(vhost)}`);
  }

  putPolicy(name: string, policy: PolicyDefinition, vhost = '/'): Promise<void> {
    return this.request('PUT', `/api/policies/${enc(vhost)}/${enc(name)}`, policy);
  }

  deletePolicy(name: string, vhost = '/'): Promise<void> {
    return this.request('DELETE', `/api/policies/${enc(vhost)}/${enc(name)}`);
  }

  /** Declares a queue (idempotent when the arguments match). */
  putQueue(name: string, spec: { durable: boolean; arguments: Record<string, unknown> }, vhost = '/'): Promise<void> {
    return this.request('PUT', `/api/queues/${enc(vhost)}/${enc(name)}`, { auto_delete: false, ...spec });
  }

  /** Deletes a queue only if it holds no message; the broker refuses (400) otherwise. */
  deleteQueueIfEmpty(name: string, vhost = '/'): Promise<void> {
    return this.request('DELETE', `/api/queues/${enc(vhost)}/${enc(name)}?if-empty=true`);
  }

  listQueues(vhost = '/'): Promise<QueueInfo[]> {
    return this.request('GET', `/api/queues/${enc(vhost)}?columns=name,messages,type`);
  }

  putUser(name: string, password: string, tags = ''): Promise<void> {
    return this.request('PUT', `/api/users/${enc(name)}`, { password, tags });
  }

  putPermissions(user: string, perms: { configure: string; write: string; read: string }, vhost = '/'): Promise<void> {
    return this.request('PUT', `/api/permissions/${enc(vhost)}/${enc(user)}`, perms);
  }

  putTopicPermissions(user: string, perms: { exchange: string; write: string; read: string }, vhost = '/'): Promise<void> {
    return this.request('PUT', `/api/topic-permissions/${enc(vhost)}/${enc(user)}`, perms);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const end = BrokerAdmin.histogram?.startTimer({ method });
    const auth = Buffer.from(`${this.endpoint.user}:${this.endpoint.password}`).toString('base64');
    let res: Response;
    try {
      res = await fetch(new URL(path, this.endpoint.url), {
        method,
        headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      end?.({ result: 'unreachable' });
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new Error(`management API at ${this.endpoint.url} is unreachable (${cause})`, { cause: err });
    }
    end?.({ result: res.ok ? 'ok' : String(res.status) });
    const text = await res.text();
    if (!res.ok) {
      const detail = res.status === 401 ? 'credentials rejected' : safeReason(text);
      throw new ManagementApiError(res.status, method, path, detail);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function safeReason(text: string): string {
  try {
    const j = JSON.parse(text) as { reason?: unknown; error?: unknown };
    return String(j.reason ?? j.error ?? text);
  } catch {
    return text.slice(0, 200);
  }
}

/** True when every field we set has the wanted value in what the broker holds (`also`: fields whose absence matters). */
export function sameFields(actual: unknown, wanted: object, also: readonly string[] = []): boolean {
  const x = (actual ?? {}) as Record<string, unknown>;
  const w = wanted as Record<string, unknown>;
  const keys = new Set([...Object.keys(w), ...also]);
  return [...keys].every((k) => stable(x[k]) === stable(w[k]));
}

/** JSON with object keys sorted: the broker may list a definition's keys in another order. */
function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}
