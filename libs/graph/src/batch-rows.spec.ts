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
    assert.deepEqual(
      rows.links.map((l) => l.type),
      ['CAUSE', 'CONTEXT'],
    );
    const artifacts = rows.aliased.get('Artifact')!;
    assert.equal(artifacts.length, 1);
    assert.equal(rows.entities.get('Artifact'), undefined);
    assert.deepEqual(artifacts[0]!.about, [
      { event: 'e1', role: 'created' },
      { event: 'e2', role: 'created' },
    ]);
  });

  it('joins the rows of entities that share any key, best key first, whatever order the events came in', () => {
    const purlOnly: TraceEvent = {
      ...base,
      id: 'n1',
      about: [{ entity: { label: 'Artifact', key: 'purl:pkg:maven/a/b@1' }, role: 'published' }],
      entities: [{ label: 'Artifact', key: 'purl:pkg:maven/a/b@1', props: { repository: 'releases' } }],
    };
    const digestOnly: TraceEvent = {
      ...base,
      id: 'n2',
      about: [{ entity: { label: 'Artifact', key: 'sha256:ab' }, role: 'deployed' }],
      entities: [{ label: 'Artifact', key: 'sha256:ab', props: {} }],
    };
    const bridge: TraceEvent = {
      ...base,
      id: 'n3',
      about: [{ entity: { label: 'Artifact', key: 'sha256:ab' }, role: 'copied' }],
      entities: [{ label: 'Artifact', key: 'sha256:ab', props: { size: 3 }, aliases: ['path:libs/a/b/1/b-1.jar', 'purl:pkg:maven/a/b@1'] }],
    };
    const other: TraceEvent = {
      ...base,
      id: 'n4',
      about: [{ entity: { label: 'Artifact', key: 'purl:pkg:npm/x@1' }, role: 'published' }],
      entities: [{ label: 'Artifact', key: 'purl:pkg:npm/x@1', props: {} }],
    };
    for (const order of [
      [purlOnly, digestOnly, bridge, other],
      [bridge, other, digestOnly, purlOnly],
      [other, digestOnly, purlOnly, bridge],
    ]) {
      const rows = toBatchRows(order).aliased.get('Artifact')!;
      assert.equal(rows.length, 2);
      const joined = rows.find((r) => r.keys.includes('sha256:ab'))!;
      assert.deepEqual(joined.keys, ['sha256:ab', 'purl:pkg:maven/a/b@1', 'path:libs/a/b/1/b-1.jar']);
      assert.deepEqual(joined.ids, ['Artifact|sha256:ab', 'Artifact|purl:pkg:maven/a/b@1', 'Artifact|path:libs/a/b/1/b-1.jar']);
      assert.deepEqual(joined.about.map((a) => a.event).sort(), ['n1', 'n2', 'n3']);
    }
  });

  it('ranks a CI job#number build key before a run id, and leaves single-key labels alone', () => {
    const ev: TraceEvent = {
      ...base,
      about: [],
      entities: [
        { label: 'Build', key: 'tekton.example/run/77', props: {}, aliases: ['ci.example/app#12'] },
        { label: 'Commit', key: 'git.example/app@abc', props: {} },
      ],
    };
    const rows = toBatchRows([ev]);
    assert.deepEqual(rows.aliased.get('Build')![0]!.keys, ['ci.example/app#12', 'tekton.example/run/77']);
    assert.equal(rows.entities.get('Commit')!.length, 1);
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

describe('toBatchRows: bodies as received', () => {
  it('writes each body beside its event, with the outbox key, and the content hash does not depend on them', () => {
    const raw = '{"meta":{"id":"e1"}}';
    const rows = toBatchRows([
      { ...base, raw, outbox: 'eiffel.artifact.EiffelArtifactCreatedEvent.notag.d' },
      { ...base, id: 'e2', raw },
    ]);
    assert.deepEqual(
      rows.raws.map((r) => [r['id'], r['raw'], r['outbox']]),
      [
        ['e1', raw, 'eiffel.artifact.EiffelArtifactCreatedEvent.notag.d'],
        ['e2', raw, null],
      ],
    );
    assert.equal(rows.raws[0]!['hash'], contentHash(base), 'the same hash as the event row, so a redelivery is still recognised');
    assert.equal(rows.raws[0]!['hash'], rows.events[0]!['hash']);
  });

  it('writes no body row for an event that came without one (an older caller)', () => {
    assert.deepEqual(toBatchRows([base]).raws, []);
  });
});
