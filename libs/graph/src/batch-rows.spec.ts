import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceEvent } from '@not/events';
import { contentHash, toBatchRows } from './batch-rows.js';
import { cypherIdent } from './graph.schema.js';

const base: TraceEvent = {
  id: 'e1',
  type: 'EiffelArtifactCreatedEvent',
  stage: 'artifact',
  time: '2026-01-01T00:00:00.000Z',
  site: 'site-a',
  source: 'ci',
  format: 'eiffel',
  props: { number: 42, name: 'x' },
  links: [{ type: 'CAUSE', target: 'e0' }],
  about: [{ entity: { label: 'Artifact', key: 'purl:pkg:maven/a/b@1' }, role: 'created' }],
  entities: [{ label: 'Artifact', key: 'purl:pkg:maven/a/b@1', props: { purl: 'pkg:maven/a/b@1' } }],
  relations: [],
};

describe('toBatchRows', () => {
  it('keeps the first of two events with the same id in one batch and counts the other', () => {
    const rows = toBatchRows([base, { ...base }]);
    assert.equal(rows.events.length, 1);
    assert.equal(rows.duplicatesInBatch, 1);
  });

  it('keeps every link and groups entities by label with the events about them', () => {
    const rows = toBatchRows([base, { ...base, id: 'e2', links: [{ type: 'CONTEXT', target: 'e1' }] }]);
    assert.deepEqual(rows.links.map((l) => l.type), ['CAUSE', 'CONTEXT']);
    const artifacts = rows.entities.get('Artifact')!;
    assert.equal(artifacts.length, 1);
    assert.deepEqual(artifacts[0]!.about, [
      { event: 'e1', role: 'created' },
      { event: 'e2', role: 'created' },
    ]);
  });

  it('refuses a link type that is not a plain identifier', () => {
    assert.throws(() => toBatchRows([{ ...base, links: [{ type: 'CAUSE]->() DELETE n //', target: 'x' }] }]), /unsafe graph identifier/);
  });

  it('stores integers as Neo4j integers, not floats', () => {
    const rows = toBatchRows([base]);
    const props = rows.events[0]!.props as Record<string, unknown>;
    assert.equal(typeof props.number, 'object');
    assert.equal(String(props.number), '42');
  });
});

describe('contentHash', () => {
  it('is the same for a redelivery from another site and differs when the content differs', () => {
    assert.equal(contentHash(base), contentHash({ ...base, site: 'site-b' }));
    assert.notEqual(contentHash(base), contentHash({ ...base, props: { number: 43, name: 'x' } }));
  });
});

describe('cypherIdent', () => {
  it('refuses anything that could change the query text', () => {
    assert.equal(cypherIdent('CAUSE'), '`CAUSE`');
    assert.throws(() => cypherIdent('CAUSE]->() DETACH DELETE n //'), /unsafe graph identifier/);
  });
});
