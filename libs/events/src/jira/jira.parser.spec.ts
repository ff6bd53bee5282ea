import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../parse.js';
import { rejectsBadInput } from '../testing/bad-input.js';
import { localSamples, message, single } from '../testing/fixtures.js';

const samples = Object.fromEntries(localSamples('jira').map((s) => [s.file, s.json as Record<string, any>]));
const parse = (body: unknown) => single(parseMessage(message('jira', body)));

describe('Jira webhooks', () => {
  it('parses every sample', () => {
    assert.ok(Object.keys(samples).length >= 5);
    for (const [file, body] of Object.entries(samples)) {
      const r = parseMessage(message('jira', body));
      assert.ok(r.ok, `${file}: ${r.ok ? '' : r.rejection.reason}`);
    }
  });

  it('makes a created issue a work item with its key, project, type, summary and creation time', () => {
    const ev = parse(samples['issue-created.json']);
    assert.equal(ev.type, 'jira:issue_created');
    assert.equal(ev.stage, 'work-item');
    assert.equal(ev.phase, 'created');
    assert.equal(ev.time, new Date(1716991458232).toISOString());
    assert.equal(ev.id, 'jira:localhost/10023/jira:issue_created@1716991458232');
    const wi = ev.entities.find((e) => e.label === 'WorkItem');
    assert.equal(wi?.key, 'ES-24');
    assert.equal(wi?.props['project'], 'ES');
    assert.equal(wi?.props['ticketType'], 'Story');
    assert.equal(wi?.props['title'], 'CDEvents integration with Jira');
    assert.equal(wi?.props['createdAt'], '2024-05-29T14:04:18.022Z');
    assert.equal(wi?.props['url'], 'http://localhost:9090/browse/ES-24');
    assert.ok(ev.about.some((a) => a.entity.key === 'ES-24' && a.role === 'work-item'));
    assert.equal(ev.props['status'], 'To Do');
  });

  it('reads a transition from the changelog status item, with the time of the webhook', () => {
    const done = parse(samples['issue-resolved-done.json']);
    assert.equal(done.props['statusFrom'], 'To Do');
    assert.equal(done.props['statusTo'], 'Done');
    assert.equal(done.props['resolution'], 'Done');
    assert.equal(done.phase, 'finished');
    assert.equal(done.outcome, 'success');
    assert.equal(done.time, new Date(1717165102467).toISOString());
    assert.equal(done.id, 'jira:localhost/10008/10104');
    const started = parse(samples['derived-issue-transitioned-in-progress.json']);
    assert.equal(started.props['statusFrom'], 'To Do');
    assert.equal(started.props['statusTo'], 'In Progress');
    assert.equal(started.phase, 'started');
    assert.ok(started.time < done.time);
  });

  it('keeps an update without a status change as modified, without a transition', () => {
    const ev = parse(samples['issue-updated-description.json']);
    assert.equal(ev.phase, 'modified');
    assert.equal(ev.props['statusFrom'], undefined);
    assert.equal(ev.id, 'jira:localhost/10023/10027');
  });

  it('records a deleted issue', () => {
    const ev = parse(samples['derived-issue-deleted.json']);
    assert.equal(ev.phase, 'deleted');
    assert.ok(ev.about.some((a) => a.entity.key === 'ES-24'));
  });

  it('keeps a kind it does not model (worklog) as a generic event of the issue and its project, marked unmodelled', () => {
    // worklog-updated-work-logged.json: issue ES-24 (id 10023) of project ES on http://localhost:9090, changelog 10101, timestamp 1717164468987
    const ev = parse(samples['worklog-updated-work-logged.json']);
    assert.deepEqual([ev.type, ev.stage, ev.props['unmodelled']], ['jira:worklog_updated', 'other', true]);
    assert.equal(ev.phase, undefined);
    assert.ok(ev.about.some((a) => a.entity.label === 'WorkItem' && a.entity.key === 'ES-24'));
    assert.equal(ev.props['issue'], 'ES-24');
    assert.equal(ev.props['project'], 'ES');
    assert.equal(ev.time, new Date(1717164468987).toISOString());
    assert.equal(ev.id, 'jira:localhost/10023/10101');
  });

  it('keeps an event without an issue (a released version) with the project it names, even without a timestamp', () => {
    // The fields Atlassian documents for version events: version.{self, id, name, projectId}.
    const ev = single(
      parseMessage(
        message('jira', {
          webhookEvent: 'jira:version_released',
          version: {
            self: 'https://acme.atlassian.net/rest/api/2/version/10000',
            id: '10000',
            name: '1.0',
            released: true,
            projectId: 10002,
          },
        }),
        { receivedAt: new Date('2024-06-01T12:00:00Z') },
      ),
    );
    assert.deepEqual([ev.type, ev.stage, ev.props['unmodelled']], ['jira:version_released', 'other', true]);
    assert.equal(ev.props['projectId'], '10002');
    assert.equal(ev.props['version'], '1.0');
    assert.equal(ev.props['tracker'], 'acme.atlassian.net');
    assert.equal(ev.time, '2024-06-01T12:00:00.000Z');
  });

  it('still rejects a modelled issue event without its issue', () => {
    const body = structuredClone(samples['issue-created.json']);
    delete body.issue;
    const r = parseMessage(message('jira', body));
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, 'issue');
  });

  it('reads the Cloud changelog fieldId, linked issues and the development summary counts', () => {
    const body = structuredClone(samples['issue-resolved-done.json']);
    body.changelog.items = [{ field: 'Status', fieldId: 'status', fieldtype: 'jira', fromString: 'In Review', toString: 'Done' }];
    body.issue.fields.issuelinks = [
      { id: '1', type: { name: 'Blocks', inward: 'is blocked by', outward: 'blocks' }, outwardIssue: { key: 'ES-30' } },
    ];
    body.issue.fields.customfield_10000 =
      '{pullrequest={dataType=pullrequest, state=MERGED, stateCount=1}, json={"cachedValue":{"errors":[],"summary":{"pullrequest":{"overall":{"count":1}},"repository":{"overall":{"count":3}}}}}}';
    const ev = parse(body);
    assert.equal(ev.props['statusFrom'], 'In Review');
    assert.deepEqual(ev.props['linkedIssues'], ['blocks ES-30']);
    assert.equal(ev.props['devPullRequests'], 1);
    assert.equal(ev.props['devCommits'], 3);
  });

  it('rejects an issue key that is not one', () => {
    const body = structuredClone(samples['issue-created.json']);
    body.issue.key = 'not a key';
    const r = parseMessage(message('jira', body));
    assert.ok(!r.ok);
    assert.equal(r.rejection.field, 'issue.key');
  });

  rejectsBadInput('jira', {
    valid: samples['issue-created.json']!,
    removeRequired: (b) => {
      delete b['webhookEvent'];
      return 'webhookEvent';
    },
    wrongType: (b) => {
      b['timestamp'] = 'yesterday';
      return 'timestamp';
    },
  });
});
