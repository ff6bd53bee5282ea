import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { publishToSite, type MeshStatus } from '@not/mesh';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Driver } from 'neo4j-driver';
import { EXPLORER_CONTROLLERS } from '../../apps/explorer/src/explorer.module.js';
import { openApiDocument } from '../../apps/explorer/src/openapi.document.js';
import { OpenApiController } from '../../apps/explorer/src/openapi.controller.js';
import { WebController } from '../../apps/explorer/src/web.controller.js';
import { eiffelPipeline, type Pipeline } from '../../apps/explorer/src/testing/eiffel-pipeline.js';
import { countEvents, neo4jDriver, testStatus, waitUntil } from '../support/mesh.js';

type Json = Record<string, any>;
/** Routes that are not the JSON API: the web page and its files, and the document itself. */
const NOT_API = new Set([WebController, OpenApiController]);

/** Every route the explorer's controllers declare, as `METHOD /path/{param}`. */
function controllerRoutes(): string[] {
  const out: string[] = [];
  for (const ctl of EXPLORER_CONTROLLERS) {
    if (NOT_API.has(ctl as never)) continue;
    const base = String(Reflect.getMetadata(PATH_METADATA, ctl) ?? '');
    for (const name of Object.getOwnPropertyNames(ctl.prototype)) {
      const handler = (ctl.prototype as unknown as Record<string, unknown>)[name];
      if (name === 'constructor' || typeof handler !== 'function' || !Reflect.hasMetadata(METHOD_METADATA, handler)) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
      const sub = String(Reflect.getMetadata(PATH_METADATA, handler));
      const path = `/${[base, sub].filter((x) => x && x !== '/').join('/')}`.replace(/:(\w+)/g, '{$1}');
      out.push(`${method} ${path}`);
    }
  }
  return out.sort();
}

describe('the OpenAPI document: generated, covering every route, and what every route answers', () => {
  let status: MeshStatus;
  let driver: Driver;
  let p: Pipeline;
  let doc: Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  /** Operations called, and how each answer fared against the document. */
  const called = new Map<string, number[]>();

  /** The operation of the document a concrete path is an instance of. */
  function operation(method: string, path: string): { key: string; op: Json } {
    const bare = path.split('?')[0]!;
    for (const [template, item] of Object.entries(doc['paths'] as Json)) {
      const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+')}$`);
      const op = (item as Json)[method.toLowerCase()];
      if (re.test(bare) && op) return { key: `${method} ${template}`, op };
    }
    throw new Error(`${method} ${bare} is not in the document`);
  }

  /** Calls a route and checks its answer against the document: a documented status, and a body its schema accepts. */
  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const { key, op } = operation(method, path);
    const res = await fetch(`${status.explorer.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${status.explorer.token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const documented = (op['responses'] as Json)[String(res.status)] as Json | undefined;
    assert.ok(documented, `${key}: status ${res.status} is not documented (${text.slice(0, 300)})`);
    called.set(key, [...(called.get(key) ?? []), res.status]);
    const content = documented['content'] as Json | undefined;
    if (!content) {
      assert.equal(text, '', `${key}: ${res.status} documents no body`);
      return { status: res.status, body: undefined };
    }
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/, key);
    const parsed: unknown = JSON.parse(text);
    const schema = content['application/json']['schema'] as Json;
    const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi#/components/')));
    assert.ok(
      validate(parsed),
      `${key} (${res.status}) does not match the document: ${ajv.errorsText(validate.errors, { separator: '\n' })}`,
    );
    return { status: res.status, body: parsed };
  }

  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
    const run = `o${randomBytes(3).toString('hex')}`;
    p = eiffelPipeline(run, Date.UTC(2032, 0, 1) + randomInt(0, 3000) * 86_400_000);
    const at = (s: 'a' | 'b') => p.events.filter((e) => e.site === s).map((e) => Buffer.from(JSON.stringify(e.event)));
    await publishToSite(status, 'site-a', 'ci', at('a'));
    await publishToSite(status, 'site-b', 'ci', at('b'));
    // A pull request of the pipeline's first commit, as Jenkins' mq-notifier reports a build of it at site-b.
    const url = `https://jenkins.site-b.example.com/job/${p.product}-pr/7/`;
    await publishToSite(status, 'site-b', 'jenkins', [
      Buffer.from(
        JSON.stringify({
          state: 'COMPLETED',
          url,
          build_job_name: `${p.product}-pr`,
          build_number: 7,
          jenkins_master_fqdn: 'jenkins.site-b.example.com',
          status: 'SUCCESS',
          build_duration: 60_000,
          parameters: [`GIT_URL=https://${p.repository}.git`, `GIT_COMMIT=${p.commits.C1.sha}`, 'CHANGE_ID=7'],
        }),
      ),
    ]);
    const ids = p.events.map((e) => e.event.meta.id);
    await waitUntil('the pipeline in Neo4j', async () => [...(await countEvents(driver, ids)).values()].every((n) => n === 1), 120_000);
    const res = await fetch(`${status.explorer.url}/api/docs`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as Json;
    ajv.addSchema(doc, 'openapi');
  });
  after(async () => driver?.close());

  it('serves the document generated from the schemas', () => {
    assert.deepEqual(doc, JSON.parse(JSON.stringify(openApiDocument('/er'))));
  });

  it("documents every controller's route, and nothing else", () => {
    const documented = Object.entries(doc['paths'] as Json)
      .flatMap(([path, item]) => Object.keys(item as Json).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    assert.deepEqual(documented, controllerRoutes());
  });

  it('answers every route as documented', async () => {
    const c1 = p.commits.C1;
    const trace = await call('GET', `/api/v1/trace/commit/${c1.sha.slice(0, 12)}`);
    assert.equal(trace.status, 200);
    assert.equal((await call('GET', `/api/v1/trace/commit/${'f'.repeat(40)}`)).status, 404);
    assert.equal((await call('GET', `/api/v1/trace/commit/xyz`)).status, 400);
    assert.equal((await call('GET', `/api/v1/trace/work-item/${encodeURIComponent(c1.workItem)}`)).status, 200);
    // Change keys: `<repository>!<number>` (docs/graph-model.md).
    const change = `/api/v1/trace/change/${encodeURIComponent(`${p.repository}!7`)}`;
    await waitUntil(
      'the pull request in the graph',
      async () =>
        (await fetch(`${status.explorer.url}${change}`, { headers: { authorization: `Bearer ${status.explorer.token}` } })).status === 200,
    );
    assert.equal((await call('GET', change)).status, 200);
    assert.equal((await call('GET', `/api/v1/trace/artifact/${encodeURIComponent(p.artifacts.A1)}`)).status, 200);
    assert.equal((await call('GET', `/api/v1/releases/${p.product}/1.1?diff=1.0`)).status, 200);
    assert.equal((await call('GET', `/api/v1/releases/${p.product}/1.0`)).status, 200);

    const from = new Date(p.base - 86_400_000).toISOString();
    const to = new Date(p.base + 2 * 86_400_000).toISOString();
    const lt = await call('GET', `/api/v1/lead-time?from=${from}&to=${to}&groupBy=area`);
    assert.equal(lt.status, 200);
    assert.ok(lt.body.changes > 0, 'the window holds the pipeline');
    assert.equal((await call('GET', `/api/v1/lead-time?from=${from}&to=${to}&until=deployment`)).status, 200);

    const id = c1.journey[c1.journey.length - 1]!;
    assert.equal((await call('GET', `/api/v1/events?from=${from}&to=${to}&pageSize=5`)).status, 200);
    assert.equal((await call('GET', `/api/v1/events/${id}`)).status, 200);
    assert.equal((await call('GET', `/api/v1/events/${id}/raw`)).status, 200);
    assert.equal((await call('POST', `/api/v1/search/${id}`, { dlt: ['ALL'], ult: ['ALL'] })).status, 200);

    assert.equal((await call('GET', `/er/events/${id}?readable=true`)).status, 200);
    assert.equal((await call('GET', `/er/events/no-such-event`)).status, 404);
    const page = await call('GET', `/er/events?meta.type=EiffelCompositionDefinedEvent&data.name=${p.product}`);
    assert.equal(page.status, 200);
    assert.ok(page.body.items.length > 0);
    assert.equal((await call('POST', `/er/search/${id}?tree=true`, { dlt: ['ALL'], ult: ['ALL'] })).status, 200);
    assert.equal((await call('POST', `/er/search/${id}`, { dlt: ['ALL'], ult: ['ALL'] })).status, 200);

    const input = {
      name: `contract ${p.run}`,
      condition: { on: 'stage', stage: 'release' },
      delivery: { type: 'webhook', url: 'http://127.0.0.1:9/hook' },
    };
    const created = await call('POST', '/api/v1/subscriptions', input);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const sub = created.body.id as string;
    assert.equal((await call('GET', '/api/v1/subscriptions')).status, 200);
    assert.equal((await call('GET', `/api/v1/subscriptions/${sub}`)).status, 200);
    assert.equal((await call('PUT', `/api/v1/subscriptions/${sub}`, { ...input, enabled: false })).status, 200);
    const onFindings = { on: 'insight', types: ['forecast', 'breach'], segments: ['waiting-for-build'], sites: ['site-a'] };
    assert.equal((await call('PUT', `/api/v1/subscriptions/${sub}`, { ...input, condition: onFindings, enabled: false })).status, 200);
    assert.equal((await call('GET', `/api/v1/subscriptions/${sub}/firings?limit=10`)).status, 200);
    assert.equal((await call('DELETE', `/api/v1/subscriptions/${sub}`)).status, 204);

    // Trends answer 503 until their first findings are judged; the answer that counts is the 200.
    await waitUntil('a trends round', async () => (await call('GET', '/api/v1/trends?bucket=day')).status === 200, 120_000, 2000);
    assert.equal((await call('GET', '/api/v1/insights?limit=20')).status, 200);

    // The stream is Server-Sent Events: its content type is what the document says.
    const { key, op } = operation('GET', '/api/v1/stream');
    const ac = new AbortController();
    const res = await fetch(`${status.explorer.url}/api/v1/stream?access_token=${status.explorer.token}`, { signal: ac.signal });
    const types = Object.keys((op['responses'] as Json)[String(res.status)]?.['content'] ?? {});
    assert.equal(res.status, 200);
    assert.ok(
      types.some((t) => (res.headers.get('content-type') ?? '').startsWith(t)),
      `${key}: ${res.headers.get('content-type')}`,
    );
    called.set(key, [res.status]);
    ac.abort();

    // Every documented operation was called and answered 2xx at least once.
    for (const route of controllerRoutes())
      assert.ok(
        (called.get(route) ?? []).some((s) => s >= 200 && s < 300),
        `${route} was not exercised with a success`,
      );
  });
});
