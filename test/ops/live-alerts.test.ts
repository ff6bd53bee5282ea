import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MeshStatus } from '@not/mesh';
import { testStatus, waitUntil } from '../support/mesh.js';
import { PROMETHEUS_DIR, promAlerts, promQuery, promRules, reloadPrometheus, renderRules, type PromAlert } from './support/ops.js';

// Drives a real alert through the mesh's own Prometheus: breaks a site's link to
// central, sees TracesSiteLinkDown fire, repairs it, sees it resolve. The rules are
// the deployed ones rendered with the e2e environment's short `for:` durations.
const E2E_ENV = join(PROMETHEUS_DIR, 'environments', 'e2e.yaml');
const E2E_FOR_SECONDS = 10;

let status: MeshStatus;
let rulesDir: string;

function central(path: string, init: RequestInit = {}): Promise<Response> {
  const auth = Buffer.from(`${status.central.user}:${status.central.password}`).toString('base64');
  return fetch(new URL(path, status.central.management), {
    ...init,
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
}

async function setCentralPassword(user: string, password: string): Promise<void> {
  const res = await central(`/api/users/${encodeURIComponent(user)}`, { method: 'PUT', body: JSON.stringify({ password, tags: '' }) });
  assert.ok(res.ok, `PUT /api/users/${user}: ${res.status}`);
}

/** Closes the user's open connections, so the shovel has to log in again. */
async function closeConnectionsOf(user: string): Promise<number> {
  const res = await central('/api/connections?columns=name,user');
  const conns = (await res.json()) as Array<{ name: string; user: string }>;
  const mine = conns.filter((c) => c.user === user);
  for (const c of mine) {
    await central(`/api/connections/${encodeURIComponent(c.name)}`, {
      method: 'DELETE',
      headers: { 'x-reason': 'operations test: link down' },
    });
  }
  return mine.length;
}

function linkDownFor(alerts: PromAlert[], site: string): PromAlert[] {
  return alerts.filter((a) => a.labels.alertname === 'TracesSiteLinkDown' && a.labels.site === site);
}

async function useRules(envFile?: string): Promise<void> {
  const r = renderRules(rulesDir, envFile);
  assert.equal(r.status, 0, r.output);
  await reloadPrometheus(status.prometheus.url);
}

describe('alerts through the mesh Prometheus', { timeout: 600_000 }, () => {
  before(async () => {
    status = await testStatus();
    assert.ok(status.prometheus.up, 'the mesh Prometheus is not running');
    rulesDir = join(status.stateDir, 'prometheus', 'rules');
    await useRules(E2E_ENV);
    await waitUntil(
      'Prometheus to load the e2e rules',
      async () => {
        const rule = (await promRules(status.prometheus.url)).flatMap((g) => g.rules).find((r) => r.name === 'TracesSiteLinkDown');
        return rule?.duration === E2E_FOR_SECONDS;
      },
      60_000,
    );
  });

  after(async () => {
    if (!status) return;
    const site = status.sites[0]!;
    await setCentralPassword(site.centralUser, site.centralPassword).catch(() => undefined);
    await useRules().catch(() => undefined); // back to the production durations
  });

  it('fires TracesSiteLinkDown when a site cannot reach central, and resolves it when the link is back', async () => {
    const [site, other] = status.sites as [MeshStatus['sites'][number], MeshStatus['sites'][number]];
    const prom = status.prometheus.url;
    await waitUntil(
      `every link of ${site.id} up, no link-down alert`,
      async () => {
        const up = await promQuery(prom, `min(traces_relay_link_up{site="${site.id}"})`);
        return up[0]?.value?.[1] === '1' && linkDownFor(await promAlerts(prom), site.id).length === 0;
      },
      180_000,
      1000,
    );

    // Close the link's destination: the site's user can no longer log in to central.
    await setCentralPassword(site.centralUser, `wrong-${Date.now()}`);
    assert.ok((await closeConnectionsOf(site.centralUser)) > 0, 'the site had no connection to central to close');

    let firing: PromAlert[] = [];
    await waitUntil(
      `TracesSiteLinkDown firing for ${site.id}`,
      async () => {
        firing = linkDownFor(await promAlerts(prom), site.id).filter((a) => a.state === 'firing');
        return firing.length > 0;
      },
      240_000,
      1000,
    );
    const alert = firing.find((a) => a.labels.source === site.sources[0]!.name) ?? firing[0]!;
    assert.equal(alert.labels.severity, 'critical');
    assert.equal(alert.labels.mode, 'shovel');
    assert.equal(alert.annotations.runbook_url, 'docs/operations.md#tracessitelinkdown');
    assert.match(alert.annotations.summary ?? '', new RegExp(`Site ${site.id}: the shovel link of source \\S+ is down`));
    assert.deepEqual(linkDownFor(await promAlerts(prom), other.id), [], `${other.id} kept its link: no alert for it`);

    await setCentralPassword(site.centralUser, site.centralPassword);
    await waitUntil(
      `TracesSiteLinkDown for ${site.id} to resolve`,
      async () => linkDownFor(await promAlerts(prom), site.id).length === 0,
      300_000,
      1000,
    );
    const up = await promQuery(prom, `min(traces_relay_link_up{site="${site.id}"})`);
    assert.equal(up[0]?.value?.[1], '1', 'every link of the site is running again');
  });
});
