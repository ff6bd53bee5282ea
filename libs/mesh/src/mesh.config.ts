import { identifier, loadConfigFile, port } from '@not/config';
import { FORMATS } from '@not/events';
import { totalmem } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

const rabbitPorts = z.strictObject({
  amqpPort: port,
  managementPort: port,
  prometheusPort: port,
  distPort: port,
});

const MIB = 1024 * 1024;

/**
 * Neo4j's memory for a machine with `totalBytes` of memory, unless set: a sixteenth for the heap
 * (512 MiB–8 GiB) and an eighth for the page cache (256 MiB–16 GiB), leaving the rest to the brokers,
 * the apps and the operating system's file cache. On 24 GiB: 1,536 MiB heap and 3,072 MiB page cache.
 */
export function neo4jMemory(
  totalBytes: number,
  set: { heapMb?: number; pageCacheMb?: number } = {},
): { heapMb: number; pageCacheMb: number } {
  const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.round(x)));
  return {
    heapMb: set.heapMb ?? clamp(totalBytes / MIB / 16, 512, 8192),
    pageCacheMb: set.pageCacheMb ?? clamp(totalBytes / MIB / 8, 256, 16384),
  };
}

/** A rule naming a CI build by another tool's key (the correlator checks it at start). */
const buildRule = z.strictObject({
  match: z.string(),
  ci: z.string(),
  job: z.string().optional(),
  number: z.string().optional(),
  run: z.string().optional(),
});

const sourceSchema = z
  .strictObject({
    name: identifier,
    format: z.enum(FORMATS),
    exchange: z.string().min(1),
    /** Eiffel sources: the relay keeps each tool's routing key for the central Eiffel bus (docs/relay.md). */
    keepRoutingKey: z.boolean().optional(),
  })
  .refine((s) => !s.keepRoutingKey || s.format === 'eiffel', {
    path: ['keepRoutingKey'],
    message: 'is for Eiffel sources (the central Eiffel bus republishes with it)',
  });

export const meshConfigSchema = z
  .strictObject({
    /** Where node data, logs, generated configs and secrets live (relative to the repository root). */
    stateDir: z.string().default('.state/mesh'),
    central: z.strictObject({
      /**
       * How many clustered RabbitMQ nodes central runs (1 on small machines). Node k (0-based) uses the
       * ports of `rabbitmq` plus k × `portStride`; the quorum queues and the archive stream get a replica on each.
       */
      nodes: z.number().int().min(1).max(7).default(1),
      portStride: z.number().int().min(1).default(2),
      rabbitmq: rabbitPorts,
    }),
    sites: z
      .array(
        z.strictObject({
          id: identifier,
          rabbitmq: rabbitPorts,
          relayPort: port,
          /**
           * The port this site's relay reaches central's AMQP listener at, when something stands
           * between them (a gateway, a NAT, the soak's fault proxy); default: central's own port.
           * Only with one central node.
           */
          centralAmqpPort: port.optional(),
          sources: z.array(sourceSchema).min(1),
        }),
      )
      .min(1),
    neo4j: z
      .strictObject({
        boltPort: port,
        /** JVM heap; default sized from the machine's memory ({@link neo4jMemory}). */
        heapMb: z.number().int().min(128).optional(),
        /** Page cache (the store's pages kept in memory); default sized from the machine's memory. */
        pageCacheMb: z.number().int().min(16).optional(),
      })
      .transform(({ boltPort, heapMb, pageCacheMb }) => ({ boltPort, ...neo4jMemory(totalmem(), { heapMb, pageCacheMb }) })),
    prometheus: z.strictObject({ port, scrapeIntervalSeconds: z.number().int().min(1).default(5) }),
    correlator: z.strictObject({
      port,
      /** Passed to the correlator as `parse.artifactBuilds` (which build produced an artifact; docs/graph-model.md). */
      artifactBuilds: z.array(buildRule).optional(),
      /** Passed to the correlator as `parse.buildInfoBuilds` (which CI build a JFrog build-info describes; docs/graph-model.md). */
      buildInfoBuilds: z.array(buildRule).optional(),
    }),
    explorer: z.strictObject({
      port,
      /**
       * Passed to the explorer as its `trends` section (docs/explorer.md, "Trends and insights"), which
       * the explorer validates at start: e.g. a short `intervalSeconds` and the `objectives` a test forecasts against.
       */
      trends: z.record(z.string(), z.unknown()).optional(),
      /** Passed to the explorer as its `deliveryMetrics` section (docs/operations.md), validated by the explorer at start. */
      deliveryMetrics: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .superRefine((cfg, ctx) => {
    const used = new Map<number, string>();
    const claim = (p: number, what: string, path: (string | number)[]): void => {
      const other = used.get(p);
      if (other) ctx.addIssue({ code: 'custom', path, message: `port ${p} is also used by ${other}` });
      else used.set(p, what);
      if ([5672, 15672, 15692, 25672, 4369].includes(p)) {
        ctx.addIssue({ code: 'custom', path, message: `port ${p} belongs to the machine's own RabbitMQ service; choose another` });
      }
    };
    const rabbit = (r: z.infer<typeof rabbitPorts>, what: string, path: (string | number)[]): void => {
      for (const k of ['amqpPort', 'managementPort', 'prometheusPort', 'distPort'] as const) claim(r[k], `${what} ${k}`, [...path, k]);
    };
    centralNodePorts(cfg).forEach((ports, k) => rabbit(ports, k === 0 ? 'central' : `central node ${k + 1}`, ['central', 'rabbitmq']));
    cfg.sites.forEach((s, i) => {
      if (/^central(-\d+)?$/.test(s.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sites', i, 'id'],
          message: `"${s.id}" is the name of a central node; choose another site id`,
        });
      }
      rabbit(s.rabbitmq, `site ${s.id}`, ['sites', i, 'rabbitmq']);
      claim(s.relayPort, `relay ${s.id}`, ['sites', i, 'relayPort']);
      if (s.centralAmqpPort !== undefined) {
        if (cfg.central.nodes > 1) {
          ctx.addIssue({
            code: 'custom',
            path: ['sites', i, 'centralAmqpPort'],
            message: `a site's own port to central needs a single central node (central.nodes is ${cfg.central.nodes})`,
          });
        }
        claim(s.centralAmqpPort, `the link of ${s.id} to central`, ['sites', i, 'centralAmqpPort']);
      }
    });
    claim(cfg.neo4j.boltPort, 'neo4j', ['neo4j', 'boltPort']);
    claim(cfg.prometheus.port, 'prometheus', ['prometheus', 'port']);
    claim(cfg.correlator.port, 'correlator', ['correlator', 'port']);
    claim(cfg.explorer.port, 'explorer', ['explorer', 'port']);
    const ids = new Set<string>();
    cfg.sites.forEach((s, i) => {
      if (ids.has(s.id)) ctx.addIssue({ code: 'custom', path: ['sites', i, 'id'], message: `duplicate site id "${s.id}"` });
      ids.add(s.id);
    });
  });

export type MeshConfig = z.output<typeof meshConfigSchema>;
type RabbitPortSet = z.infer<typeof rabbitPorts>;

/** The ports of each central node: node k has the first node's ports plus k × portStride. */
export function centralNodePorts(cfg: { central: { nodes: number; portStride: number; rabbitmq: RabbitPortSet } }): RabbitPortSet[] {
  const { nodes, portStride, rabbitmq: r } = cfg.central;
  return Array.from({ length: nodes }, (_, k) => ({
    amqpPort: r.amqpPort + k * portStride,
    managementPort: r.managementPort + k * portStride,
    prometheusPort: r.prometheusPort + k * portStride,
    distPort: r.distPort + k * portStride,
  }));
}

/** The mesh's name of central node k (0-based): `central`, then `central-2`, `central-3`… */
export function centralNodeName(k: number): string {
  return k === 0 ? 'central' : `central-${k + 1}`;
}
export type MeshSite = MeshConfig['sites'][number];

const DEFAULT_MESH_FILE = 'deploy/local/mesh.yaml';

export interface LoadedMesh {
  readonly config: MeshConfig;
  readonly root: string;
  readonly stateDir: string;
  readonly file: string;
}

export function loadMesh(file: string = DEFAULT_MESH_FILE, root: string = process.cwd()): LoadedMesh {
  const abs = isAbsolute(file) ? file : resolve(root, file);
  const config = loadConfigFile(abs, meshConfigSchema);
  const stateDir = isAbsolute(config.stateDir) ? config.stateDir : resolve(root, config.stateDir);
  return { config, root, stateDir, file: abs };
}
