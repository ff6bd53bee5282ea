import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from './parse.js';
import { realisticChanges } from './synthetic-stream.js';

describe('realistic stream for benchmarks', () => {
  const options = { seed: 'spec', repositories: 5, areas: 2, releaseEvery: 2 };
  const stream = realisticChanges(options, 0, 60);

  it('sends only events that pass the official Eiffel schemas and parse', () => {
    for (const e of stream) {
      const r = parseMessage(
        { body: Buffer.from(JSON.stringify(e.event)), headers: {}, routingKey: `site.site-${e.site}.ci.eiffel` },
        { eiffelSchema: 'reject' },
      );
      assert.ok(r.ok, `${e.event.meta.type}: ${r.ok ? '' : JSON.stringify(r.rejection)}`);
    }
  });

  it('gives every change its own commits, builds and artifact, and continues where the last call stopped', () => {
    const ids = new Set(stream.map((e) => e.event.meta.id));
    assert.equal(ids.size, stream.length, 'no id twice');
    const next = realisticChanges(options, 60, 10);
    for (const e of next) assert.ok(!ids.has(e.event.meta.id), 'a later call brings new ids');
    assert.deepEqual(realisticChanges(options, 0, 60), stream, 'deterministic');
    const shas = stream
      .filter((e) => e.event.meta.type === 'EiffelSourceChangeCreatedEvent')
      .map((e) => (e.event.data['gitIdentifier'] as { commitId: string }).commitId);
    assert.equal(new Set(shas).size, shas.length);
    assert.ok(shas.length >= 60 && shas.length <= 180, `1 to 3 commits per change: ${shas.length}`);
    const digests = stream
      .filter((e) => e.event.meta.type === 'EiffelArtifactCreatedEvent')
      .map((e) => (e.event.data['fileInformation'] as Array<{ integrityProtection: { digest: string } }>)[0]!.integrityProtection.digest);
    assert.equal(digests.length, 60, 'one artifact per change');
    assert.equal(new Set(digests).size, 60);
  });

  it('links only to events of the stream, some sent before their targets, with builds and tests at different sites', () => {
    const position = new Map(stream.map((e, i) => [e.event.meta.id, i]));
    let early = 0;
    for (const [i, e] of stream.entries()) {
      for (const l of e.event.links) {
        const at = position.get(l.target);
        assert.ok(at !== undefined, `${e.event.meta.type} ${l.type} links inside the stream`);
        if (at > i) early++;
      }
    }
    assert.ok(early > 0, 'some events arrive before what they link to');
    const sitesOf = (type: string) => new Set(stream.filter((e) => e.event.meta.type === type).map((e) => e.site));
    assert.deepEqual([...sitesOf('EiffelTestSuiteStartedEvent')].sort(), [0, 1]);
    const crossSite = stream
      .filter((e) => e.event.meta.type === 'EiffelTestSuiteStartedEvent')
      .every((t) => {
        const art = stream[position.get(t.event.links[0]!.target)!]!;
        return art.site !== t.site;
      });
    assert.ok(crossSite, 'tests run at another site than the build');
  });

  it('shares work items between a few changes and releases each repository now and then', () => {
    // Each merged commit's change resolves its work item (an EiffelIssueDefinedEvent) in part.
    const items = new Map<string, number>();
    for (const e of stream.filter((x) => x.event.meta.type === 'EiffelSourceChangeSubmittedEvent')) {
      const scc = stream.find((x) => x.event.meta.id === e.event.links[0]!.target)!;
      const issue = scc.event.links.find((l) => l.type === 'PARTIALLY_RESOLVED_ISSUE')!.target;
      const key = String(stream.find((x) => x.event.meta.id === issue)!.event.data['id']);
      items.set(key, (items.get(key) ?? 0) + 1);
    }
    assert.equal(items.size, 20);
    assert.deepEqual(new Set(items.values()), new Set([3]), 'three changes per work item');
    const releases = stream.filter((e) => e.event.meta.type === 'EiffelCompositionDefinedEvent');
    // Changes 5..9 (second round of each repository) and 15..19, ... : every second round releases.
    assert.equal(releases.length, 30);
    assert.ok(
      releases.some((r) => r.event.links.length > 1),
      'a release holds earlier artifacts of its repository too',
    );
  });
});
