import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { causeOf, dora, groupStats, percentile, summarize } from './lead-time.stats.js';
import { incidentsOf } from './lead-time.service.js';

const at = (min: number): string => new Date(Date.UTC(2030, 0, 1, 0, min)).toISOString();

describe('lead-time arithmetic', () => {
  it('takes nearest-rank percentiles', () => {
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5), 5);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 9);
    assert.equal(percentile([7], 0.9), 7);
    assert.equal(percentile([], 0.5), null);
    assert.deepEqual(summarize([3, 1, 2]), { count: 3, p50: 2, p90: 3, max: 3, sum: 6 });
  });

  it('names the segment with the largest share as the bottleneck, by waiting and by working time', () => {
    const s = groupStats([
      {
        total: 100,
        segments: { coding: 10, 'waiting-for-build': 50, build: 10, test: 20, 'waiting-for-promotion': 5, 'promotion-to-release': 5 },
      },
      {
        total: 100,
        segments: { coding: 25, 'waiting-for-build': 10, build: 10, test: 45, 'waiting-for-promotion': 5, 'promotion-to-release': 5 },
      },
    ]);
    assert.deepEqual(s.bottleneck.overall, { segment: 'test', share: 0.325 });
    assert.deepEqual(s.bottleneck.waiting, { segment: 'waiting-for-build', share: 0.3 });
    assert.deepEqual(s.bottleneck.working, { segment: 'test', share: 0.325 });
  });

  it('computes the DORA figures: frequency, lead time, failure rate, time to restore per service', () => {
    const d = dora(
      [
        { time: at(0), failed: false, service: 'prod' },
        { time: at(10), failed: true, service: 'prod' },
        { time: at(40), failed: false, service: 'prod' },
        { time: at(50), failed: true, service: 'staging' },
      ],
      [100, 300, 200],
      2,
    );
    assert.deepEqual(d, {
      deployments: 2,
      deploymentFrequencyPerDay: 1,
      leadTimeForChangesSeconds: 200,
      changeFailureRate: 0.5,
      timeToRestoreSeconds: 1800,
      rollbacks: 0,
    });
  });

  it('blames an incident on the latest deployment before it that carried an affected artifact, and times its restore', () => {
    const deployments = [
      { time: at(0), failed: false, service: 'prod', artifacts: ['A1'] },
      { time: at(20), failed: false, service: 'prod', artifacts: ['A1', 'B1'] },
      { time: at(30), failed: false, service: 'prod', artifacts: ['A2'] },
      { time: at(90), failed: false, service: 'prod', artifacts: ['A1'] },
    ];
    const incidents = [
      { id: 'i1', detected: at(40), resolved: at(100), artifacts: ['A1'] },
      { id: 'i2', detected: at(50), artifacts: ['Z9'] }, // names nothing deployed: not counted
      { id: 'i3', detected: at(60), artifacts: ['A2'] }, // not resolved: a failure, no restore time
    ];
    assert.equal(causeOf(incidents[0]!, deployments), deployments[1]);
    assert.equal(causeOf(incidents[1]!, deployments), undefined);
    const d = dora(deployments, [], 1, incidents);
    assert.deepEqual(d, {
      deployments: 4,
      deploymentFrequencyPerDay: 4,
      leadTimeForChangesSeconds: null,
      changeFailureRate: 0.5,
      timeToRestoreSeconds: 3600,
      rollbacks: 0,
    });
    assert.deepEqual(
      dora(deployments, [], 1),
      { ...d, changeFailureRate: 0, timeToRestoreSeconds: null },
      'without incidents nothing failed',
    );
  });

  it('sets rollbacks apart: not deployments, each one fails the deployment it reverted, restored at the rollback', () => {
    // prod: v1 at 0, v2 at 60, rolled back at 75; v3 at 120 fails on its own, rolled back at 130.
    const d = dora(
      [
        { time: at(0), failed: false, service: 'shop', environment: 'prod' },
        { time: at(60), failed: false, service: 'shop', environment: 'prod' },
        { time: at(75), failed: false, service: 'shop', environment: 'prod', rollback: true },
        { time: at(120), failed: true, service: 'shop', environment: 'prod' },
        { time: at(130), failed: false, service: 'shop', environment: 'prod', rollback: true },
        // the same service in staging: its own target, never paired with prod
        { time: at(70), failed: false, service: 'shop', environment: 'staging' },
      ],
      [],
      1,
    );
    // 4 deployments (rollbacks apart), 3 successful; failed: the one at 60 (rolled back) and at 120 (own outcome).
    // Restores: 75 - 60 = 15 min, 130 - 120 = 10 min; median (nearest rank) of [10, 15] is 10 min.
    assert.deepEqual(d, {
      deployments: 3,
      deploymentFrequencyPerDay: 3,
      leadTimeForChangesSeconds: null,
      changeFailureRate: 2 / 4,
      timeToRestoreSeconds: 600,
      rollbacks: 2,
    });
  });

  it('blames an incident naming a service (and environment) on the latest deployment of that service there', () => {
    const deployments = [
      { time: at(0), failed: false, service: 'github.com/acme/checkout', environment: 'production' },
      { time: at(10), failed: false, service: 'github.com/acme/checkout', environment: 'staging' },
      { time: at(20), failed: false, service: 'payments', environment: 'production' },
      { time: at(30), failed: false, service: 'github.com/acme/checkout', environment: 'production-eu' },
    ];
    const service = { id: 's', detected: at(40), artifacts: [], service: 'checkout' };
    // Service only: the latest of the service (its last path segment matches), whatever the environment.
    assert.equal(causeOf(service, deployments), deployments[3]);
    // Service in an environment: the latest of the service in that environment.
    assert.equal(causeOf({ ...service, environments: ['production'] }, deployments), deployments[0]);
    assert.equal(causeOf({ ...service, environments: ['staging'] }, deployments), deployments[1]);
    // Detected before any deployment of it, or naming another service: nobody.
    assert.equal(causeOf({ ...service, detected: at(-5) }, deployments), undefined);
    assert.equal(causeOf({ ...service, service: 'search' }, deployments), undefined);
    // An incident naming an artifact is matched by the artifact only.
    assert.equal(causeOf({ ...service, artifacts: ['X'] }, deployments), undefined);
  });

  it('makes incidents of their events: first detection or report, first resolution after it', () => {
    const ev = (incident: string, predicate: string, min: number, artifacts: string[] = [], more = {}) => ({
      id: `${incident}-${predicate}-${min}`,
      incident,
      predicate,
      time: at(min),
      artifacts,
      ...more,
    });
    const got = incidentsOf([
      ev('s|2', 'detected', 5, ['B']),
      ev('s|1', 'reported', 10),
      ev('s|1', 'detected', 8, ['A']),
      ev('s|1', 'resolved', 7), // before the detection: an earlier incident's
      ev('s|1', 'resolved', 30),
      ev('s|1', 'resolved', 20),
      ev('s|3', 'resolved', 1), // detected before the window
      ev('s|4', 'detected', 9, [], { service: 'checkout', environments: ['production'] }),
      ev('s|4', 'resolved', 39, [], { service: 'checkout', environments: ['production'] }),
    ]);
    assert.deepEqual(got, [
      { id: 's|2', detected: at(5), artifacts: ['B'] },
      { id: 's|1', detected: at(8), resolved: at(20), artifacts: ['A'] },
      { id: 's|4', detected: at(9), resolved: at(39), artifacts: [], service: 'checkout', environments: ['production'] },
    ]);
  });
});
