import { amqpUrl, httpSchema, identifier, managementSchema } from '@not/config';
import { FORMATS } from '@not/events';
import { z } from 'zod';

const brokerSchema = z.strictObject({
  name: identifier,
  /** AMQP URL of the tool broker (the relay declares buffer queues through it; shovels read from it). */
  url: amqpUrl,
  /** Federation mode: the AMQP URL the central broker pulls from (when central reaches this broker by another name); default `url`. */
  federationUrl: amqpUrl.optional(),
  management: managementSchema,
});

const sourceSchema = z.strictObject({
  name: identifier,
  broker: identifier,
  format: z.enum(FORMATS),
  exchange: z.string().min(1),
  exchangeType: z.enum(['topic', 'direct', 'fanout', 'headers']).default('topic'),
  bindingKeys: z.array(z.string()).min(1).default(['#']),
  mode: z.enum(['shovel', 'federation']).default('shovel'),
  /** Buffer queue length limit; beyond it the broker refuses new messages (reject-publish), never drops. */
  maxLength: z.number().int().min(1).default(1_000_000),
  /**
   * Eiffel only: keep the routing key each tool published with, for the central Eiffel bus (an intake
   * queue in front of the buffer records it; docs/relay.md, "Keeping the tool's routing key").
   */
  keepRoutingKey: z.boolean().default(false),
});

export const WEBHOOK_KINDS = [
  'github',
  'gitlab',
  'gitea',
  'nexus',
  'artifactory',
  'verdaccio',
  'jenkins',
  'git-hook',
  'generic',
  'cloudevents',
  'jira',
] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];

const webhooksSchema = z.strictObject({
  /** The site broker the webhooks are published to (a name from brokers[]). */
  broker: identifier,
  /** The relay's own exchange on that broker; a buffer queue and shovel carry it to central like any source. */
  exchange: z.string().min(1).default('not-relay.webhooks'),
  maxBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Seconds to wait for the broker's confirm before answering 503. */
  confirmTimeoutSeconds: z.number().min(1).default(10),
  /** Per endpoint: the shared secret or token; when set, requests must prove it (else 401). */
  secrets: z.partialRecord(z.enum(WEBHOOK_KINDS), z.string().min(1)).default({}),
});

export const relayConfigSchema = z
  .strictObject({
    site: identifier,
    central: z.strictObject({
      /** One or more URIs, tried in order (failover); the shovel publishes with these credentials. */
      urls: z.array(amqpUrl).min(1),
      exchange: z.string().min(1).default('not.central'),
      /**
       * The central broker's management API: needed by sources in federation mode, whose
       * federation upstream, policy, queue and shovel the relay keeps on the central broker.
       */
      management: managementSchema.optional(),
      /** For amqps:// URLs: the CA that signed central's certificate, and the name to check in it. */
      tls: z
        .strictObject({
          /** PEM file; the path must also exist on each site broker's host, whose shovels read it. */
          caFile: z.string().min(1),
          serverName: z.string().min(1).optional(),
        })
        .optional(),
    }),
    brokers: z.array(brokerSchema).min(1),
    sources: z.array(sourceSchema).default([]),
    webhooks: webhooksSchema.optional(),
    reconcileIntervalSeconds: z.number().min(1).default(10),
    http: httpSchema,
    logLevel: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
  })
  .superRefine((cfg, ctx) => {
    const brokers = new Set(cfg.brokers.map((b) => b.name));
    cfg.sources.forEach((s, i) => {
      if (!brokers.has(s.broker)) {
        ctx.addIssue({ code: 'custom', path: ['sources', i, 'broker'], message: `no broker named "${s.broker}" in brokers[]` });
      }
      if (s.keepRoutingKey && s.format !== 'eiffel') {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', i, 'keepRoutingKey'],
          message: `is for Eiffel sources (the central Eiffel bus republishes with it); source "${s.name}" has format ${s.format}`,
        });
      }
      if (s.mode === 'federation' && !cfg.central.management) {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', i, 'mode'],
          message:
            'federation mode needs central.management (url, user, password): the relay keeps the federation upstream and policy on the central broker',
        });
      }
    });
    const centralApi = cfg.central.management?.url.replace(/\/+$/, '');
    cfg.brokers.forEach((b, i) => {
      if (centralApi && b.management.url.replace(/\/+$/, '') === centralApi) {
        ctx.addIssue({
          code: 'custom',
          path: ['brokers', i, 'management', 'url'],
          message: "is the central broker's management API; a site broker must be a different broker",
        });
      }
    });
    if (cfg.webhooks && !brokers.has(cfg.webhooks.broker)) {
      ctx.addIssue({ code: 'custom', path: ['webhooks', 'broker'], message: `no broker named "${cfg.webhooks.broker}" in brokers[]` });
    }
    const seen = new Set<string>(['webhooks']);
    cfg.sources.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name "${s.name}"` });
      seen.add(s.name);
    });
  });

export type RelayConfig = z.output<typeof relayConfigSchema>;
export type BrokerConfig = RelayConfig['brokers'][number];
export type WebhooksConfig = NonNullable<RelayConfig['webhooks']>;

/** The name under which webhook traffic travels (routing key `site.<site>.webhooks.<format>`). */
export const WEBHOOK_SOURCE = 'webhooks';

export class RelaySettings {
  constructor(
    readonly config: RelayConfig,
    /** The file the config came from, for errors about files it names (default: a description). */
    readonly file = 'the relay configuration',
  ) {}
}
