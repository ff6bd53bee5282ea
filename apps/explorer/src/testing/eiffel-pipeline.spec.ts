import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '@not/events';
import { eiffelPipeline } from './eiffel-pipeline.js';

describe('the explorer test pipeline', () => {
  const p = eiffelPipeline('spec', Date.UTC(2030, 0, 1));

  it('is valid Eiffel that the parser accepts without warnings', () => {
    for (const { site, event } of p.events) {
      const r = parseMessage({ body: Buffer.from(JSON.stringify(event)), headers: {}, routingKey: `site.site-${site}.ci.eiffel` });
      assert.ok(r.ok, `${event.meta.type}: ${r.ok ? '' : r.rejection.reason} at ${r.ok ? '' : r.rejection.field}`);
      assert.deepEqual(r.warnings, [], event.meta.type);
    }
  });

  it('yields the artifact digests and work items the tests expect', () => {
    const keys = new Set<string>();
    for (const { site, event } of p.events) {
      const r = parseMessage({ body: Buffer.from(JSON.stringify(event)), headers: {}, routingKey: `site.site-${site}.ci.eiffel` });
      if (r.ok) for (const e of r.events) for (const x of e.entities) keys.add(`${x.label}|${x.key}`);
    }
    for (const a of Object.values(p.artifacts)) assert.ok(keys.has(`Artifact|${a}`), a);
    assert.ok(keys.has(`WorkItem|${p.commits.C1.workItem}`));
    assert.ok(keys.has(`Release|${p.product}@1.1`));
  });
});
