import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage, validateEiffel } from '@not/events';
import { DEMO_PIPELINE, demoStart } from './demo.js';

describe('the demo pipeline', () => {
  it('is dated yesterday from 09:00 UTC, whatever day it is published', () => {
    assert.equal(demoStart(Date.UTC(2027, 0, 1, 0, 30)), Date.UTC(2026, 11, 31, 9, 0));
    assert.equal(demoStart(Date.UTC(2027, 2, 1, 23, 59)), Date.UTC(2027, 1, 28, 9, 0));
    const times = DEMO_PIPELINE.map((d) => (d.event.meta as { time: number }).time);
    const now = Date.now();
    assert.ok(
      times.every((t) => t < now && now - t < 3 * 86_400_000),
      'every event lies in the last three days, inside the default lead-time window',
    );
  });

  it('is valid Eiffel: every event passes its schema', () => {
    for (const d of DEMO_PIPELINE) {
      assert.deepEqual(validateEiffel(d.event), [], String((d.event.meta as { type: string }).type));
    }
  });

  it('reaches a release and a production deployment, so lead time and DORA have figures after npm start', () => {
    const stages = DEMO_PIPELINE.map((d) => {
      const site = d.site === 'first' ? 'site-a' : 'site-b';
      const r = parseMessage({ body: Buffer.from(JSON.stringify(d.event)), headers: {}, routingKey: `site.${site}.ci.eiffel` });
      assert.ok(r.ok, JSON.stringify(r));
      return r.ok ? r.events.map((e) => e.stage) : [];
    }).flat();
    for (const stage of ['commit', 'merge', 'build', 'artifact', 'test', 'promotion', 'publication', 'release', 'deployment'] as const) {
      assert.ok(stages.includes(stage), `a ${stage} event`);
    }
  });
});
