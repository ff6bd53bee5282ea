import { validateConfig } from '@not/config';
import { centralRascalConfig, INGEST_POLICY, ingestPolicy } from '@not/messaging';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { correlatorConfigSchema } from '../../apps/correlator/src/correlator.config.js';
import { explorerConfigSchema } from '../../apps/explorer/src/explorer.config.js';
import { relayConfigSchema } from '../../apps/relay/src/relay.config.js';

const DEPLOY = join(process.cwd(), 'deploy');
const COMPOSE_FILE = join(DEPLOY, 'compose', 'docker-compose.yml');

type App = 'relay' | 'correlator' | 'explorer';
const APPS: Record<App, { schema: z.ZodType; port: number; configEnv: string }> = {
  relay: { schema: relayConfigSchema, port: 8110, configEnv: 'RELAY_CONFIG' },
  correlator: { schema: correlatorConfigSchema, port: 8200, configEnv: 'CORRELATOR_CONFIG' },
  explorer: { schema: explorerConfigSchema, port: 8300, configEnv: 'EXPLORER_CONFIG' },
};

/** `${NAME}` / `${NAME:-default}` / `${NAME:?message}` references in a text. */
function envRefs(text: string): Set<string> {
  return new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}/g)].map((m) => m[1]!));
}

/** Validates an app's YAML config against its schema, with a dummy value for each variable the environment provides. */
function validateAppConfig(app: App, text: string, provided: Iterable<string>, where: string): Record<string, unknown> {
  const env = Object.fromEntries([...provided].map((n) => [n, `dummy-${n.toLowerCase()}-value`]));
  const missing = [...envRefs(text)].filter((n) => !(n in env));
  assert.deepEqual(missing, [], `${where}: the config references variables its environment does not provide`);
  return validateConfig(parse(text), APPS[app].schema, where, { env }) as Record<string, unknown>;
}

function imageTagPinned(image: string): boolean {
  const tag = /:([^/:@]+)$/.exec(image)?.[1];
  return !!tag && tag !== 'latest';
}

describe('Dockerfiles', () => {
  for (const app of Object.keys(APPS) as App[]) {
    it(`${app}: multi-stage, non-root, healthcheck on its port, runs the app`, () => {
      const file = join(DEPLOY, 'docker', `${app}.Dockerfile`);
      const text = readFileSync(file, 'utf8');
      const froms = [...text.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)];
      assert.ok(froms.length >= 2, 'multi-stage');
      for (const f of froms) assert.ok(imageTagPinned(f[1]!), `base image ${f[1]} is pinned`);
      assert.match(text, /^COPY --from=build /m, 'the runtime stage copies from the build stage');
      const user = [...text.matchAll(/^USER\s+(\S+)/gm)].at(-1)?.[1];
      assert.ok(user && user !== 'root' && user !== '0', 'runs as a non-root user');
      assert.match(text, /^HEALTHCHECK .*\n?.*\/health\/live/m, 'healthcheck on /health/live');
      assert.match(text, new RegExp(`^EXPOSE ${APPS[app].port}$`, 'm'));
      assert.match(text, new RegExp(`HEALTH_PORT=${APPS[app].port}`));
      assert.match(text, new RegExp(`${APPS[app].configEnv}=/etc/not/${app}\\.yaml`));
      assert.match(text, new RegExp(`^ENTRYPOINT \\["node", "--enable-source-maps", "dist/apps/${app}/src/main\\.js"\\]`, 'm'));
      assert.ok(existsSync(`${file}.dockerignore`), 'a .dockerignore for the build context');
      // What the build stage copies must exist in the repository.
      for (const m of text.matchAll(/^COPY (?!--from)([^\n]+) \S+$/gm)) {
        for (const src of m[1]!.split(/\s+/)) assert.ok(existsSync(join(process.cwd(), src)), `COPY source ${src}`);
      }
    });
  }
});

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
}

describe('docker-compose two-site demo', () => {
  const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  const services = compose.services;
  const composeDir = dirname(COMPOSE_FILE);
  const envExample = new Set(
    readFileSync(join(composeDir, '.env.example'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
      .map((l) => l.split('=')[0]!),
  );

  it('has central and two sites: RabbitMQ nodes, Neo4j, the apps, Prometheus and Grafana', () => {
    for (const name of [
      'rabbitmq-central',
      'rabbitmq-site-a',
      'rabbitmq-site-b',
      'neo4j',
      'correlator',
      'explorer',
      'relay-site-a',
      'relay-site-b',
      'prometheus',
      'grafana',
    ]) {
      assert.ok(services[name], `service ${name}`);
    }
  });

  it('pins every image, builds the apps from their Dockerfiles, and references existing files and services', () => {
    const published = new Set<string>();
    for (const [name, s] of Object.entries(services)) {
      assert.ok(s.image && imageTagPinned(s.image.replace(/\$\{NOT_VERSION:-([^}]+)\}/, '$1')), `${name}: image ${s.image} is pinned`);
      if (s.build) assert.ok(existsSync(resolve(composeDir, s.build.context, s.build.dockerfile)), `${name}: ${s.build.dockerfile}`);
      for (const v of s.volumes ?? []) {
        const [src] = v.split(':');
        if (src!.startsWith('.')) assert.ok(existsSync(resolve(composeDir, src!)), `${name}: volume source ${src}`);
        else assert.ok(src! in compose.volumes, `${name}: named volume ${src}`);
      }
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) assert.ok(services[d], `${name}: depends on unknown service ${d}`);
      for (const p of s.ports ?? []) {
        const host = p.split(':')[0]!;
        assert.ok(!published.has(host), `${name}: host port ${host} published twice`);
        published.add(host);
      }
      for (const value of Object.values(s.environment ?? {})) {
        for (const ref of envRefs(String(value)))
          if (ref !== 'NOT_VERSION') assert.ok(envExample.has(ref), `${name}: ${ref} is not in .env.example`);
      }
    }
  });

  it('gives each app a config its schema accepts, with every secret it references in its environment', () => {
    for (const [name, s] of Object.entries(services)) {
      const app = (Object.keys(APPS) as App[]).find((a) => name === a || name.startsWith(`${a}-`));
      if (!app) continue;
      assert.ok(s.build?.dockerfile.endsWith(`${app}.Dockerfile`), `${name}: built from ${app}.Dockerfile`);
      const mount = (s.volumes ?? []).find((v) => v.includes(':/etc/not/'));
      assert.ok(mount, `${name}: config mounted under /etc/not`);
      const [src, target] = mount.split(':') as [string, string];
      assert.equal(target, `/etc/not/${app}.yaml`, `${name}: where the image looks for its config`);
      const config = validateAppConfig(
        app,
        readFileSync(resolve(composeDir, src), 'utf8'),
        Object.keys(s.environment ?? {}),
        `${name} ${src}`,
      );
      const http = config.http as { host: string; port: number };
      assert.equal(http.host, '0.0.0.0', `${name}: listens on all interfaces in the container`);
      assert.equal(http.port, APPS[app].port, `${name}: the port the image's healthcheck and Prometheus use`);
      if (app === 'relay') assert.equal(`relay-${config.site as string}`, name, `${name}: site id matches the service`);
    }
  });

  it('lets Prometheus scrape every app and RabbitMQ node by service name and port', () => {
    const prom = parse(readFileSync(join(DEPLOY, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const targets = prom.scrape_configs.flatMap((j) =>
      j.static_configs.flatMap((c) => c.targets.map((t) => ({ job: j.job_name, target: t }))),
    );
    for (const { job, target } of targets) {
      const [host, port] = target.split(':') as [string, string];
      assert.ok(services[host], `${job}: target ${host} is not a compose service`);
      const expected = job === 'rabbitmq' ? 15692 : APPS[job as App].port;
      assert.equal(Number(port), expected, `${job}: ${target}`);
    }
    const scraped = new Set(targets.map((t) => t.target.split(':')[0]));
    for (const name of Object.keys(services).filter((n) => /^(relay|correlator|explorer|rabbitmq-(central|site))/.test(n))) {
      assert.ok(scraped.has(name), `${name} is not scraped`);
    }
  });

  it('passes docker compose config where the compose plugin is available', (t) => {
    const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 20_000 });
    if (probe.status !== 0) {
      t.skip('docker compose is not installed here');
      return;
    }
    const r = spawnSync('docker', ['compose', '--env-file', join(composeDir, '.env.example'), '-f', COMPOSE_FILE, 'config', '--quiet'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
  });
});

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    template?: {
      spec: {
        securityContext?: { runAsNonRoot?: boolean };
        containers: Array<{
          name: string;
          image: string;
          args?: string[];
          ports?: Array<{ name: string; containerPort: number }>;
          env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
          volumeMounts?: Array<{ name: string; mountPath: string }>;
          readinessProbe?: { httpGet: { path: string; port: string | number } };
          livenessProbe?: { httpGet: { path: string; port: string | number } };
        }>;
        volumes?: Array<{ name: string; configMap?: { name: string } }>;
      };
    };
    ports?: Array<{ port: number; targetPort: string | number }>;
  };
}

function k8sObjects(dir: string): { resources: K8sObject[]; secrets: K8sObject[] } {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  const read = (f: string): K8sObject[] => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as K8sObject);
  for (const f of kustomization.resources) assert.ok(existsSync(join(dir, f)), `${dir}: resource ${f}`);
  return { resources: kustomization.resources.flatMap(read), secrets: read('secret.example.yaml') };
}

describe('one version of each platform piece', () => {
  it('builds every image on the same maintained Node.js LTS line', () => {
    const bases = (Object.keys(APPS) as App[]).flatMap((app) =>
      [...readFileSync(join(DEPLOY, 'docker', `${app}.Dockerfile`), 'utf8').matchAll(/^FROM node:(\d+)\.[\w.-]+/gm)].map((m) =>
        Number(m[1]),
      ),
    );
    assert.ok(bases.length >= 3);
    assert.equal(new Set(bases).size, 1, `one Node.js major: ${bases.join(', ')}`);
    // Even majors are the LTS lines; 22 is maintained until April 2027.
    assert.ok(bases[0]! % 2 === 0 && bases[0]! >= 22, `an LTS line still maintained: ${bases[0]}`);
  });

  it('names one RabbitMQ version in compose, Kubernetes and the definitions', () => {
    const versions = new Set<string>();
    for (const m of readFileSync(COMPOSE_FILE, 'utf8').matchAll(/image: rabbitmq:([\d.]+)/g)) versions.add(m[1]!);
    for (const m of readFileSync(join(DEPLOY, 'k8s', 'central', 'rabbitmq.yaml'), 'utf8').matchAll(/image: rabbitmq:([\d.]+)/g))
      versions.add(m[1]!);
    for (const f of ['central', 'site']) {
      versions.add(
        (JSON.parse(readFileSync(join(DEPLOY, 'rabbitmq', `${f}.definitions.json`), 'utf8')) as { rabbitmq_version: string })
          .rabbitmq_version,
      );
    }
    assert.deepEqual([...versions], ['3.13.7']);
  });
});

describe('Kubernetes manifests', () => {
  for (const part of ['central', 'site']) {
    it(`${part}: every app is scraped by a ServiceMonitor, and one with replicas has a disruption budget`, () => {
      const { resources } = k8sObjects(join(DEPLOY, 'k8s', part));
      for (const d of resources.filter((r) => r.kind === 'Deployment')) {
        const app = d.metadata.name;
        const selects = (r: K8sObject) =>
          JSON.stringify((r.spec as { selector?: { matchLabels?: unknown } } | undefined)?.selector?.matchLabels) ===
          JSON.stringify({ 'app.kubernetes.io/name': app });
        const monitor = resources.find((r) => r.kind === 'ServiceMonitor' && selects(r));
        assert.ok(monitor, `${app}: a ServiceMonitor selecting its Service`);
        const endpoints = (monitor.spec as unknown as { endpoints: Array<{ port: string; path: string }> }).endpoints;
        assert.deepEqual(
          endpoints.map((e) => [e.port, e.path]),
          [['http', '/metrics']],
        );
        const replicas = (d.spec as unknown as { replicas?: number }).replicas ?? 1;
        const pdb = resources.find((r) => r.kind === 'PodDisruptionBudget' && selects(r));
        if (replicas > 1)
          assert.equal(
            (pdb?.spec as unknown as { maxUnavailable?: number } | undefined)?.maxUnavailable,
            1,
            `${app}: a PodDisruptionBudget`,
          );
        else assert.equal(pdb, undefined, `${app}: one replica, no budget that would block a drain`);
      }
    });

    it(`${part}: deployments run non-root, mount a ConfigMap the schema accepts, and take secrets only from the Secret`, () => {
      const { resources, secrets } = k8sObjects(join(DEPLOY, 'k8s', part));
      assert.ok(!resources.some((r) => r.kind === 'Secret'), 'no Secret with values in the applied manifests');
      const configMaps = new Map(resources.filter((r) => r.kind === 'ConfigMap').map((r) => [r.metadata.name, r]));
      const secretKeys = new Map(secrets.map((s) => [s.metadata.name, new Set(Object.keys(s.stringData ?? {}))]));
      const deployments = resources.filter((r) => r.kind === 'Deployment');
      assert.ok(deployments.length > 0);
      for (const d of deployments) {
        const app = d.metadata.name as App;
        assert.ok(app in APPS, `${d.metadata.name} is one of the apps`);
        const pod = d.spec!.template!.spec;
        assert.equal(pod.securityContext?.runAsNonRoot, true, `${app}: runAsNonRoot`);
        const c = pod.containers[0]!;
        assert.ok(imageTagPinned(c.image) && c.image.startsWith(`network-of-traces/${app}:`), `${app}: image ${c.image}`);
        const http = c.ports?.find((p) => p.name === 'http');
        assert.equal(http?.containerPort, APPS[app].port, `${app}: containerPort`);
        assert.equal(c.readinessProbe?.httpGet.path, '/health/ready');
        assert.equal(c.livenessProbe?.httpGet.path, '/health/live');
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          assert.ok(ref, `${app}: env ${e.name} must come from a Secret (config values belong in the ConfigMap)`);
          assert.ok(secretKeys.get(ref.name)?.has(ref.key), `${app}: secret ${ref.name}/${ref.key} is not in secret.example.yaml`);
        }
        const mount = c.volumeMounts?.find((m) => m.mountPath === '/etc/not');
        const volume = pod.volumes?.find((v) => v.name === mount?.name);
        const cm = configMaps.get(volume?.configMap?.name ?? '');
        assert.ok(cm, `${app}: config volume from a ConfigMap in the kustomization`);
        const file = `${app}.yaml`;
        assert.deepEqual(c.args, ['--config', `/etc/not/${file}`]);
        const text = cm.data?.[file];
        assert.ok(text, `${app}: ConfigMap ${cm.metadata.name} has ${file}`);
        const config = validateAppConfig(
          app,
          text,
          (c.env ?? []).map((e) => e.name),
          `k8s/${part} ${cm.metadata.name}/${file}`,
        );
        assert.equal((config.http as { port: number }).port, APPS[app].port, `${app}: config port matches the container port`);
        const svc = resources.find((r) => r.kind === 'Service' && r.metadata.name === app);
        assert.ok(
          svc?.spec?.ports?.some((p) => p.port === APPS[app].port && p.targetPort === 'http'),
          `${app}: Service on the http port`,
        );
      }
    });
  }
});

interface Definitions {
  users: Array<{ name: string; password_hash: string; tags: string[] }>;
  permissions: Array<{ user: string; configure: string; write: string; read: string }>;
  topic_permissions: Array<{ user: string; exchange: string; write: string; read: string }>;
  exchanges: Array<{ name: string; type: string; durable: boolean; arguments: Record<string, unknown> }>;
  queues: Array<{ name: string; durable: boolean; arguments: Record<string, unknown> }>;
  bindings: Array<{ source: string; destination: string; routing_key: string }>;
  policies: Array<{
    name: string;
    vhost: string;
    pattern: string;
    'apply-to': string;
    priority: number;
    definition: Record<string, unknown>;
  }>;
}

describe('RabbitMQ definitions', () => {
  const central = JSON.parse(readFileSync(join(DEPLOY, 'rabbitmq', 'central.definitions.json'), 'utf8')) as Definitions;
  const site = JSON.parse(readFileSync(join(DEPLOY, 'rabbitmq', 'site.definitions.json'), 'utf8')) as Definitions;

  it("carry the ingest queue's settings as the policy the correlator sets, for the delivery limit it defaults to", () => {
    const { pattern, priority, definition } = ingestPolicy(20);
    assert.deepEqual(central.policies, [{ name: INGEST_POLICY, vhost: '/', pattern, 'apply-to': 'queues', priority, definition }]);
    assert.ok(
      new RegExp(pattern).test('not.ingest') && !new RegExp(pattern).test('not.ingest2') && !new RegExp(pattern).test('notxingest'),
    );
  });

  it('declare central exactly as the correlator does with its policy (same arguments, so neither side fails with PRECONDITION_FAILED)', () => {
    const rascal = centralRascalConfig({
      url: 'amqp://x',
      prefetch: 2000,
      deliveryLimit: 20,
      archiveMaxAge: '30D',
      ingestArguments: 'policy',
    }) as {
      vhosts: Record<
        string,
        {
          exchanges: Record<string, { type: string; options: { durable: boolean; alternateExchange?: string } }>;
          queues: Record<string, { options: { durable: boolean; arguments: Record<string, unknown> } }>;
          bindings: Record<string, { source: string; destination: string; bindingKey?: string }>;
        }
      >;
    };
    const vhost = rascal.vhosts['/']!;
    assert.deepEqual(
      central.exchanges.map((e) => [e.name, e.type, e.durable, e.arguments]).sort(),
      Object.entries(vhost.exchanges)
        .map(([name, e]) => [
          name,
          e.type,
          e.options.durable,
          e.options.alternateExchange ? { 'alternate-exchange': e.options.alternateExchange } : {},
        ])
        .sort(),
    );
    assert.deepEqual(
      central.queues.map((q) => [q.name, q.durable, q.arguments]).sort(),
      Object.entries(vhost.queues)
        .map(([name, q]) => [name, q.options.durable, q.options.arguments])
        .sort(),
    );
    assert.deepEqual(
      central.bindings.map((b) => [b.source, b.destination, b.routing_key]).sort(),
      Object.values(vhost.bindings)
        .map((b) => [b.source, b.destination, b.bindingKey ?? ''])
        .sort(),
    );
  });

  it('let each site user publish only site.<its id>.# to not.central, and nothing else', () => {
    const siteUsers = central.users.filter((u) => u.name.startsWith('site-'));
    assert.ok(siteUsers.length >= 2);
    for (const u of central.users) assert.equal(u.password_hash, '', `${u.name}: no password in the repository`);
    for (const u of siteUsers) {
      const id = u.name.slice('site-'.length);
      const perm = central.permissions.find((p) => p.user === u.name)!;
      assert.deepEqual([perm.configure, perm.write, perm.read], ['^$', '^not\\.central$', '^$'], `${u.name}: vhost permissions`);
      const topic = central.topic_permissions.find((p) => p.user === u.name)!;
      assert.equal(topic.exchange, 'not.central');
      const write = new RegExp(topic.write);
      assert.ok(write.test(`site.${id}.ci.eiffel`), `${u.name} may publish its own events`);
      for (const other of [...siteUsers.filter((o) => o !== u).map((o) => o.name.slice(5)), `${id}x`, 'central']) {
        assert.ok(!write.test(`site.${other}.ci.eiffel`), `${u.name} must not publish as ${other}`);
      }
      assert.ok(!new RegExp(topic.read).test(`site.${id}.ci.eiffel`));
    }
  });

  it('give a site relay what it needs on its broker: buffer queues, shovels (policymaker), status (monitoring)', () => {
    const relay = site.users.find((u) => u.name === 'relay')!;
    assert.ok(relay.tags.includes('policymaker') && relay.tags.includes('monitoring'));
    const perm = site.permissions.find((p) => p.user === 'relay')!;
    for (const name of ['not-relay.site-a.ci', 'not-relay.webhooks']) {
      for (const k of ['configure', 'write', 'read'] as const) assert.ok(new RegExp(perm[k]).test(name), `relay ${k} ${name}`);
    }
  });
});

describe('Kubernetes central broker (RabbitMQ Cluster and Messaging Topology Operators)', () => {
  type Topo = {
    kind: string;
    apiVersion: string;
    metadata: { name: string };
    spec: Record<string, unknown> & { rabbitmqClusterReference?: { name: string } };
  };
  const dir = join(DEPLOY, 'k8s', 'central');
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  const all = kustomization.resources.flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Topo));
  const of = (kind: string) => all.filter((r) => r.kind === kind && r.apiVersion === 'rabbitmq.com/v1beta1');
  const vhost = (
    centralRascalConfig({ url: 'amqp://x', prefetch: 2000, deliveryLimit: 20, archiveMaxAge: '30D', ingestArguments: 'policy' }) as {
      vhosts: Record<
        string,
        {
          exchanges: Record<string, { type: string; options: { durable: boolean; alternateExchange?: string } }>;
          queues: Record<string, { options: { durable: boolean; arguments: Record<string, unknown> } }>;
          bindings: Record<string, { source: string; destination: string; bindingKey?: string }>;
        }
      >;
    }
  ).vhosts['/']!;

  it('runs central as one RabbitmqCluster of at least three nodes, not a StatefulSet of its own', () => {
    const clusters = of('RabbitmqCluster');
    assert.equal(clusters.length, 1);
    assert.ok((clusters[0]!.spec.replicas as number) >= 3, 'three nodes or more (a quorum survives losing one)');
    assert.ok(!all.some((r) => r.kind === 'StatefulSet'), 'the operator owns the StatefulSet');
    const name = clusters[0]!.metadata.name;
    for (const r of all.filter((x) => x.apiVersion === 'rabbitmq.com/v1beta1' && x.kind !== 'RabbitmqCluster')) {
      assert.equal(r.spec.rabbitmqClusterReference?.name, name, `${r.kind} ${r.metadata.name} refers to the cluster`);
    }
    const correlator = all.find((r) => r.kind === 'ConfigMap' && r.metadata.name === 'correlator-config') as unknown as {
      data: Record<string, string>;
    };
    const url = (parse(correlator.data['correlator.yaml']!) as { amqp: { url: string } }).amqp.url;
    assert.match(url, new RegExp(`@${name}\\.not-central\\.svc:5672/`), "the correlator uses the cluster's Service");
  });

  it("sets the ingest queue's policy as the correlator would", () => {
    const [policy, ...others] = of('Policy');
    assert.equal(others.length, 0);
    const { pattern, priority, definition } = ingestPolicy(20);
    assert.deepEqual(policy!.spec, {
      name: INGEST_POLICY,
      vhost: '/',
      pattern,
      applyTo: 'queues',
      priority,
      definition,
      rabbitmqClusterReference: policy!.spec.rabbitmqClusterReference,
    });
  });

  it('declares exchanges, queues and bindings exactly as the correlator does (no PRECONDITION_FAILED either way)', () => {
    assert.deepEqual(
      of('Exchange')
        .map((e) => [e.spec.name, e.spec.type, e.spec.durable, e.spec.arguments ?? {}])
        .sort(),
      Object.entries(vhost.exchanges)
        .map(([n, e]) => [
          n,
          e.type,
          e.options.durable,
          e.options.alternateExchange ? { 'alternate-exchange': e.options.alternateExchange } : {},
        ])
        .sort(),
    );
    // The operator puts `type` into x-queue-type.
    assert.deepEqual(
      of('Queue')
        .map((q) => [q.spec.name, q.spec.durable, { 'x-queue-type': q.spec.type, ...((q.spec.arguments as object | undefined) ?? {}) }])
        .sort(),
      Object.entries(vhost.queues)
        .map(([n, q]) => [n, q.options.durable, q.options.arguments])
        .sort(),
    );
    assert.deepEqual(
      of('Binding')
        .map((b) => [b.spec.source, b.spec.destination, b.spec.routingKey ?? ''])
        .sort(),
      Object.values(vhost.bindings)
        .map((b) => [b.source, b.destination, b.bindingKey ?? ''])
        .sort(),
    );
  });

  it('lets each site user publish only site.<its id>.# to not.central, with credentials from a Secret', () => {
    const secrets = parseAllDocuments(readFileSync(join(dir, 'secret.example.yaml'), 'utf8')).map(
      (d) => d.toJS() as { metadata: { name: string }; stringData?: Record<string, string> },
    );
    const users = of('User');
    assert.ok(users.some((u) => u.metadata.name === 'correlator'));
    for (const u of users) {
      const secret = secrets.find((s) => s.metadata.name === (u.spec.importCredentialsSecret as { name: string }).name);
      assert.ok(secret?.stringData?.username && secret.stringData.password !== undefined, `${u.metadata.name}: credentials Secret`);
    }
    const siteUsers = users.filter((u) => u.metadata.name.startsWith('site-'));
    assert.ok(siteUsers.length >= 1);
    for (const u of siteUsers) {
      const id = u.metadata.name.slice('site-'.length);
      const perm = of('Permission').find((p) => p.spec.user === u.metadata.name)!.spec.permissions as Record<string, string>;
      assert.deepEqual([perm.configure, perm.write, perm.read], ['^$', '^not\\.central$', '^$']);
      const topic = of('TopicPermission').find((p) => p.spec.user === u.metadata.name)!.spec.permissions as Record<string, string>;
      assert.equal(topic.exchange, 'not.central');
      assert.ok(new RegExp(topic.write!).test(`site.${id}.ci.eiffel`));
      assert.ok(!new RegExp(topic.write!).test(`site.${id}x.ci.eiffel`) && !new RegExp(topic.write!).test('site.other.ci.eiffel'));
    }
  });
});
