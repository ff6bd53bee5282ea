import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseMessage } from '../parse.js';
import { accepted, clone, eiffelExamples, eiffelFixturesDir, message, readJson, single } from '../testing/fixtures.js';

const reference = readJson(join(eiffelFixturesDir(), 'reference-50.json')) as Record<string, any>[];

function eiffel(body: unknown, headers?: Record<string, unknown>) {
  return parseMessage(message('eiffel', body, { headers }));
}

/** A small valid event of the current ArtifactCreated version, for variants. */
function artifactCreated(over: Record<string, unknown> = {}) {
  return {
    meta: { type: 'EiffelArtifactCreatedEvent', version: '4.0.2', time: 1700000000000, id: '6f2d3c1e-1b2a-4c3d-8e4f-0123456789ab' },
    data: { identity: 'pkg:maven/com.example/app@1.2.3' },
    links: [],
    ...over,
  };
}

describe('Eiffel parser', () => {
  it('parses every official example with its id, type and time', () => {
    const examples = eiffelExamples();
    assert.ok(examples.length >= 30);
    for (const ex of examples) {
      const ev = single(eiffel(ex.event));
      const meta = ex.event['meta'] as { id: string; type: string; time: number };
      assert.equal(ev.id, meta.id, ex.file);
      assert.equal(ev.type, meta.type);
      assert.equal(ev.time, new Date(meta.time).toISOString());
      assert.equal(ev.format, 'eiffel');
      assert.equal(ev.site, 'lund');
      assert.equal(ev.source, 'ci1');
    }
  });

  it('turns every link of every example into one edge to the same target', () => {
    for (const ex of eiffelExamples()) {
      const ev = single(eiffel(ex.event));
      const links = ex.event['links'] as { type: string; target: string }[];
      assert.deepEqual(
        ev.links.map((l) => [l.type, l.target]),
        links.map((l) => [l.type, l.target]),
        `${ex.type}/${ex.file}`,
      );
    }
  });

  it('parses the reference stream with no rejections and edges equal to its links, one for one', () => {
    let edges = 0;
    let linkCount = 0;
    for (const e of reference) {
      const r = eiffel(e);
      const ev = single(r);
      assert.equal(ev.id, e['meta'].id);
      const expected = (e['links'] as { type: string; target: string }[]).map((l) => `${l.type}>${l.target}`).sort();
      const got = ev.links.map((l) => `${l.type}>${l.target}`).sort();
      assert.deepEqual(got, expected, e['meta'].id);
      assert.ok(
        ev.links.every((l) => l.illegal === undefined),
        `no illegal links in ${e['meta'].id}`,
      );
      edges += ev.links.length;
      linkCount += e['links'].length;
    }
    assert.equal(edges, linkCount);
    assert.equal(reference.length, 2242);
  });

  it('accepts the whole reference stream as one batch in the same order', () => {
    const events = accepted(eiffel(reference));
    assert.deepEqual(
      events.map((e) => e.id),
      reference.map((e) => e['meta'].id),
    );
  });

  it('keeps a link whose target is unknown', () => {
    const ev = single(eiffel(artifactCreated({ links: [{ type: 'CAUSE', target: '00000000-0000-4000-8000-000000000000' }] })));
    assert.deepEqual(ev.links, [{ type: 'CAUSE', target: '00000000-0000-4000-8000-000000000000' }]);
  });

  it('accepts an unknown event type as a generic event with its links', () => {
    const ev = single(
      eiffel({
        meta: { type: 'EiffelSomethingNewEvent', version: '1.0.0', time: 1700000000000, id: 'x-1' },
        data: { anything: { nested: true } },
        links: [
          { type: 'CAUSE', target: 'y-2' },
          { type: 'NEW_KIND', target: 'z-3' },
        ],
      }),
    );
    assert.equal(ev.type, 'EiffelSomethingNewEvent');
    assert.equal(ev.stage, 'other');
    assert.equal(ev.props['knownType'], false);
    assert.equal(ev.props['unmodelled'], true);
    assert.deepEqual(ev.links, [
      { type: 'CAUSE', target: 'y-2' },
      { type: 'NEW_KIND', target: 'z-3' },
    ]);
  });

  it('accepts a newer version of a known type without checking it against the older schema', () => {
    const ev = single(
      eiffel(artifactCreated({ meta: { ...artifactCreated().meta, version: '9.0.0' }, data: { identity: 'pkg:npm/x@1', newField: 1 } })),
    );
    assert.equal(ev.props['version'], '9.0.0');
  });

  it('keeps a link of a type the event may not have, flagged with why', () => {
    const ev = single(eiffel(artifactCreated({ links: [{ type: 'ARTIFACT', target: '6f2d3c1e-1b2a-4c3d-8e4f-0123456789ac' }] })));
    assert.equal(ev.links.length, 1);
    assert.match(ev.links[0]!.illegal ?? '', /may not have a ARTIFACT link/);
  });

  it('flags a second link of a type the tables allow only once', () => {
    const ev = single(
      eiffel(
        artifactCreated({
          links: [
            { type: 'COMPOSITION', target: '6f2d3c1e-1b2a-4c3d-8e4f-0123456789ac' },
            { type: 'COMPOSITION', target: '6f2d3c1e-1b2a-4c3d-8e4f-0123456789ad' },
          ],
        }),
      ),
    );
    assert.equal(ev.links.length, 2);
    assert.ok(ev.links.every((l) => /at most one COMPOSITION/.test(l.illegal ?? '')));
  });

  it('accepts an event that lacks a required link, with a warning', () => {
    const r = eiffel({
      meta: { type: 'EiffelActivityFinishedEvent', version: '4.1.1', time: 1700000000000, id: '6f2d3c1e-1b2a-4c3d-8e4f-0123456789ab' },
      data: { outcome: { conclusion: 'SUCCESSFUL' } },
      links: [],
    });
    assert.ok(r.ok);
    assert.ok(r.warnings.some((w) => /ACTIVITY_EXECUTION/.test(w)));
    assert.deepEqual(single(r).props['missingLinks'], ['ACTIVITY_EXECUTION']);
  });

  it('stores a link type that is not an identifier under a safe name, flagged', () => {
    const ev = single(
      eiffel(artifactCreated({ meta: { ...artifactCreated().meta, version: '1.0.0' }, links: [{ type: 'weird-link', target: 'a' }] })),
    );
    assert.equal(ev.links[0]!.type, 'WEIRD_LINK');
    assert.match(ev.links[0]!.illegal ?? '', /not an upper-case identifier/);
  });

  it('rejects an event without meta.id, naming the field', () => {
    const e = artifactCreated();
    delete (e.meta as Partial<typeof e.meta>).id;
    const r = eiffel(e);
    assert.deepEqual(r.ok ? null : r.rejection.field, 'meta.id');
  });

  it('rejects a meta.time that is not a number', () => {
    const r = eiffel(artifactCreated({ meta: { ...artifactCreated().meta, time: 'yesterday' } }));
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, 'meta.time');
    assert.match(r.rejection.reason, /expected a number, got a string/);
  });

  it('rejects links that are not an array', () => {
    const r = eiffel(artifactCreated({ links: { type: 'CAUSE' } }));
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, 'links');
  });

  it('rejects a current-version event that breaks its official schema, naming the field', () => {
    const r = eiffel(artifactCreated({ data: { identity: 'not-a-purl' } }));
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, 'data.identity');
    assert.match(r.rejection.reason, /pattern/);
  });

  it('accepts a schema-breaking current-version event with a warning when told to', () => {
    const r = parseMessage(message('eiffel', artifactCreated({ data: { identity: 'not-a-purl' } })), { eiffelSchema: 'warn' });
    assert.ok(r.ok);
    assert.ok(r.warnings.some((w) => w.startsWith('data.identity')));
  });

  it('names the array index of the bad event in a batch', () => {
    const bad = artifactCreated();
    (bad.meta as Record<string, unknown>)['type'] = 42;
    const r = eiffel([artifactCreated(), bad]);
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, '[1].meta.type');
  });
});

describe('Eiffel entities', () => {
  it('keys the commit of a source change by normalised repository and sha', () => {
    const ex = eiffelExamples().find((e) => e.type === 'EiffelSourceChangeCreatedEvent')!;
    const ev = single(eiffel(ex.event));
    const commit = ev.entities.find((e) => e.label === 'Commit');
    assert.equal(commit?.key, 'github.com/johndoe/myprivaterepo@fd090b60a4aedc5161da9c035a49b14a319829b4');
    assert.ok(ev.entities.some((e) => e.label === 'Repository' && e.key === 'github.com/johndoe/myprivaterepo'));
    assert.ok(ev.relations.some((r) => r.type === 'IN_REPOSITORY' && r.from.key === commit?.key));
    assert.ok(ev.about.some((a) => a.entity.key === commit?.key && a.role === 'created'));
    assert.equal(ev.stage, 'commit');
  });

  it('keys an artifact by its sha-256 digest and keeps the purl as an alias', () => {
    const ex = eiffelExamples().find((e) => e.file === 'checksum.json')!;
    const art = single(eiffel(ex.event)).entities.find((e) => e.label === 'Artifact');
    assert.equal(art?.key, 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.deepEqual(art?.aliases, ['purl:pkg:generic/empty-file']);
  });

  it('keys a maven artifact by purl with the GAV as alias', () => {
    const art = single(eiffel(artifactCreated())).entities.find((e) => e.label === 'Artifact');
    assert.equal(art?.key, 'purl:pkg:maven/com.example/app@1.2.3');
    assert.deepEqual(art?.aliases, ['gav:com.example:app:1.2.3']);
  });

  it('gives the triggered, started and finished events of one activity the same build', () => {
    const byId = new Map(reference.map((e) => [e['meta'].id as string, e]));
    const fin = reference.find((e) => e['meta'].type === 'EiffelActivityFinishedEvent')!;
    const trig = byId.get(fin['links'].find((l: { type: string }) => l.type === 'ACTIVITY_EXECUTION').target)!;
    const a = single(eiffel(fin)).about.find((x) => x.entity.label === 'Build');
    const b = single(eiffel(trig)).about.find((x) => x.entity.label === 'Build');
    assert.ok(a && b);
    assert.equal(a.entity.key, b.entity.key);
    assert.equal(single(eiffel(fin)).outcome, 'success');
  });

  it('maps a Jenkins execution URI of an activity to the Jenkins build key as an alias', () => {
    const ev = single(
      eiffel({
        meta: { type: 'EiffelActivityStartedEvent', version: '1.0.0', time: 1700000000000, id: 'a1' },
        data: { executionUri: 'https://ci.example.com/jenkins/job/team/job/app/42/' },
        links: [{ type: 'ACTIVITY_EXECUTION', target: 't1' }],
      }),
    );
    const build = ev.entities.find((e) => e.label === 'Build');
    assert.equal(build?.key, 'eiffel/run/t1');
    assert.deepEqual(build?.aliases, ['ci.example.com/jenkins/team/app#42']);
  });

  it('gives a composition a release and a confidence level its outcome', () => {
    const cd = reference.find((e) => e['meta'].type === 'EiffelCompositionDefinedEvent')!;
    const ev = single(eiffel(cd));
    assert.ok(ev.entities.some((e) => e.label === 'Release' && e.key === `${cd['data'].name}@${cd['data'].version}`));
    const clm = single(eiffel(clone(reference.find((e) => e['meta'].type === 'EiffelConfidenceLevelModifiedEvent')!)));
    assert.equal(clm.stage, 'promotion');
    assert.equal(clm.outcome, 'success');
  });

  it('gives a failed test case a failure outcome on its test run', () => {
    const tcf = clone(reference.find((e) => e['meta'].type === 'EiffelTestCaseFinishedEvent')!);
    tcf['data'].outcome = { verdict: 'FAILED', conclusion: 'SUCCESSFUL' };
    const ev = single(eiffel(tcf));
    assert.equal(ev.outcome, 'failure');
    assert.equal(ev.entities.find((e) => e.label === 'TestRun')?.props['result'], 'failure');
  });

  it('aliases an activity to the Jenkins build its executionUri names, without the port', () => {
    const ex = eiffelExamples().find((e) => e.type === 'EiffelActivityStartedEvent')!;
    const event = clone(ex.event) as { data: { executionUri: string } };
    event.data.executionUri = 'http://jenkins.example.org:8080/job/x/7/';
    const ev = single(parseMessage(message('eiffel', event)));
    const build = ev.entities.find((e) => e.label === 'Build');
    assert.deepEqual(build?.aliases, ['jenkins.example.org/x#7']);
  });
});
