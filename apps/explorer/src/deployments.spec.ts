import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeliveryEventRow } from '@not/graph';
import { deliversChange, deploymentsOf, isProduction, releasesOf } from './deployments.js';

const at = (min: number): string => new Date(Date.UTC(2030, 0, 1, 0, min)).toISOString();
let n = 0;
const row = (o: Partial<DeliveryEventRow>): DeliveryEventRow => ({
  id: `e${++n}`,
  type: 'x',
  stage: 'deployment',
  phase: 'finished',
  outcome: 'success',
  time: at(0),
  site: 'site-a',
  format: 'cdevents',
  deploymentId: null,
  service: null,
  environments: [],
  artifacts: [],
  commits: [],
  nested: false,
  activityOutcomes: [],
  ...o,
});
const repo = 'github.com/acme/shop';
const commit = (sha: string) => ({ key: `${repo}@${sha}`, repository: repo });

describe('deployments from deployment events', () => {
  it('makes one deployment of a GitHub deployment and its statuses, at its final status, failed when that failed', () => {
    const gh = (id: string, phase: string, outcome: string | null, min: number, deploymentId = '42') =>
      row({ id, format: 'github', deploymentId, phase, outcome, time: at(min), environments: ['production'], commits: [commit('a')] });
    const got = deploymentsOf([
      gh('created', 'triggered', null, 0),
      gh('in-progress', 'started', null, 2),
      gh('failure', 'finished', 'failure', 5),
      // another deployment that has not finished yet is not counted
      gh('other', 'triggered', null, 6, '43'),
    ]);
    assert.equal(got.length, 1);
    assert.deepEqual(
      { ...got[0]!, events: [...got[0]!.events] },
      {
        key: `github|${repo}|42`,
        events: ['created', 'in-progress', 'failure'],
        time: at(5),
        site: 'site-a',
        failed: true,
        service: repo,
        environment: 'production',
        rollback: false,
        artifacts: [],
        commits: [`${repo}@a`],
      },
    );
  });

  it('names the service from the event, else the repository, else the package deployed; removals are not deployments', () => {
    const got = deploymentsOf([
      row({ id: 'svc', service: 'checkout', time: at(1) }),
      row({ id: 'pkg', artifacts: [{ key: 'sha256:ab', purl: 'pkg:oci/cart@sha256:ab?repository_url=r' }], time: at(2) }),
      row({ id: 'site', time: at(3) }),
      row({ id: 'removed', phase: 'deleted', outcome: null, service: 'checkout', time: at(4) }),
    ]);
    assert.deepEqual(
      got.map((d) => [d.key, d.service]),
      [
        ['svc', 'checkout'],
        ['pkg', 'pkg:oci/cart'],
        ['site', 'site-a'],
      ],
    );
  });

  it('counts a CDEvents service.rolledback, and a redeploy of an earlier version on the same target, as rollbacks', () => {
    const dep = (id: string, min: number, art: string, env = 'prod', type = 'dev.cdevents.service.deployed.0.2.0') =>
      row({ id, type, service: 'shop', environments: [env], artifacts: [{ key: art, purl: null }], time: at(min) });
    const got = deploymentsOf([
      dep('v1', 0, 'A1'),
      dep('v2', 10, 'A2'),
      dep('back-to-v1', 20, 'A1'), // brings back v1: a rollback
      dep('v1-again', 30, 'A1'), // v1 is already running: a redeploy, not a rollback
      dep('v1-staging', 40, 'A1', 'staging'), // another environment: first time there
      dep('explicit', 50, 'A3', 'prod', 'dev.cdevents.service.rolledback.0.2.0'),
    ]);
    assert.deepEqual(
      got.map((d) => [d.key, d.rollback]),
      [
        ['v1', false],
        ['v2', false],
        ['back-to-v1', true],
        ['v1-again', false],
        ['v1-staging', false],
        ['explicit', true],
      ],
    );
  });

  it('takes a release that another release contains (a nested composition) as a part, not a release', () => {
    const got = releasesOf([row({ id: 'outer', stage: 'release' }), row({ id: 'inner', stage: 'release', nested: true })]);
    assert.deepEqual(
      got.map((r) => r.key),
      ['outer'],
    );
  });

  it('tells production environments by the configured names and patterns, whole name, any case', () => {
    const patterns = ['prod*', 'live'];
    assert.deepEqual(
      ['production', 'Prod-EU', 'prod', 'live', 'staging', 'preprod', 'live-2', null].map((e) => isProduction(e, patterns)),
      [true, true, true, true, false, false, false, false],
    );
    assert.equal(isProduction('a.b', ['a.b']), true);
    assert.equal(isProduction('axb', ['a.b']), false, 'a dot is a dot, not any character');
  });

  it('fails an Eiffel deployment whose deploy activity finished failed', () => {
    const got = deploymentsOf([
      row({ id: 'ok', activityOutcomes: ['success'], time: at(1) }),
      row({ id: 'job-failed', activityOutcomes: ['failure'], time: at(2) }),
    ]);
    assert.deepEqual(
      got.map((d) => [d.key, d.failed]),
      [
        ['ok', false],
        ['job-failed', true],
      ],
    );
    assert.equal(deliversChange(row({ activityOutcomes: ['failure'] })), false);
  });

  it('delivers a change with a finished, successful, forward deployment only', () => {
    assert.deepEqual(
      [
        row({}),
        row({ outcome: 'failure' }),
        row({ phase: 'triggered', outcome: null }),
        row({ type: 'dev.cdevents.service.rolledback.0.2.0' }),
      ].map(deliversChange),
      [true, false, false, false],
    );
  });
});
