import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseMessage, type EntityRef, type TraceEvent } from '@not/events';
import { GraphRepository, Journeys, WalkReads } from '@not/graph';
import { JsonLogger } from '@not/observability';
import { explorerConfigSchema } from '../../apps/explorer/src/explorer.config.js';
import { ExplorerModule } from '../../apps/explorer/src/explorer.module.js';
import { LeadTimeService } from '../../apps/explorer/src/lead-time.service.js';
import { traceEvent } from '../support/factories.js';
import { testStatus } from '../support/mesh.js';

const TOKEN = 'integration-token-delivery-01';
const M = 60_000;

/**
 * DORA per environment, from deployments as the tools send them: CDEvents `service.deployed` /
 * `service.rolledback` and `incident.*` (the bodies the CDEvents v0.4.1 specification describes), GitHub
 * `deployment` / `deployment_status` (the copied GitHub samples with this product's ids, times and states),
 * parsed by the real parsers and written with the builds and artifacts (canonical events) into a real
 * Neo4j. Every expected figure is computed below from the times published.
 *
 * One service `shop-<run>` (repository github.com/acme/shop-<run>), six commits c1..c6, each built into an
 * image A1..A6 20 min after its commit and deployed to staging 30 min after its commit (CDEvents). In
 * production (minutes from the start):
 *
 *   60  P1 c1 (CDEvents)         incident naming only the service at 80, resolved at 95
 *   160 P2 c2 (CDEvents)         incident naming A2 (in production) at 170, resolved at 200
 *   360 P3 c3 (CDEvents)         incident naming the service in production at 400, resolved at 430
 *   560 P4 c4 (GitHub #900: created 540, in progress 545, failure 560)
 *   590 P5 c4 (GitHub #901: created 585, success 590)
 *   700 P6 c5 (CDEvents)         rolled back (CDEvents service.rolledback, to A3) at 720
 *
 * and an incident naming the service in staging at 840 (after c6's staging deployment at 830), resolved at 850;
 * c6's image is deployed to a lab environment by Eiffel events (the official examples' shape) at 900, and again
 * at 950 by a deploy activity that finishes unsuccessfully.
 * Releases: shop@1.0 at 50 (A1, with the platform composition of A1 at 45 as its element), shop@1.1 at 150 (A2).
 */
describe('delivery figures per environment against a real Neo4j', () => {
  let graph: GraphRepository;
  let app: INestApplication;
  let url: string;
  const run = randomBytes(4).toString('hex');
  const service = `shop-${run}`;
  const repo = `github.com/acme/${service}`;
  // A window of its own: ten days somewhere in 2100..2700, so other tests' events never fall in it.
  const base = Date.UTC(2100, 0, 1) + (parseInt(run, 16) % 20_000) * 11 * 86_400_000;
  const t = (min: number): string => new Date(base + min * M).toISOString();
  const hex = (s: string): string => createHash('sha256').update(`${run}${s}`).digest('hex');
  const commitTimes = [0, 100, 300, 500, 600, 800];
  const sha = (i: number): string => hex(`c${i}`).slice(0, 40);
  const commit = (i: number): EntityRef => ({ label: 'Commit', key: `${repo}@${sha(i)}` });
  const image = (i: number): EntityRef => ({ label: 'Artifact', key: `sha256:${hex(`A${i}`)}` });
  const purl = (i: number): string => `pkg:oci/${service}@sha256%3A${hex(`A${i}`)}?repository_url=registry.example.com/acme`;

  const events: TraceEvent[] = [];
  const canonical = (o: Partial<TraceEvent>): TraceEvent => traceEvent({ format: 'jenkins', type: 'x', ...o });
  const parsed = (format: string, body: unknown, headers: Record<string, string> = {}): TraceEvent[] => {
    const r = parseMessage(
      { body: Buffer.from(JSON.stringify(body)), headers, routingKey: `site.site-a.tools.${format}` },
      { eiffelSchema: 'warn' },
    );
    assert.ok(r.ok, `the ${format} message parses: ${r.ok ? '' : r.rejection.reason}`);
    return [...r.events];
  };
  /** A CDEvent as the v0.4.1 specification describes it. */
  const cdevent = (type: string, id: string, min: number, subject: Record<string, unknown>) =>
    parsed('cdevents', {
      context: { version: '0.4.1', id: `${run}-${id}`, source: `/argocd/${run}`, type, timestamp: t(min) },
      subject: { source: `/argocd/${run}`, ...subject },
    });
  const env = (id: string) => ({ id, source: `/argocd/${run}` });
  const deploy = (i: number, environment: string, min: number, type = 'deployed') =>
    cdevent(`dev.cdevents.service.${type}.0.2.0`, `${environment}-${type}-${i}`, min, {
      id: service,
      type: 'service',
      content: { environment: env(environment), artifactId: purl(i) },
    });
  const incident = (id: string, detected: number, resolved: number, content: Record<string, unknown>) =>
    (['detected', 'resolved'] as const).flatMap((p) =>
      cdevent(`dev.cdevents.incident.${p}.0.1.0`, `${id}-${p}`, p === 'detected' ? detected : resolved, {
        id: `${run}-${id}`,
        type: 'incident',
        content: { description: `incident ${id}`, ...content },
      }),
    );
  // The copied GitHub samples, with this product's repository, deployment, commit, times and states.
  const sample = (file: string): Record<string, any> =>
    JSON.parse(readFileSync(resolve(process.cwd(), 'libs/events/fixtures/github', file), 'utf8')) as Record<string, any>;
  const repository = (o: Record<string, any>) => ({
    ...o.repository,
    clone_url: `https://github.com/acme/${service}.git`,
    html_url: `https://github.com/acme/${service}`,
  });
  const github = (id: number, i: number, created: number, statuses: Array<[state: string, min: number]>): TraceEvent[] => {
    const d0 = sample('deployment.created.json');
    const deployment = { ...d0.deployment, id, sha: sha(i), environment: 'production', created_at: t(created), updated_at: t(created) };
    const out = parsed(
      'github',
      { ...d0, deployment, repository: repository(d0) },
      { 'x-not-event': 'deployment', 'x-not-delivery-id': `${run}-${id}` },
    );
    for (const [state, min] of statuses) {
      const s0 = sample('deployment-status.success.json');
      const status = { ...s0.deployment_status, state, environment: 'production', created_at: t(min), updated_at: t(min) };
      out.push(
        ...parsed(
          'github',
          { ...s0, deployment_status: status, deployment, repository: repository(s0) },
          { 'x-not-event': 'deployment_status', 'x-not-delivery-id': `${run}-${id}-${state}` },
        ),
      );
    }
    return out;
  };

  for (const [n, c] of commitTimes.entries()) {
    const i = n + 1;
    const build: EntityRef = { label: 'Build', key: `ci.example.com/${run}#${i}` };
    events.push(
      canonical({
        format: 'github',
        stage: 'commit',
        phase: 'created',
        time: t(c),
        about: [{ entity: commit(i), role: 'pushed' }],
        entities: [{ ...commit(i), props: { sha: sha(i), repository: repo } }],
      }),
      canonical({
        stage: 'build',
        phase: 'finished',
        outcome: 'success',
        time: t(c + 20),
        about: [{ entity: build, role: 'run' }],
        entities: [{ ...build, props: {} }],
        relations: [
          { from: build, type: 'BUILT', to: commit(i) },
          { from: build, type: 'PRODUCED', to: image(i) },
        ],
      }),
      canonical({
        stage: 'artifact',
        phase: 'created',
        time: t(c + 20),
        about: [{ entity: image(i), role: 'created' }],
        entities: [{ ...image(i), props: {} }],
      }),
      ...deploy(i, 'staging', c + 30),
    );
  }
  /** An Eiffel event shaped as the official examples (`EiffelArtifactDeployedEvent/simple.json`, …), with this test's ids and links. */
  const eiffel = (type: string, version: string, min: number, data: Record<string, unknown>, links: Array<[string, string]> = []) => {
    const id = randomUUID();
    events.push(
      ...parsed('eiffel', {
        meta: { type, version, time: base + min * M, id, source: { host: 'deploy.example.com' } },
        data,
        links: links.map(([type, target]) => ({ type, target })),
      }),
    );
    return id;
  };
  // c6's image deployed to the lab by an Eiffel tool at 900: the environment is the one its ENVIRONMENT link defines.
  const lab = eiffel('EiffelEnvironmentDefinedEvent', '4.0.0', 850, { name: 'lab', version: '1' });
  const created = eiffel('EiffelArtifactCreatedEvent', '4.0.0', 820, {
    identity: `pkg:oci/${service}@6`,
    fileInformation: [{ name: 'image', integrityProtection: { alg: 'SHA-256', digest: hex('A6') } }],
  });
  eiffel('EiffelArtifactDeployedEvent', '0.2.0', 900, { description: 'lab deployment' }, [
    ['ARTIFACT', created],
    ['ENVIRONMENT', lab],
  ]);
  // Deployed again at 950 by a deploy activity that then failed: a failed deployment (its own deploy job).
  const job = eiffel('EiffelActivityTriggeredEvent', '4.0.0', 945, { name: 'deploy to lab', executionType: 'AUTOMATED' });
  eiffel('EiffelArtifactDeployedEvent', '0.2.0', 950, { description: 'lab deployment, again' }, [
    ['ARTIFACT', created],
    ['ENVIRONMENT', lab],
    ['CONTEXT', job],
  ]);
  eiffel('EiffelActivityFinishedEvent', '4.0.0', 955, { outcome: { conclusion: 'UNSUCCESSFUL', description: 'smoke test failed' } }, [
    ['ACTIVITY_EXECUTION', job],
  ]);
  events.push(
    ...deploy(1, 'production', 60),
    ...deploy(2, 'production', 160),
    ...deploy(3, 'production', 360),
    ...github(900, 4, 540, [
      ['in_progress', 545],
      ['failure', 560],
    ]),
    ...github(901, 4, 585, [['success', 590]]),
    ...deploy(5, 'production', 700),
    ...deploy(3, 'production', 720, 'rolledback'),
    ...incident('service-only', 80, 95, { service: { id: service, source: '/services' } }),
    ...incident('artifact', 170, 200, { environment: env('production'), artifactId: purl(2) }),
    ...incident('service-production', 400, 430, { environment: env('production'), service: { id: service, source: '/services' } }),
    ...incident('service-staging', 840, 850, { environment: env('staging'), service: { id: service, source: '/services' } }),
  );
  // Releases: the product shop and, inside 1.0, a nested platform composition of A1.
  const release = (version: string): EntityRef => ({ label: 'Release', key: `${service}@${version}` });
  const platform: EntityRef = { label: 'Release', key: `platform-${run}@1` };
  const platformEvent = canonical({
    stage: 'release',
    phase: 'defined',
    time: t(45),
    about: [{ entity: platform, role: 'composition' }],
    entities: [{ ...platform, props: { product: `platform-${run}`, version: '1' } }],
    relations: [{ from: platform, type: 'CONTAINS', to: image(1) }],
  });
  events.push(
    platformEvent,
    canonical({
      stage: 'release',
      phase: 'defined',
      time: t(50),
      links: [{ type: 'ELEMENT', target: platformEvent.id }],
      about: [{ entity: release('1.0'), role: 'composition' }],
      entities: [{ ...release('1.0'), props: { product: service, version: '1.0' } }],
      relations: [{ from: release('1.0'), type: 'CONTAINS', to: image(1) }],
    }),
    canonical({
      stage: 'release',
      phase: 'defined',
      time: t(150),
      about: [{ entity: release('1.1'), role: 'composition' }],
      entities: [{ ...release('1.1'), props: { product: service, version: '1.1' } }],
      relations: [{ from: release('1.1'), type: 'CONTAINS', to: image(2) }],
    }),
  );

  before(async () => {
    const status = await testStatus();
    const neo4j = { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password, database: 'neo4j' };
    graph = new GraphRepository(neo4j);
    await graph.ensureSchema();
    await graph.writeEvents(events);
    const config = explorerConfigSchema.parse({
      neo4j,
      http: { port: 1 },
      auth: { tokens: [TOKEN] },
      logLevel: 'error',
      deliveryMetrics: { enabled: false },
    });
    // The journey model, as the correlator keeps it.
    await new Journeys(graph, new WalkReads(graph), () => config.limits).drain();
    app = await NestFactory.create(ExplorerModule.forConfig(config), { logger: new JsonLogger('explorer', 'error') });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  after(async () => {
    await app?.close();
    await graph?.onModuleDestroy();
  });

  const get = async (path: string): Promise<{ status: number; body: Record<string, any> }> => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const window = `from=${t(0)}&to=${t(10 * 24 * 60)}`;
  const days = 10;
  /** Nearest-rank median of minutes, in seconds. */
  const p50 = (minutes: number[]): number => [...minutes].sort((a, b) => a - b)[Math.ceil(minutes.length / 2) - 1]! * 60;

  it('counts production deployments: one per tool deployment, rollbacks apart, failures from outcome, rollback and incidents', async () => {
    const r = await get(`/api/v1/lead-time?${window}&until=deployment`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // Lead time to production: each change's commit to its first successful production deployment.
    const leadTimes = [60 - 0, 160 - 100, 360 - 300, 590 - 500, 700 - 600];
    assert.deepEqual(
      r.body.perChange.map((c: { commit: string; total: number }) => [c.commit, c.total]),
      [1, 2, 3, 4, 5].map((i, n) => [commit(i).key, leadTimes[n]! * 60]),
    );
    // P1..P6 are deployments (the rollback at 720 is not); P4 failed on its own, so 5 successful.
    // Failed: P1 (service incident), P2 (artifact incident), P3 (service in production), P4 (own outcome), P6 (rolled back).
    // Restores: 95-80, 200-170, 430-400 (incidents), 590-560 (P4 to P5), 720-700 (P6 to its rollback).
    assert.deepEqual(r.body.dora, {
      deployments: 5,
      deploymentFrequencyPerDay: 5 / days,
      leadTimeForChangesSeconds: p50(leadTimes),
      changeFailureRate: 5 / 6,
      timeToRestoreSeconds: p50([15, 30, 30, 30, 20]),
      rollbacks: 1,
    });
    assert.equal(r.body.environment, null);
    assert.deepEqual(r.body.production, ['prod*']);
  });

  it('gives the figures of every environment: production as above, staging with its own incident', async () => {
    const r = await get(`/api/v1/lead-time?${window}&until=deployment`);
    const byName = Object.fromEntries(r.body.environments.map((e: { name: string }) => [e.name, e]));
    assert.deepEqual(Object.keys(byName).sort(), ['lab', 'production', 'staging']);
    assert.deepEqual(byName['production'].dora, r.body.dora);
    assert.equal(byName['production'].production, true);
    assert.equal(byName['production'].changes, 5);
    // Staging: six deployments 30 min after each commit, all successful; the incident naming the service
    // in staging at 840 fails the latest staging deployment before it (c6 at 830), restored at 850.
    assert.equal(byName['staging'].production, false);
    assert.equal(byName['staging'].changes, 6);
    assert.deepEqual(byName['staging'].dora, {
      deployments: 6,
      deploymentFrequencyPerDay: 6 / days,
      leadTimeForChangesSeconds: 30 * 60,
      changeFailureRate: 1 / 6,
      timeToRestoreSeconds: 10 * 60,
      rollbacks: 0,
    });
    // The lab: one Eiffel deployment of c6's image (its environment from the EnvironmentDefined event it links), 900 - 800.
    // Its second deployment at 950 failed with its deploy activity: one of two failed, nothing restored it.
    assert.deepEqual(byName['lab'].production, false);
    assert.deepEqual(byName['lab'].changes, 1);
    assert.deepEqual(byName['lab'].dora, {
      deployments: 1,
      deploymentFrequencyPerDay: 1 / days,
      leadTimeForChangesSeconds: 100 * 60,
      changeFailureRate: 1 / 2,
      timeToRestoreSeconds: null,
      rollbacks: 0,
    });
    const staging = await get(`/api/v1/lead-time?${window}&until=deployment&environment=staging`);
    assert.equal(staging.status, 200, JSON.stringify(staging.body));
    assert.deepEqual(staging.body.dora, byName['staging'].dora);
    assert.equal(staging.body.changes, 6);
  });

  it('counts a product release, not the nested composition inside it, and ends lead time at the release', async () => {
    const r = await get(`/api/v1/lead-time?${window}&until=release`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // c1 reached the platform composition at 45 but its product release at 50; c2 was released at 150.
    assert.deepEqual(
      r.body.perChange.map((c: { commit: string; total: number }) => [c.commit, c.total]),
      [
        [commit(1).key, 50 * 60],
        [commit(2).key, 50 * 60],
      ],
    );
    // Two releases; the incident naming A2 (170 → 200) fails 1.1, which carries A2.
    assert.deepEqual(r.body.dora, {
      deployments: 2,
      deploymentFrequencyPerDay: 2 / days,
      leadTimeForChangesSeconds: 50 * 60,
      changeFailureRate: 1 / 2,
      timeToRestoreSeconds: 30 * 60,
      rollbacks: 0,
    });
  });

  it('gives the same figures without the environments (as the delivery figures ask), and leaves only those out', async () => {
    const leadTimes = app.get(LeadTimeService);
    for (const until of ['release', 'deployment']) {
      const q = { from: t(0), to: t(10 * 24 * 60), until, groupBy: 'area' as const };
      const all = await leadTimes.measure(q);
      const lean = await leadTimes.measure(q, { environments: false });
      assert.deepEqual(lean.result.environments, [], until);
      assert.ok(all.result.environments.length > 0, `${until}: the full answer has its environments`);
      assert.deepEqual({ ...lean.result, environments: [] }, { ...all.result, environments: [] }, until);
      assert.deepEqual(lean.deployments, all.deployments, until);
      assert.deepEqual(lean.incidents, all.incidents, until);
    }
    // The release figures, as stated above: two releases, c1 and c2 at 50 min each, 1.1 failed.
    const lean = await leadTimes.measure({ from: t(0), to: t(10 * 24 * 60), until: 'release', groupBy: 'area' }, { environments: false });
    assert.deepEqual(
      lean.result.perChange.map((c) => [c.commit, c.total]),
      [
        [commit(1).key, 50 * 60],
        [commit(2).key, 50 * 60],
      ],
    );
    assert.deepEqual(
      lean.deployments.map((d) => [d.failed, d.areas]),
      [
        [false, [repo]],
        [false, [repo]],
      ],
    );
    assert.equal(lean.result.dora.changeFailureRate, 1 / 2);
  });

  it('refuses an environment without until=deployment, saying why', async () => {
    const r = await get(`/api/v1/lead-time?${window}&until=release&environment=staging`);
    assert.equal(r.status, 400);
    assert.match(r.body.problems.join('\n'), /environment: is only for until=deployment/);
  });
});
