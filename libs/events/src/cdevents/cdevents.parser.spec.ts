import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../parse.js';
import { rejectsBadInput } from '../testing/bad-input.js';
import { accepted, localSamples, message, single } from '../testing/fixtures.js';

const samples = Object.fromEntries(localSamples('cdevents').map((s) => [s.file, s.json as any]));
const binaryHeaders = (body: any) => ({
  'cloudEvents:specversion': '1.0',
  'cloudEvents:id': body.context.id,
  'cloudEvents:source': body.context.source,
  'cloudEvents:type': body.context.type,
});
const parse = (body: unknown, headers: Record<string, unknown> = {}) => parseMessage(message('cdevents', body, { headers }));

/** A v0.4.1 CDEvent of the given type and subject content. */
function cdevent(type: string, subject: Record<string, unknown>, id = '3e1f0c2a-7b6d-4e5f-9a8b-1c2d3e4f5a6b') {
  return {
    context: { version: '0.4.1', id, source: '/tool/site-a', type, timestamp: '2024-05-01T12:00:00Z' },
    subject: { source: '/tool/site-a', ...subject },
  };
}

describe('CDEvents parser', () => {
  it('parses every sample', () => {
    assert.ok(Object.keys(samples).length >= 3);
    for (const [file, body] of Object.entries(samples)) {
      const headers = file.startsWith('binary') ? binaryHeaders(body) : {};
      const r = parse(body, headers);
      assert.ok(r.ok, `${file}: ${r.ok ? '' : r.rejection.reason}`);
    }
  });

  it('identifies an event by context source and id, in structured mode', () => {
    const ev = single(parse(samples['structured-pipelinerun-finished.json']));
    assert.equal(ev.id, 'cdevents:https://ci.lund.example.com/jenkins|0b0a3c7e-6d0f-4f5e-9a55-2a4f3e0c9d11');
    assert.equal(ev.type, 'dev.cdevents.pipelinerun.finished.0.2.0');
    assert.equal(ev.time, '2024-05-01T10:12:41.204Z');
    assert.equal(ev.props['mode'], 'structured');
    assert.equal(ev.props['chainId'], '5f0e2a4c-1b7d-4d7e-8f6a-9c3b2e1d0a99');
    assert.equal(ev.props['specVersion'], '0.4.1');
  });

  it('maps a finished pipeline run to a successful build that meets the Jenkins build of its URL', () => {
    const ev = single(parse(samples['structured-pipelinerun-finished.json']));
    assert.equal(ev.stage, 'build');
    assert.equal(ev.phase, 'finished');
    assert.equal(ev.outcome, 'success');
    const build = ev.entities.find((e) => e.label === 'Build');
    assert.equal(build?.key, 'ci.lund.example.com/jenkins/run/platform/app/main/128');
    assert.deepEqual(build?.aliases, ['ci.lund.example.com/jenkins/platform/app/main#128']);
  });

  it('turns RELATION links into edges typed by their kind and PATH links into PATH edges, by context id', () => {
    const ev = single(parse(samples['structured-pipelinerun-finished.json']));
    assert.deepEqual(ev.links, [
      { type: 'TRIGGER', target: 'cdevents:https://ci.lund.example.com/jenkins|2c7d9e10-3f4a-4b8c-9d2e-1a0b3c4d5e6f' },
      { type: 'PATH', target: 'cdevents:https://ci.lund.example.com/jenkins|7e6d5c4b-3a29-4817-8695-a4b3c2d1e0f9' },
    ]);
  });

  it('reads binary mode from cloudEvents: headers and a failed test case with its suite and environment', () => {
    const body = samples['binary-testcaserun-finished-fail.json'];
    const ev = single(parse(body, binaryHeaders(body)));
    assert.equal(ev.props['mode'], 'binary');
    assert.equal(ev.stage, 'test');
    assert.equal(ev.outcome, 'failure');
    assert.equal(ev.props['testName'], 'Login works');
    assert.ok(
      ev.about.some(
        (a) => a.role === 'run' && a.entity.label === 'TestRun' && a.entity.key === 'testkube/gbg-staging/run/login-e2e-run-4711',
      ),
    );
    assert.ok(ev.about.some((a) => a.role === 'test-suite-run' && a.entity.key === 'testkube/gbg-staging/run/smoke-suite-run-812'));
    assert.ok(ev.about.some((a) => a.role === 'environment' && a.entity.key === 'staging'));
    assert.deepEqual(
      ev.links.map((l) => l.type),
      ['TRIGGER', 'END'],
    );
  });

  for (const prefix of ['ce-', 'ce_', 'cloudEvents_']) {
    it(`accepts binary-mode headers prefixed ${prefix}`, () => {
      const body = samples['binary-testcaserun-finished-fail.json'];
      const ev = single(parse(body, { [`${prefix}specversion`]: '1.0', [`${prefix}id`]: body.context.id }));
      assert.equal(ev.props['mode'], 'binary');
    });
  }

  it('warns when the CloudEvents id differs from the CDEvent id, and keeps the CDEvent id', () => {
    const body = samples['binary-testcaserun-finished-fail.json'];
    const r = parse(body, { ...binaryHeaders(body), 'cloudEvents:id': 'other' });
    assert.ok(r.ok);
    assert.match(r.warnings.join('\n'), /differs/);
    assert.equal(r.events[0]!.id, 'cdevents:/testkube/gbg-staging|c3b1f7a2-8e4d-4f1a-b6c9-0d2e3f4a5b6c');
  });

  it('keys a deployed artifact by the digest in its purl and relates it to the environment', () => {
    const ev = single(parse(samples['structured-service-deployed.json']));
    assert.equal(ev.stage, 'deployment');
    assert.equal(ev.outcome, 'success');
    const art = ev.entities.find((e) => e.label === 'Artifact');
    assert.equal(art?.key, 'sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427');
    assert.ok(art?.aliases?.some((a) => a.startsWith('purl:pkg:oci/app@')));
    assert.ok(ev.relations.some((r) => r.type === 'DEPLOYED_TO' && r.from.key === art?.key && r.to.key === 'production'));
  });

  it('reads a bare CDEvent and keys a packaged maven artifact by purl with its GAV, and its change', () => {
    const ev = single(parse(samples['artifact-packaged-plain.json']));
    assert.equal(ev.props['mode'], 'plain');
    assert.equal(ev.stage, 'artifact');
    assert.equal(ev.phase, 'created');
    const art = ev.entities.find((e) => e.label === 'Artifact');
    assert.equal(art?.key, 'purl:pkg:maven/com.example.platform/app@1.4.0');
    assert.deepEqual(art?.aliases, ['gav:com.example.platform:app:1.4.0']);
    assert.ok(ev.entities.some((e) => e.label === 'Change' && e.key === 'github.com/acme/app!42'));
  });

  it('reads a batch, a merged change in its repository and a removal sent as data_base64', () => {
    const [merged, removed] = accepted(parse(samples['batch-change-merged-service-removed.json']));
    assert.equal(merged!.stage, 'merge');
    assert.equal(merged!.outcome, 'success');
    assert.equal(merged!.time, '2024-04-30T14:20:00.000Z');
    assert.ok(merged!.entities.some((e) => e.label === 'Change' && e.key === 'github.com/acme/app!42'));
    assert.equal(removed!.stage, 'deployment');
    assert.equal(removed!.phase, 'deleted');
    assert.equal(
      removed!.relations.some((r) => r.type === 'DEPLOYED_TO'),
      false,
    );
  });

  it('gives the same change the same key as the GitHub pull request parser', () => {
    const [merged] = accepted(parse(samples['batch-change-merged-service-removed.json']));
    assert.ok(merged!.entities.some((e) => e.key === 'github.com/acme/app!42'));
  });

  it('records a build that produced an artifact', () => {
    const ev = single(
      parse(cdevent('dev.cdevents.build.finished.0.2.0', { id: 'build-7', content: { artifactId: 'pkg:npm/%40acme/ui@2.0.1' } })),
    );
    assert.equal(ev.stage, 'build');
    assert.ok(
      ev.relations.some(
        (r) => r.type === 'PRODUCED' && r.from.key === 'tool/site-a/run/build-7' && r.to.key === 'purl:pkg:npm/%40acme/ui@2.0.1',
      ),
    );
  });

  it('records a task run under its pipeline run', () => {
    const ev = single(
      parse(cdevent('dev.cdevents.taskrun.started.0.2.0', { id: 'task-1', content: { taskName: 'lint', pipelineRun: { id: 'pr-9' } } })),
    );
    assert.equal(ev.phase, 'started');
    assert.ok(ev.about.some((a) => a.role === 'pipeline-run' && a.entity.key === 'tool/site-a/run/pr-9'));
  });

  it('maps environments, incidents and tickets', () => {
    const env = single(parse(cdevent('dev.cdevents.environment.deleted.0.2.0', { id: 'pr-42-preview', content: {} })));
    assert.equal(env.phase, 'deleted');
    assert.ok(env.entities.some((e) => e.label === 'Environment' && e.key === 'pr-42-preview'));
    const inc = single(
      parse(
        cdevent('dev.cdevents.incident.resolved.0.2.0', {
          id: 'inc-3',
          content: {
            environment: { id: 'production' },
            artifactId: 'pkg:oci/app@sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427',
          },
        }),
      ),
    );
    assert.equal(inc.outcome, 'success');
    assert.ok(inc.entities.some((e) => e.key === 'sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427'));
    const jira = single(
      parse(
        cdevent('dev.cdevents.ticket.closed.0.1.0', {
          id: 'PROJ-12',
          content: { summary: 'Retry uploads', resolution: 'completed', uri: 'https://jira.example.com/browse/PROJ-12' },
        }),
      ),
    );
    assert.equal(jira.stage, 'work-item');
    assert.equal(jira.outcome, 'success');
    assert.ok(jira.entities.some((e) => e.label === 'WorkItem' && e.key === 'PROJ-12'));
    const issue = single(
      parse(
        cdevent('dev.cdevents.ticket.created.0.1.0', {
          id: '77',
          content: { summary: 'Crash', uri: 'https://github.com/acme/app/issues/77' },
        }),
      ),
    );
    assert.ok(issue.entities.some((e) => e.label === 'WorkItem' && e.key === 'github.com/acme/app#77'));
  });

  it('maps test outcomes pass, fail, cancel and error', () => {
    const outcomes: Record<string, string> = { pass: 'success', fail: 'failure', cancel: 'canceled', error: 'error' };
    for (const [given, expected] of Object.entries(outcomes)) {
      const ev = single(parse(cdevent('dev.cdevents.testsuiterun.finished.0.2.0', { id: 's', content: { outcome: given } })));
      assert.equal(ev.outcome, expected, given);
    }
  });

  it('keeps an unknown subject and a custom (cdeventsx) type as generic events', () => {
    const unknown = single(parse(cdevent('dev.cdevents.changewindow.opened.0.1.0', { id: 'w', content: {} })));
    assert.equal(unknown.stage, 'other');
    const custom = single(parse(cdevent('dev.cdeventsx.acme-quota.exceeded.0.1.0', { id: 'q', content: {} })));
    assert.equal(custom.stage, 'other');
  });

  it('rejects a type that is not a CDEvents type, naming the field', () => {
    const r = parse(cdevent('com.example.thing.happened', { id: 'x', content: {} }));
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, 'context.type');
  });

  it('rejects a structured CloudEvent without data', () => {
    const { data: _data, ...envelope } = samples['structured-service-deployed.json'];
    const r = parse(envelope);
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, 'data');
  });

  rejectsBadInput('cdevents', {
    valid: samples['structured-pipelinerun-finished.json'],
    removeRequired: (b) => {
      delete b['data']['context']['id'];
      return 'data.context.id';
    },
    wrongType: (b) => {
      b['data']['subject']['content']['url'] = 42;
      return 'data.subject.content.url';
    },
  });

  it('reads a v0.5 repository by its uri and a v0.4 one by its url, to the same repository', () => {
    const v5 = single(parse(samples['conformance-v0.5-repository-created.json']));
    const v4 = single(parse(samples['conformance-v0.4-repository-created.json']));
    for (const ev of [v5, v4]) {
      assert.ok(ev.about.some((a) => a.role === 'repository' && a.entity.key === 'example.org/testorg/testrepo'));
    }
    assert.equal(v5.entities.find((e) => e.label === 'Repository')?.props['url'], 'https://example.org/TestOrg/TestRepo');
  });

  it('keeps a custom event (dev.cdeventsx) with its links, marked unmodelled so the correlator counts its kind', () => {
    const ev = single(parse(samples['conformance-custom-resource-created.json']));
    assert.equal(ev.type, 'dev.cdeventsx.mytool-resource.created.0.1.0');
    assert.equal(ev.stage, 'other');
    assert.equal(ev.props['unmodelled'], true);
    // Its PATH link (from) is kept like any CDEvent's.
    assert.ok(ev.links.length > 0);
  });

  it('keeps a predicate the spec does not give its subject as a generic event of the same run, marked unmodelled', () => {
    // conformance-v0.5-pipelinerun-finished.json with only context.type changed: subject mySubject123 from /event/source/123
    const body = structuredClone(samples['conformance-v0.5-pipelinerun-finished.json']);
    body.context.type = 'dev.cdevents.pipelinerun.paused.0.3.0';
    const ev = single(parse(body));
    assert.deepEqual(
      [ev.type, ev.stage, ev.phase, ev.outcome, ev.props['unmodelled']],
      ['dev.cdevents.pipelinerun.paused.0.3.0', 'other', undefined, undefined, true],
    );
    assert.ok(ev.about.some((a) => a.entity.label === 'Build' && a.entity.key === 'event/source/123/run/mySubject123'));
  });

  it("reads a v0.5 pipeline run's uri as its url", () => {
    const ev = single(parse(samples['conformance-v0.5-pipelinerun-finished.json']));
    assert.equal(ev.props['url'], 'https://www.example.com/mySubject123');
    assert.equal(ev.outcome, 'failure');
  });

  it("reads the spec's finished test suite run: its links by context id, pointed at its own source", () => {
    const ev = single(parse(samples['conformance-v0.5-testsuiterun-finished.json']));
    assert.equal(ev.id, 'cdevents:/event/source/123|271069a8-fc18-44f1-b38f-9d70a1695819');
    assert.deepEqual([ev.stage, ev.phase, ev.outcome], ['test', 'finished', 'failure']);
    assert.equal(ev.props['chainId'], '4c8cb7dd-3448-41de-8768-eec704e2829b');
    // A link carries only the target's context id; the graph re-points it at another source's event of that id.
    assert.deepEqual(ev.links, [
      { type: 'TRIGGER', target: 'cdevents:/event/source/123|5328c37f-bb7e-4bb7-84ea-9f5f85e4a7ce' },
      { type: 'PATH', target: 'cdevents:/event/source/123|5328c37f-bb7e-4bb7-84ea-9f5f85e4a7ce' },
      { type: 'END', target: 'cdevents:/event/source/123|5328c37f-bb7e-4bb7-84ea-9f5f85e4a7ce' },
    ]);
    assert.deepEqual(
      ev.about.map((a) => [a.entity.label, a.entity.key, a.role]),
      [
        ['TestRun', 'event/source/123/run/myTestSuiteRun123', 'run'],
        ['Environment', 'dev', 'environment'],
      ],
    );
    assert.equal(ev.entities.find((e) => e.label === 'Environment')?.props['source'], 'testkube-dev-123');
    assert.equal(ev.props['testName'], 'Auth TestSuite');
  });

  it('aliases a pipeline run to the Jenkins build its URL names, without the port', () => {
    const body = structuredClone(samples['conformance-v0.5-pipelinerun-finished.json']);
    body.subject.content.uri = 'http://jenkins.example.org:8080/job/x/7/';
    const ev = single(parse(body));
    assert.deepEqual(ev.entities.find((e) => e.label === 'Build')?.aliases, ['jenkins.example.org/x#7']);
  });
});
