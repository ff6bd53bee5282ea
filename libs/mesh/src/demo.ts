/**
 * A small delivery pipeline spanning two sites, as Eiffel events with fixed
 * ids (publishing it again changes nothing): a commit is created and merged
 * at the first site, built there into an artifact; the second site tests that
 * artifact, raises its confidence level, publishes it, releases it in a
 * composition and deploys it to production.
 *
 * The pipeline is dated yesterday from 09:00 UTC, so right after `npm start`
 * it falls inside the explorer's default lead-time window and its DORA
 * figures (a release and a deployment) are not empty. The same day always
 * gives the same times; the first write of an event id wins in the graph.
 */
export interface DemoEvent {
  readonly site: 'first' | 'second';
  readonly event: Record<string, unknown>;
}

const id = (n: number): string => `7a1c0000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
/** 09:00 UTC on the day before `now`. */
export function demoStart(now: number = Date.now()): number {
  const day = new Date(now - 86_400_000);
  return Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), 9, 0, 0);
}
const T0 = demoStart();
const meta = (type: string, version: string, n: number, minutes: number) => ({
  type,
  version,
  id: id(n),
  time: T0 + minutes * 60_000,
  source: { domainId: 'demo.networkoftraces' },
});
const link = (type: string, n: number) => ({ type, target: id(n) });

const repo = { repoName: 'payments', repoUri: 'https://git.example.com/acme/payments.git' };
const sha = '3f786850e387550fdab836ed7e6dc881de23001b';
const identity = 'pkg:maven/com.acme/payments@2.4.0';

export const DEMO_PIPELINE: readonly DemoEvent[] = [
  {
    site: 'first',
    event: {
      meta: meta('EiffelSourceChangeCreatedEvent', '5.0.1', 1, 0),
      data: {
        gitIdentifier: { commitId: sha, branch: 'feature/PAY-42', ...repo },
        author: { name: 'Ada Lovelace', email: 'ada@example.com' },
        change: { files: 'https://git.example.com/acme/payments/commit/3f78685/files', insertions: 42, deletions: 7 },
      },
      links: [],
    },
  },
  {
    site: 'first',
    event: {
      meta: meta('EiffelSourceChangeSubmittedEvent', '4.0.1', 2, 30),
      data: { gitIdentifier: { commitId: sha, branch: 'main', ...repo }, submitter: { name: 'Grace Hopper' } },
      links: [link('CHANGE', 1)],
    },
  },
  {
    site: 'first',
    event: {
      meta: meta('EiffelActivityTriggeredEvent', '5.0.1', 3, 31),
      data: { name: 'payments build', categories: ['build'], triggers: [{ type: 'SOURCE_CHANGE' }] },
      links: [link('CAUSE', 2)],
    },
  },
  {
    site: 'first',
    event: {
      meta: meta('EiffelActivityStartedEvent', '5.0.1', 4, 33),
      data: { executionUri: 'https://ci.first.example.com/job/payments/118/' },
      links: [link('ACTIVITY_EXECUTION', 3)],
    },
  },
  {
    site: 'first',
    event: {
      meta: meta('EiffelArtifactCreatedEvent', '4.0.2', 5, 40),
      data: { identity, fileInformation: [{ name: 'payments-2.4.0.jar' }] },
      links: [link('CONTEXT', 3)],
    },
  },
  {
    site: 'first',
    event: {
      meta: meta('EiffelActivityFinishedEvent', '4.1.1', 6, 41),
      data: { outcome: { conclusion: 'SUCCESSFUL' } },
      links: [link('ACTIVITY_EXECUTION', 3)],
    },
  },
  {
    site: 'second',
    event: {
      meta: meta('EiffelTestSuiteStartedEvent', '4.0.1', 7, 55),
      data: { name: 'payments integration tests', categories: ['integration'] },
      links: [link('CAUSE', 5)],
    },
  },
  {
    site: 'second',
    event: {
      meta: meta('EiffelTestSuiteFinishedEvent', '4.1.1', 8, 80),
      data: { outcome: { verdict: 'PASSED', conclusion: 'SUCCESSFUL' } },
      links: [link('TEST_SUITE_EXECUTION', 7)],
    },
  },
  {
    site: 'second',
    event: {
      meta: meta('EiffelConfidenceLevelModifiedEvent', '4.0.1', 9, 81),
      data: { name: 'integration-tested', value: 'SUCCESS' },
      links: [link('SUBJECT', 5), link('CAUSE', 8)],
    },
  },
  {
    site: 'second',
    event: {
      meta: meta('EiffelArtifactPublishedEvent', '4.0.1', 10, 85),
      data: { locations: [{ type: 'ARTIFACTORY', uri: 'https://repo.second.example.com/libs-release/com/acme/payments/2.4.0/' }] },
      links: [link('ARTIFACT', 5)],
    },
  },
  {
    site: 'second',
    event: {
      meta: meta('EiffelCompositionDefinedEvent', '4.0.1', 11, 120),
      data: { name: 'payments-service', version: '2.4.0' },
      links: [link('ELEMENT', 5)],
    },
  },
  {
    site: 'second',
    event: {
      meta: meta('EiffelEnvironmentDefinedEvent', '4.0.1', 12, 121),
      data: { name: 'production', uri: 'https://deploy.second.example.com/environments/production' },
      links: [],
    },
  },
  {
    site: 'second',
    event: {
      meta: meta('EiffelArtifactDeployedEvent', '0.2.1', 13, 150),
      data: { description: 'payments 2.4.0 to production', uri: 'https://deploy.second.example.com/payments/2.4.0' },
      links: [link('ARTIFACT', 5), link('ENVIRONMENT', 12)],
    },
  },
];

export const DEMO_EVENT_IDS: readonly string[] = DEMO_PIPELINE.map((d) => (d.event.meta as { id: string }).id);
