import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { EntityRef, EntityRelation, TraceEvent } from '@not/events';
import { GraphRepository } from '@not/graph';
import { JsonLogger } from '@not/observability';
import { explorerConfigSchema } from '../../apps/explorer/src/explorer.config.js';
import { ExplorerModule } from '../../apps/explorer/src/explorer.module.js';
import { traceEvent } from '../support/factories.js';
import { testStatus } from '../support/mesh.js';

const TOKEN = 'integration-token-history-01';

/**
 * Release contents as history, against a real Neo4j. A generated product of six components, each
 * with a known commit history told to the graph the way a different tool tells it:
 *
 * - api: commits with their parents (a git hook), a0 ← a1 ← a2 ← a3 ← a4 ← a5 (a merge of a4 and f1,
 *   f1 branched off a2) ← a6 ← … ← a9;
 * - web: three pushes (w0..w2 onto a new branch; w3, w4 onto w2; w5..w8 onto w4);
 * - worker: Eiffel source changes linked by PREVIOUS_VERSION, k0 ← k1 ← k2 and k3 ← k4 ← k5, with the
 *   link from k3 to k2 missing (a gap);
 * - legacy (l0) in 1.0 to 1.2, removed in 1.3; docs (d0) added in 1.3;
 * - svc: s0 in 1.2; a merged pull request (head s2, s2 ← s1 ← s0 by their parents) with merge commit m1,
 *   and the push of m1 onto s0, in 1.3.
 *
 * Releases (component: the commit its build was built from): 1.0 api a2, web w2, worker k1, legacy l0;
 * 1.1 api a5, web w4, worker k1, legacy l0; 1.2 api a5, web w8, worker k3, legacy l0, svc s0; 1.3 api a9,
 * web w4 (back to an older build), worker k5, docs d0, svc m1. Each release ships an image built from its composition.
 * The expected contents below are the histories above, written out by hand.
 */
describe('release contents as history between releases, and diffs per component', () => {
  let graph: GraphRepository;
  let app: INestApplication;
  let url: string;
  const run = randomBytes(4).toString('hex');
  const product = `history-${run}`;
  const repoOf = (component: string): string => `git.example.com/history-${run}/${component}`;
  const sha = (name: string): string => createHash('sha1').update(`${run}${name}`).digest('hex');
  const componentOf: Record<string, string> = { a: 'api', f: 'api', w: 'web', k: 'worker', l: 'legacy', d: 'docs', s: 'svc', m: 'svc' };
  /** The key of commit `a3`, `w5`, … */
  const c = (name: string): string => `${repoOf(componentOf[name[0]!]!)}@${sha(name)}`;
  const ref = (name: string): EntityRef => ({ label: 'Commit', key: c(name) });
  const workItems: Record<string, string> = { a3: `HIST${run}-1`, f1: `HIST${run}-2`, w5: `HIST${run}-3`, k4: `HIST${run}-4` };
  const t = (min: number): string => new Date(Date.UTC(2090, 0, 1) + min * 60_000).toISOString();
  const events: TraceEvent[] = [];
  const ev = (o: Partial<TraceEvent>): TraceEvent => {
    const e = traceEvent({ format: 'github', type: 'x', ...o });
    events.push(e);
    return e;
  };
  const commitEntity = (name: string) => {
    const repository = repoOf(componentOf[name[0]!]!);
    return { ...ref(name), props: { sha: sha(name), repository } };
  };
  const references = (name: string): EntityRelation[] =>
    workItems[name] ? [{ from: ref(name), type: 'REFERENCES', to: { label: 'WorkItem', key: workItems[name]! } }] : [];
  const itemEntities = (names: string[]) =>
    names.filter((n) => workItems[n]).map((n) => ({ label: 'WorkItem' as const, key: workItems[n]!, props: {} }));

  // api: a git hook's commits with their parents.
  const apiParents: Record<string, string[]> = { a1: ['a0'], a2: ['a1'], f1: ['a2'], a3: ['a2'], a4: ['a3'], a5: ['a4', 'f1'] };
  for (let i = 6; i <= 9; i++) apiParents[`a${i}`] = [`a${i - 1}`];
  for (const name of ['a0', 'a1', 'a2', 'f1', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9']) {
    ev({
      stage: 'commit',
      phase: 'created',
      type: 'post-receive',
      format: 'git-hook',
      time: t(0),
      about: [{ entity: ref(name), role: 'pushed' }],
      entities: [commitEntity(name), ...(apiParents[name] ?? []).map(commitEntity), ...itemEntities([name])],
      relations: [...(apiParents[name] ?? []).map((p) => ({ from: ref(name), type: 'PARENT' as const, to: ref(p) })), ...references(name)],
    });
  }
  // web: pushes with their commit lists, head and the commit the branch was at before.
  const push = (names: string[], before: string | null) =>
    ev({
      stage: 'commit',
      phase: 'created',
      type: 'push',
      time: t(0),
      props: { before: before ? sha(before) : '0'.repeat(40), after: sha(names[names.length - 1]!) },
      about: [...names.map((n) => ({ entity: ref(n), role: 'pushed' })), { entity: ref(names[names.length - 1]!), role: 'head' }],
      entities: [...names.map(commitEntity), ...itemEntities(names)],
      relations: names.flatMap(references),
    });
  push(['w0', 'w1', 'w2'], null);
  push(['w3', 'w4'], 'w2');
  push(['w5', 'w6', 'w7', 'w8'], 'w4');
  // worker: Eiffel source changes, each linking the previous one (k3's link is missing).
  const scc: Record<string, string> = {};
  for (const [name, previous] of [
    ['k0', null],
    ['k1', 'k0'],
    ['k2', 'k1'],
    ['k3', null],
    ['k4', 'k3'],
    ['k5', 'k4'],
  ] as const) {
    scc[name] = ev({
      stage: 'commit',
      phase: 'created',
      format: 'eiffel',
      type: 'EiffelSourceChangeCreatedEvent',
      time: t(0),
      links: previous ? [{ type: 'PREVIOUS_VERSION', target: scc[previous]! }] : [],
      about: [{ entity: ref(name), role: 'created' }],
      entities: [commitEntity(name), ...itemEntities([name])],
      relations: references(name),
    }).id;
  }
  // svc: the request's commits with their parents, the merged request, and the push of its merge commit.
  for (const [name, parent] of [
    ['s0', null],
    ['s1', 's0'],
    ['s2', 's1'],
  ] as const) {
    ev({
      stage: 'commit',
      phase: 'created',
      type: 'post-receive',
      format: 'git-hook',
      time: t(0),
      about: [{ entity: ref(name), role: 'pushed' }],
      entities: [commitEntity(name), ...(parent ? [commitEntity(parent)] : [])],
      relations: parent ? [{ from: ref(name), type: 'PARENT', to: ref(parent) }] : [],
    });
  }
  const pr: EntityRef = { label: 'Change', key: `${repoOf('svc')}!7` };
  ev({
    stage: 'merge',
    phase: 'finished',
    outcome: 'success',
    type: 'pull_request',
    time: t(0),
    about: [
      { entity: pr, role: 'change' },
      { entity: ref('s2'), role: 'head' },
      { entity: ref('m1'), role: 'merge' },
    ],
    entities: [{ ...pr, props: {} }, commitEntity('s2'), commitEntity('m1')],
    relations: [
      { from: pr, type: 'INCLUDES', to: ref('s2') },
      { from: pr, type: 'INCLUDES', to: ref('m1') },
    ],
  });
  push(['m1'], 's0');
  for (const name of ['l0', 'd0']) {
    ev({ stage: 'commit', phase: 'created', time: t(0), about: [{ entity: ref(name), role: 'pushed' }], entities: [commitEntity(name)] });
  }

  // Builds: one per component version, producing an artifact named by its purl.
  const artifact = (name: string): EntityRef => ({
    label: 'Artifact',
    key: `sha256:${createHash('sha256').update(`${run}${name}`).digest('hex')}`,
  });
  const purl = (name: string): string => `pkg:generic/history-${run}/${componentOf[name[0]!]}@${name}`;
  const built = new Set<string>();
  const build = (name: string, min: number) => {
    if (built.has(name)) return;
    built.add(name);
    const b: EntityRef = { label: 'Build', key: `ci.example.com/history-${run}#${name}` };
    ev({
      stage: 'build',
      phase: 'finished',
      outcome: 'success',
      format: 'jenkins',
      time: t(min),
      about: [
        { entity: b, role: 'run' },
        { entity: artifact(name), role: 'produced' },
      ],
      entities: [
        { ...b, props: {} },
        { ...artifact(name), props: { purl: purl(name) } },
      ],
      relations: [
        { from: b, type: 'BUILT', to: ref(name) },
        { from: b, type: 'PRODUCED', to: artifact(name) },
      ],
    });
  };
  const releases: Array<[version: string, heads: string[]]> = [
    ['1.0', ['a2', 'w2', 'k1', 'l0']],
    ['1.1', ['a5', 'w4', 'k1', 'l0']],
    ['1.2', ['a5', 'w8', 'k3', 'l0', 's0']],
    ['1.3', ['a9', 'w4', 'k5', 'd0', 'm1']],
  ];
  const image = (version: string): EntityRef => ({
    label: 'Artifact',
    key: `sha256:${createHash('sha256').update(`${run}image${version}`).digest('hex')}`,
  });
  releases.forEach(([version, heads], i) => {
    for (const h of heads) build(h, 100 * (i + 1) - 10);
    const release: EntityRef = { label: 'Release', key: `${product}@${version}` };
    const composition = ev({
      stage: 'release',
      phase: 'defined',
      format: 'eiffel',
      type: 'EiffelCompositionDefinedEvent',
      time: t(100 * (i + 1)),
      about: [{ entity: release, role: 'composition' }],
      entities: [{ ...release, props: { product, version } }],
      relations: heads.map((h) => ({ from: release, type: 'CONTAINS' as const, to: artifact(h) })),
    });
    ev({
      stage: 'artifact',
      phase: 'created',
      format: 'eiffel',
      type: 'EiffelArtifactCreatedEvent',
      time: t(100 * (i + 1) + 5),
      links: [{ type: 'COMPOSITION', target: composition.id }],
      about: [{ entity: image(version), role: 'created' }],
      entities: [{ ...image(version), props: { purl: `pkg:oci/${product}@${version}` } }],
    });
  });

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
    app = await NestFactory.create(ExplorerModule.forConfig(config), { logger: new JsonLogger('explorer', 'error') });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  after(async () => {
    await app?.close();
    await graph?.onModuleDestroy();
  });

  const release = async (version: string, diff?: string): Promise<Record<string, any>> => {
    const res = await fetch(`${url}/api/v1/releases/${product}/${version}${diff ? `?diff=${diff}` : ''}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const body = (await res.json()) as Record<string, any>;
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  };
  const keys = (...names: string[]): string[] => names.map(c).sort();
  const pkg = (component: string): string => `pkg:generic/history-${run}/${component}`;
  /** name -> [history, commits, work items, previous artifact] of each component. */
  const summary = (r: Record<string, any>) =>
    Object.fromEntries(
      r.components.map((x: Record<string, any>) => [
        x.name.slice(pkg('').length),
        [x.history, x.commits, x.workItems, x.previous?.version ?? null],
      ]),
    );

  it("lists each component's whole history since the previous release, and says how complete it is", async () => {
    const r11 = await release('1.1');
    assert.equal(r11.previous, `${product}@1.0`);
    assert.deepEqual(summary(r11), {
      api: ['complete', keys('a3', 'a4', 'a5', 'f1'), [workItems['a3'], workItems['f1']].sort(), 'a2'],
      web: ['complete', keys('w3', 'w4'), [], 'w2'],
      worker: ['complete', [], [], 'k1'],
      legacy: ['complete', [], [], 'l0'],
    });
    const api = r11.components.find((x: { name: string }) => x.name === pkg('api'));
    assert.deepEqual(
      [api.artifact, api.version, api.builtFrom, api.historyFrom],
      [artifact('a5').key, 'a5', [c('a5')], ['built-from', 'parent']],
    );
    assert.deepEqual(r11.components.find((x: { name: string }) => x.name === pkg('web')).historyFrom, ['built-from', 'push']);
    // The release's commits: what every component was built from, and the new history.
    assert.deepEqual(
      r11.commits.map((x: { key: string }) => x.key),
      keys('a3', 'a4', 'a5', 'f1', 'w3', 'w4', 'k1', 'l0'),
    );
    assert.deepEqual(r11.productArtifacts, [image('1.1').key]);

    const r12 = await release('1.2');
    assert.deepEqual(summary(r12), {
      api: ['complete', [], [], 'a5'],
      web: ['complete', keys('w5', 'w6', 'w7', 'w8'), [workItems['w5']], 'w4'],
      worker: ['gap', keys('k3'), [], 'k1'],
      legacy: ['complete', [], [], 'l0'],
      svc: ['first', keys('s0'), [], null],
    });

    const r13 = await release('1.3');
    assert.deepEqual(summary(r13), {
      api: ['complete', keys('a6', 'a7', 'a8', 'a9'), [], 'a5'],
      web: ['back', [], [], 'w8'],
      worker: ['complete', keys('k4', 'k5'), [workItems['k4']], 'k3'],
      docs: ['first', keys('d0'), [], null],
      // The merge commit, the request's head (merge) and the commit between (parent); closed by the push of m1 onto s0.
      svc: ['complete', keys('m1', 's1', 's2'), [], 's0'],
    });
    assert.deepEqual(r13.components.find((x: { name: string }) => x.name === pkg('svc')).historyFrom, [
      'built-from',
      'merge',
      'parent',
      'push',
    ]);
    assert.equal(r13.components.find((x: { name: string }) => x.name === pkg('worker')).historyFrom.join(), 'built-from,previous-version');

    const r10 = await release('1.0');
    assert.equal(r10.previous, null);
    assert.deepEqual(summary(r10), {
      // A first release lists what each component was built from (its whole past is its repository's).
      api: ['first', keys('a2'), [], null],
      web: ['first', keys('w2'), [], null],
      worker: ['first', keys('k1'), [], null],
      legacy: ['first', keys('l0'), [], null],
    });
  });

  it('diffs per component: upgraded with the commits added, downgraded with the commits removed, added, removed, unchanged', async () => {
    const d = (await release('1.3', '1.2')).diff;
    assert.equal(d.against, `${product}@1.2`);
    const by = Object.fromEntries(
      d.components.map((x: Record<string, any>) => [
        x.name.slice(pkg('').length),
        [x.status, x.from?.version ?? null, x.to?.version ?? null, x.commitsAdded, x.commitsRemoved],
      ]),
    );
    assert.deepEqual(by, {
      api: ['upgraded', 'a5', 'a9', keys('a6', 'a7', 'a8', 'a9'), []],
      web: ['downgraded', 'w8', 'w4', [], keys('w5', 'w6', 'w7', 'w8')],
      worker: ['upgraded', 'k3', 'k5', keys('k4', 'k5'), []],
      legacy: ['removed', 'l0', null, [], keys('l0')],
      docs: ['added', null, 'd0', keys('d0'), []],
      svc: ['upgraded', 's0', 'm1', keys('m1', 's1', 's2'), []],
    });
    assert.deepEqual(d.added.commits, keys('a6', 'a7', 'a8', 'a9', 'k4', 'k5', 'd0', 'm1', 's1', 's2'));
    assert.deepEqual(d.removed.commits, keys('w5', 'w6', 'w7', 'w8', 'l0'));
    assert.deepEqual(d.added.workItems, [workItems['k4']]);
    assert.deepEqual(d.removed.workItems, [workItems['w5']]);

    const d11 = (await release('1.1', '1.0')).diff;
    assert.deepEqual(
      d11.components.map((x: Record<string, any>) => [x.name.slice(pkg('').length), x.status]),
      [
        ['api', 'upgraded'],
        ['legacy', 'unchanged'],
        ['web', 'upgraded'],
        ['worker', 'unchanged'],
      ],
    );
    assert.deepEqual(d11.removed.commits, [], 'rebuilt from newer code: nothing removed');
    assert.deepEqual(d11.added.commits, keys('a3', 'a4', 'a5', 'f1', 'w3', 'w4'));
  });
});
