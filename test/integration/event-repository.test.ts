import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { publishConfirmed } from '@not/messaging';
import { JsonLogger } from '@not/observability';
import type { Driver } from 'neo4j-driver';
import { explorerConfigSchema } from '../../apps/explorer/src/explorer.config.js';
import { ExplorerModule } from '../../apps/explorer/src/explorer.module.js';
import { eiffelPipeline, type Pipeline } from '../../apps/explorer/src/testing/eiffel-pipeline.js';
import { IsolatedCentral } from '../support/central.js';
import { neo4jDriver, sharedDir, testStatus, waitUntil } from '../support/mesh.js';

const TOKEN = 'integration-token-0123456789';
type Json = Record<string, unknown>;
type Ev = Pipeline['events'][number]['event'];

/**
 * The Event Repository routes as Eiffel's own clients call them, over events that went the whole way:
 * published on a central broker, consumed by a real correlator (which keeps each body as it arrived),
 * written to Neo4j, read back by the explorer.
 */
describe('Eiffel Event Repository API, as Eiffel Intelligence and goer clients call it', () => {
  const run = `er${randomBytes(3).toString('hex')}`;
  const pipeline = eiffelPipeline(run, Date.UTC(2031, 0, 5, 8));
  const events = pipeline.events.map((e) => e.event);
  const byId = new Map(events.map((e) => [e.meta.id, e]));
  let central: IsolatedCentral;
  let driver: Driver;
  let open: INestApplication;
  let closed: INestApplication;
  let openUrl: string;
  let closedUrl: string;
  let capped: INestApplication;
  let cappedUrl: string;

  const publish = (items: Array<{ body: string; site: string }>) =>
    publishConfirmed(
      central.url,
      'not.central',
      items.map((x) => ({ body: Buffer.from(x.body, 'utf8'), routingKey: `site.${x.site}.ci.eiffel` })),
    );
  const stored = async (ids: readonly string[]): Promise<number> => {
    const res = await driver.executeQuery('MATCH (e:Event) WHERE e.id IN $ids AND e.raw IS NOT NULL RETURN count(e) AS n', { ids });
    return Number(res.records[0]!.get('n'));
  };

  before(async () => {
    const status = await testStatus();
    driver = neo4jDriver(status);
    central = await new IsolatedCentral(status).create();
    await central.startCorrelator(9231);
    const explorer = async (eiffelApi: Json): Promise<[INestApplication, string]> => {
      const config = explorerConfigSchema.parse({
        neo4j: { url: status.neo4j.bolt, user: status.neo4j.user, password: status.neo4j.password },
        http: { port: 1 },
        auth: { tokens: [TOKEN] },
        deliveryMetrics: { enabled: false },
        eiffelApi,
      });
      const app = await NestFactory.create(ExplorerModule.forConfig(config), { logger: new JsonLogger('explorer', 'error') });
      await app.listen(0, '127.0.0.1');
      return [app, (await app.getUrl()).replace('[::1]', '127.0.0.1')];
    };
    [open, openUrl] = await explorer({ anonymousRead: true });
    [capped, cappedUrl] = await explorer({ anonymousRead: true, maxSearchEvents: 5 });
    [closed, closedUrl] = await explorer({ basePath: '/eventrepository/v1' });
    await publish(pipeline.events.map((e) => ({ body: JSON.stringify(e.event), site: `site-${e.site}` })));
    await waitUntil('the pipeline in the graph with its bodies', async () => (await stored([...byId.keys()])) === byId.size, 90_000);
  });

  after(async () => {
    await open?.close();
    await closed?.close();
    await capped?.close();
    await central?.stop();
    await driver?.close();
  });

  /** What a search should reach, computed from the events' own links (not from the code under test). */
  const reach = (start: string, direction: 'up' | 'down', levels = Number.POSITIVE_INFINITY): string[] => {
    const seen = new Set([start]);
    const out: string[] = [];
    let frontier = [start];
    for (let level = 0; level < levels && frontier.length; level++) {
      const next: string[] = [];
      for (const id of frontier) {
        const found =
          direction === 'up'
            ? (byId.get(id)?.links ?? []).map((l) => l.target)
            : events.filter((e) => e.links.some((l) => l.target === id)).map((e) => e.meta.id);
        for (const f of found) {
          if (!byId.has(f) || seen.has(f)) continue;
          seen.add(f);
          out.push(f);
          next.push(f);
        }
      }
      frontier = next;
    }
    return out;
  };
  /** Every event in EI's tree form, checking the form as UpStreamEventsHandler.traverseTree reads it. */
  const flatten = (tree: unknown): Json[] => {
    assert.ok(Array.isArray(tree), 'a tree is an array');
    const [head, ...rest] = tree as unknown[];
    assert.ok(head && typeof head === 'object' && !Array.isArray(head), 'its first element is an event');
    return [head as Json, ...rest.flatMap((x) => (Array.isArray(x) ? flatten(x) : [x as Json]))];
  };
  const idOf = (e: Json): string => (e['meta'] as { id: string }).id;
  /** EI's ERQueryService.sendRequestToER: POST <er.url><id>?limit=&levels=&tree= with SearchParameters.getAsJsonString(). */
  const eiSearch = (
    id: string,
    option: 'UP_STREAM' | 'DOWN_STREAM' | 'UP_AND_DOWN_STREAM',
    limit: number,
    levels: number,
    tree: boolean,
    url = openUrl,
  ) => {
    const all = '["ALL"]';
    const body =
      option === 'DOWN_STREAM'
        ? `{"dlt":${all},"ult":[]}`
        : option === 'UP_STREAM'
          ? `{"dlt":[],"ult":${all}}`
          : `{"dlt":${all},"ult":${all}}`;
    return fetch(`${url}/er/search/${id}?limit=${limit}&levels=${levels}&tree=${tree}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
  };

  const release = () => pipeline.releaseEvents[pipeline.releaseEvents.length - 1]!;
  const artifactEvent = (name: 'A1' | 'A2'): Ev =>
    events.find((e) => e.meta.type === 'EiffelArtifactCreatedEvent' && e.data['identity'] === pipeline.purls[name])!;

  it("answers EI's upstream request (UP_STREAM, limit=-1, levels=-1, tree=true) with the whole upstream tree", async () => {
    // EI: UpStreamEventsHandler.runHistoryExtractionRulesOnAllUpstreamEvents calls getEventStreamDataById(id, UP_STREAM, -1, -1, true)
    // and reads searchResult.get("upstreamLinkObjects") as an array whose element 0 is the start event (traverseTree).
    const id = release();
    const res = await eiSearch(id, 'UP_STREAM', -1, -1, true);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { upstreamLinkObjects: unknown; downstreamLinkObjects: unknown };
    assert.deepEqual(Object.keys(body).sort(), ['downstreamLinkObjects', 'upstreamLinkObjects']);
    const all = flatten(body.upstreamLinkObjects);
    assert.equal(idOf(all[0]!), id, 'the start event comes first');
    assert.deepEqual(all.map(idOf).slice(1).sort(), reach(id, 'up').sort());
    for (const e of all) assert.deepEqual(e, byId.get(idOf(e)), 'each event exactly as published');
    // EI's own tests stub the other direction as an empty array (UpStreamEventHandlerTest and friends).
    assert.deepEqual(body.downstreamLinkObjects, []);
  });

  it('answers DOWN_STREAM and UP_AND_DOWN_STREAM the same way, each direction by its own link types', async () => {
    const id = artifactEvent('A1').meta.id;
    const down = (await (await eiSearch(id, 'DOWN_STREAM', -1, -1, true)).json()) as Record<string, unknown>;
    assert.deepEqual(down['upstreamLinkObjects'], []);
    assert.deepEqual(flatten(down['downstreamLinkObjects']).map(idOf).slice(1).sort(), reach(id, 'down').sort());
    const both = (await (await eiSearch(id, 'UP_AND_DOWN_STREAM', -1, -1, true)).json()) as Record<string, unknown>;
    assert.deepEqual(flatten(both['upstreamLinkObjects']).map(idOf).slice(1).sort(), reach(id, 'up').sort());
    assert.deepEqual(flatten(both['downstreamLinkObjects']).map(idOf).slice(1).sort(), reach(id, 'down').sort());
  });

  it('bounds a search by levels and limit; tree=false gives flat lists, the searched event first', async () => {
    const id = release();
    const one = (await (await eiSearch(id, 'UP_STREAM', -1, 1, false)).json()) as { upstreamLinkObjects: Json[] };
    // goer's OpenAPI document, POST /search/{id} 200: upstreamLinkObjects "The searched event + all upsteam events".
    assert.equal(idOf(one.upstreamLinkObjects[0]!), id);
    assert.deepEqual(one.upstreamLinkObjects.slice(1).map(idOf).sort(), reach(id, 'up', 1).sort());
    const limited = (await (await eiSearch(id, 'UP_STREAM', 2, -1, false)).json()) as { upstreamLinkObjects: Json[] };
    assert.equal(limited.upstreamLinkObjects.length, 3, 'the searched event and two more');
    for (const e of limited.upstreamLinkObjects.slice(1)) assert.ok(reach(id, 'up').includes(idOf(e)));
  });

  it('refuses an unbounded search past its safety cap with a clear error, and serves the bounded one', async () => {
    // The event that reaches the most, in either direction, from the pipeline's own links.
    const [id, option, reached] = events
      .flatMap((e) => [
        [e.meta.id, 'UP_STREAM', reach(e.meta.id, 'up').length] as const,
        [e.meta.id, 'DOWN_STREAM', reach(e.meta.id, 'down').length] as const,
      ])
      .sort((x, y) => y[2] - x[2])[0]!;
    assert.ok(reached > 5, `precondition: some event reaches more than the cap of 5 set for the capped explorer (best: ${reached})`);
    const res = await eiSearch(id, option, -1, -1, false, cappedUrl);
    assert.equal(res.status, 422);
    assert.match(((await res.json()) as { errorMsg: string }).errorMsg, /more than 5 events.*limit/);
    assert.equal((await eiSearch(id, option, 5, -1, false, cappedUrl)).status, 200);
  });

  it('GET /events/{id} returns the event exactly as published; an unknown id is a 404 with a JSON body', async () => {
    const e = artifactEvent('A2');
    const res = await fetch(`${openUrl}/er/events/${e.meta.id}?shallow=true&readable=false&somethingElse=1`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), e);
    const missing = await fetch(`${openUrl}/er/events/00000000-0000-4000-8000-${randomBytes(6).toString('hex')}`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /application\/json/);
    // goer's OpenAPI document, GET /events/{id} 404: {"errorMsg": "The requested event is not found"}
    assert.match(((await missing.json()) as { errorMsg: string }).errorMsg, /The requested event is not found/);
  });

  it("filters on any dotted path with goer's comparators, and pages as goer documents", async () => {
    const a1 = artifactEvent('A1');
    // goer's OpenAPI document, GET /events, parameter params: "/events/?meta.source.domainId=my.domain&data.identity=pkg:maven/…"
    const q = `meta.source.domainId=explorer.test&data.identity=${encodeURIComponent(pipeline.purls.A1)}`;
    const page = (await (await fetch(`${openUrl}/er/events?${q}`)).json()) as Json;
    // response 200 schema: {pageNo: integer, pageSize: integer, totalNumberItems: integer, items: array of objects}
    assert.deepEqual(Object.keys(page).sort(), ['items', 'pageNo', 'pageSize', 'totalNumberItems']);
    assert.deepEqual(page, { pageNo: 1, pageSize: 500, totalNumberItems: 1, items: [a1] });

    const mine = events.filter((e) => e.meta.type === 'EiffelArtifactCreatedEvent').sort((x, y) => x.meta.time - y.meta.time);
    assert.ok(mine.length >= 4);
    // a regular expression is a partial match (document: "data.identity=my.namespace/.*@1.0.0")
    const base = `meta.type=EiffelArtifactCreatedEvent&data.identity=${encodeURIComponent(`com.example.${run}/.*@1.0.0`)}`;
    const pages: Json[][] = [];
    for (let pageNo = 1; pageNo <= 3; pageNo++) {
      const p = (await (await fetch(`${openUrl}/er/events?${base}&pageNo=${pageNo}&pageSize=2&lazy=true&readable=false`)).json()) as Json;
      assert.equal(p['pageNo'], pageNo);
      assert.equal(p['pageSize'], 2);
      assert.equal(p['totalNumberItems'], mine.length);
      pages.push(p['items'] as Json[]);
    }
    assert.deepEqual(pages.flat().map(idOf), mine.map((e) => e.meta.id).slice(0, 6));
    const skipped = (await (await fetch(`${openUrl}/er/events?${base}&pageSize=2&pageStartItem=2`)).json()) as Json;
    assert.deepEqual(
      (skipped['items'] as Json[]).map(idOf),
      mine.slice(1, 3).map((e) => e.meta.id),
    );
    const later = (await (
      await fetch(`${openUrl}/er/events?${base}&int(meta.time)>=${mine[1]!.meta.time}&!data.customData`)
    ).json()) as Json;
    assert.deepEqual(
      (later['items'] as Json[]).map(idOf),
      mine.slice(1).map((e) => e.meta.id),
    );
    const readable = (await (await fetch(`${openUrl}/er/events/${mine[0]!.meta.id}?readable=true`)).json()) as Json;
    assert.equal((readable['meta'] as Json)['time'], new Date(mine[0]!.meta.time).toISOString());
    const links = (await (
      await fetch(`${openUrl}/er/events?links.target=${mine[0]!.links[0]!.target}&meta.type=EiffelArtifactCreatedEvent`)
    ).json()) as Json;
    assert.ok((links['items'] as Json[]).map(idOf).includes(mine[0]!.meta.id));
  });

  it("keeps a filter value such as x') DETACH DELETE n // as data, not Cypher", async () => {
    const before = Number((await driver.executeQuery('MATCH (e:Event) RETURN count(e) AS n')).records[0]!.get('n'));
    const hostile = encodeURIComponent("x') DETACH DELETE n //");
    for (const q of [
      `meta.type=${hostile}`,
      `data.identity=${hostile}`,
      `meta.id=${hostile}`,
      `links.target=${hostile}`,
      `meta.type!=${hostile}&data.identity=${hostile}`,
    ]) {
      const res = await fetch(`${openUrl}/er/events?${q}`);
      assert.equal(res.status, 200, q);
      const body = (await res.json()) as Json;
      assert.equal(body['totalNumberItems'], 0, q);
      assert.deepEqual(body['items'], []);
    }
    assert.equal(
      (
        await fetch(`${openUrl}/er/search/${hostile}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"ult":["ALL"]}',
        })
      ).status,
      404,
    );
    const afterCount = Number((await driver.executeQuery('MATCH (e:Event) RETURN count(e) AS n')).records[0]!.get('n'));
    assert.ok(afterCount >= before, `no event deleted (${before} before, ${afterCount} after)`);
    assert.equal(await stored([...byId.keys()]), byId.size);
  });

  it('opens the ER routes to anonymous readers only when configured; everything else keeps its tokens', async () => {
    const id = artifactEvent('A1').meta.id;
    assert.equal((await fetch(`${openUrl}/api/v1/events/${id}`)).status, 401, 'the rest of the API still needs a token');
    assert.equal((await fetch(`${closedUrl}/eventrepository/v1/events/${id}`)).status, 401, 'anonymousRead is off by default');
    const withToken = await fetch(`${closedUrl}/eventrepository/v1/events/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(withToken.status, 200, 'the configured base path, with a token');
    assert.equal((await fetch(`${closedUrl}/er/events/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
  });

  it('rejects bad paging and link types with a message naming the parameter', async () => {
    const res = await fetch(`${openUrl}/er/events?pageSize=-5`);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { errorMsg: string }).errorMsg, /pageSize/);
    const bad = await fetch(`${openUrl}/er/search/${release()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"dlt":["cause; drop"]}',
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { errorMsg: string }).errorMsg, /dlt/);
  });

  it('returns every published example exactly as published, and its body byte for byte at /api/v1/events/{id}/raw', async () => {
    const dir = join(sharedDir(), 'fixtures', 'eiffel', 'examples');
    let checked = 0;
    for (const type of readdirSync(dir).sort()) {
      for (const file of readdirSync(join(dir, type))
        .filter((f) => f.endsWith('.json'))
        .sort()) {
        const text = readFileSync(join(dir, type, file), 'utf8');
        const example = JSON.parse(text) as { meta: { id: string } };
        // The examples share their placeholder ids: each one is stored alone, then removed, so it is the first with its id.
        await driver.executeQuery('MATCH (e:Event {id: $id}) DETACH DELETE e', { id: example.meta.id });
        await publish([{ body: text, site: 'site-a' }]);
        await waitUntil(`${type}/${file} in the graph`, async () => (await stored([example.meta.id])) === 1, 30_000, 100);
        const res = await fetch(`${openUrl}/er/events/${example.meta.id}`);
        assert.equal(res.status, 200, `${type}/${file}`);
        assert.deepEqual(await res.json(), example, `${type}/${file}`);
        const raw = await fetch(`${openUrl}/api/v1/events/${example.meta.id}/raw`, { headers: { authorization: `Bearer ${TOKEN}` } });
        assert.equal(await raw.text(), text, `${type}/${file} byte for byte`);
        checked++;
      }
    }
    await driver.executeQuery('MATCH (e:Event {id: $id}) DETACH DELETE e', { id: 'aaaaaaaa-bbbb-5ccc-8ddd-eeeeeeeeeee0' });
    assert.ok(checked >= 30, `${checked} examples`);
  });
});
