import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceEvent } from '@not/events';
import { cdeventsJoinRows } from './cdevents-links.js';

const event = (id: string, links: TraceEvent['links'], props: TraceEvent['props'] = {}): TraceEvent => ({
  id,
  type: 'dev.cdevents.testsuiterun.finished.0.3.0',
  stage: 'test',
  time: '2026-01-01T00:00:00.000Z',
  site: 'site-a',
  source: 'tests',
  format: 'cdevents',
  props,
  links,
  about: [],
  entities: [],
  relations: [],
});

describe('cdeventsJoinRows', () => {
  const ci = '5328c37f-bb7e-4bb7-84ea-9f5f85e4a7ce';

  it('takes every link to a CDEvents id with the linking event chain, and every CDEvent by its context id', () => {
    const rows = cdeventsJoinRows([
      event(
        'cdevents:/testkube|271069a8-fc18-44f1-b38f-9d70a1695819',
        [
          { type: 'TRIGGER', target: `cdevents:/testkube|${ci}` },
          { type: 'PATH', target: 'cdevents:/testkube|run-7' },
        ],
        { chainId: '4c8cb7dd-3448-41de-8768-eec704e2829b' },
      ),
    ]);
    assert.deepEqual(rows.links, [
      {
        from: 'cdevents:/testkube|271069a8-fc18-44f1-b38f-9d70a1695819',
        to: `cdevents:/testkube|${ci}`,
        type: 'TRIGGER',
        contextId: ci,
        chainId: '4c8cb7dd-3448-41de-8768-eec704e2829b',
        global: true,
      },
      {
        from: 'cdevents:/testkube|271069a8-fc18-44f1-b38f-9d70a1695819',
        to: 'cdevents:/testkube|run-7',
        type: 'PATH',
        contextId: 'run-7',
        chainId: '4c8cb7dd-3448-41de-8768-eec704e2829b',
        global: false,
      },
    ]);
    assert.deepEqual(rows.events, [
      { id: 'cdevents:/testkube|271069a8-fc18-44f1-b38f-9d70a1695819', contextId: '271069a8-fc18-44f1-b38f-9d70a1695819', global: true },
    ]);
    assert.deepEqual(rows.contextIds, ['271069a8-fc18-44f1-b38f-9d70a1695819', ci, 'run-7']);
  });

  it('leaves out other formats, links to other ids and short ids outside a chain; a batch without CDEvents needs no join', () => {
    const eiffel = { ...event('e1', [{ type: 'CAUSE', target: 'e0' }]), format: 'eiffel' as const };
    assert.deepEqual(cdeventsJoinRows([eiffel]), { links: [], events: [], contextIds: [] });
    // Without a chain, only UUIDs can join another source's event.
    const noChain = cdeventsJoinRows([
      event('cdevents:/a|1', [
        { type: 'PATH', target: 'cdevents:/a|0' },
        { type: 'TRIGGER', target: `cdevents:/a|${ci}` },
      ]),
    ]);
    assert.deepEqual(noChain.events, []);
    assert.deepEqual(
      noChain.links.map((l) => [l.type, l.chainId, l.global]),
      [['TRIGGER', null, true]],
    );
    assert.deepEqual(noChain.contextIds, [ci]);
  });
});
