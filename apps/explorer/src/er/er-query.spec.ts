import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesAll, parseEventsQuery, parseSearchQuery, QueryError } from './er-query.js';

const event = {
  meta: { id: 'e1', type: 'EiffelArtifactCreatedEvent', version: '3.0.0', time: 1234567890, source: { domainId: 'example.domain' } },
  data: { identity: 'pkg:maven/com.mycompany.myproduct/artifact-name@2.1.7', fileInformation: [{ name: 'a.jar' }] },
  links: [
    { type: 'CAUSE', target: 'aaaaaaaa-bbbb-5ccc-8ddd-eeeeeeeeeee0' },
    { type: 'CONTEXT', target: 'aaaaaaaa-bbbb-5ccc-8ddd-eeeeeeeeeee1' },
  ],
};

const filter = (q: string): boolean => matchesAll(event, parseEventsQuery(q, 10_000).conditions);

describe("Event Repository filters (goer's OpenAPI document, GET /events, parameter params)", () => {
  it('defaults paging as goer: pageNo 1, pageSize 500, pageStartItem 1', () => {
    assert.deepEqual(parseEventsQuery('', 10_000).page, { pageNo: 1, pageSize: 500, pageStartItem: 1, readable: false });
    assert.deepEqual(parseEventsQuery('pageNo=3&pageSize=20&pageStartItem=2&lazy=true&readable=true&shallow=false', 10_000).page, {
      pageNo: 3,
      pageSize: 20,
      pageStartItem: 2,
      readable: true,
    });
  });

  it('matches single keys and nested structures', () => {
    assert.ok(filter('meta.type=EiffelArtifactCreatedEvent'));
    assert.ok(!filter('meta.type=EiffelArtifactPublishedEvent'));
    assert.ok(filter('meta.source.domainId=example.domain&data.identity=pkg:maven/com.mycompany.myproduct/artifact-name@2.1.7'));
  });

  it('takes every comparator, URL-encoded or not, and several constraints on one key', () => {
    assert.ok(filter('meta.time>1234567889&meta.time<=1234567890&meta.time!=1'));
    assert.ok(filter('meta.time%3E1234567889&meta.time%3C1234567891'));
    assert.ok(!filter('meta.time>=1234567891'));
    assert.ok(filter('int(meta.time)>=1234567890&double(meta.time)<1234567890.5'));
    assert.ok(filter('meta.version!=2.0.0'));
  });

  it('treats a value with regular-expression characters as a partial match, as the document shows', () => {
    assert.ok(filter('data.identity=artifact-name@2.1.7'));
    assert.ok(filter('data.identity=com.mycompany.myproduct/.*@2.1.7'));
    assert.ok(!filter('data.identity=com.mycompany.myproduct/.*@9.9.9'));
    assert.ok(!filter('data.identity=artifact-name'), 'a plain value is compared whole');
  });

  it('has a field, or has not (key alone, !key)', () => {
    assert.ok(filter('data.identity'));
    assert.ok(filter('!data.customData'));
    assert.ok(!filter('data.customData'));
  });

  it('looks into arrays on a path (links.target is any link target)', () => {
    assert.ok(filter('links.target=aaaaaaaa-bbbb-5ccc-8ddd-eeeeeeeeeee1'));
    assert.ok(filter('links.type=CONTEXT&data.fileInformation.name=a.jar'));
  });

  it('keeps a hostile value as data: no match, no error', () => {
    assert.ok(!filter("data.identity=x') DETACH DELETE n //"));
    const { conditions } = parseEventsQuery(`meta.type=${encodeURIComponent("x') DETACH DELETE n //")}`, 10_000);
    assert.deepEqual(conditions[0], { path: ['meta', 'type'], op: '=', value: "x') DETACH DELETE n //", type: 'string' });
  });

  it('ignores parameters that are not paths into an event', () => {
    assert.deepEqual(parseEventsQuery('access_token=abc&foo=bar&utm_source=x', 10_000).conditions, []);
  });

  it('refuses bad paging and typed values with the parameter named', () => {
    assert.throws(
      () => parseEventsQuery('pageSize=-1', 10_000),
      (e: Error) => e instanceof QueryError && /pageSize/.test(e.message),
    );
    assert.throws(() => parseEventsQuery('pageSize=20000', 10_000), /pageSize must be between 1 and 10000/);
    assert.throws(() => parseEventsQuery('int(meta.time)>=soon', 10_000), /int\(meta.time\)/);
  });
});

describe('Event Repository search parameters', () => {
  it("reads EI's ERQueryService parameters (limit, levels, tree)", () => {
    assert.deepEqual(parseSearchQuery('limit=-1&levels=-1&tree=true'), { limit: -1, levels: -1, tree: true, readable: false });
    assert.deepEqual(parseSearchQuery('limit=10&levels=2&tree=false&shallow=true'), { limit: 10, levels: 2, tree: false, readable: false });
    assert.deepEqual(parseSearchQuery(''), { limit: -1, levels: -1, tree: false, readable: false });
    assert.throws(() => parseSearchQuery('levels=0'), /levels must be -1/);
  });
});
