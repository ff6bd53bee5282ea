import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BrokerAdmin } from '@not/messaging';
import { publishToSite, RabbitNode, type MeshStatus } from '@not/mesh';
import amqp from 'amqplib';
import { testStatus, waitUntil } from '../support/mesh.js';
import { startApp, stopChild, writeTempConfig } from '../support/processes.js';

/** A test CA and a server certificate for localhost / 127.0.0.1, made with openssl. */
function makeCa(dir: string, name: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => join(dir, `${name}-${n}`);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name} test CA`,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  );
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', f('server.key'), '-out', f('server.csr'));
  writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('server.pem'),
  );
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

describe('TLS from the site to central', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  const ports = { amqpPort: 5830, managementPort: 15830, prometheusPort: 15831, distPort: 25830 };
  const tlsPort = 5831;
  const password = 'tls-admin-password';
  let status: MeshStatus;
  let central: RabbitNode;
  let ca: ReturnType<typeof makeCa>;
  let other: ReturnType<typeof makeCa>;
  const relays: Array<ReturnType<typeof startApp>> = [];

  function relay(port: number, caFile: string) {
    const s = status.sites[0]!;
    const child = startApp(
      'relay',
      writeTempConfig('relay', {
        site: `site-tls${port}`,
        central: { urls: [`amqps://admin:${password}@localhost:${tlsPort}/%2F`], tls: { caFile } },
        brokers: [{ name: 'main', url: s.amqp, management: { url: s.management, user: s.user, password: s.password } }],
        sources: [{ name: 'ci', broker: 'main', format: 'eiffel', exchange: `tls.ci.${port}` }],
        http: { port },
        reconcileIntervalSeconds: 2,
      }),
    );
    relays.push(child);
    return child;
  }

  before(async () => {
    status = await testStatus();
    ca = makeCa(dir, 'good');
    other = makeCa(dir, 'other');
    central = new RabbitNode('tls-central', ports, join(dir, 'state'), password, [
      `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
      `ssl_options.cacertfile = ${ca.ca}`,
      `ssl_options.certfile = ${ca.cert}`,
      `ssl_options.keyfile = ${ca.key}`,
      'ssl_options.verify = verify_none',
      'ssl_options.fail_if_no_peer_cert = false',
    ]);
    await central.start();
    const conn = await amqp.connect(central.amqpUrl('admin', password));
    const ch = await conn.createChannel();
    await ch.assertExchange('not.central', 'topic', { durable: true });
    await ch.assertQueue('tls-check', { durable: true });
    await ch.bindQueue('tls-check', 'not.central', 'site.#');
    await conn.close();
  });

  after(async () => {
    for (const r of relays) await stopChild(r);
    const s = status.sites[0]!;
    const admin = new BrokerAdmin({ url: s.management, user: s.user, password: s.password });
    for (const p of await admin.listShovelParameters()) {
      if (p.name.startsWith('not-relay-site-tls')) await admin.deleteShovel(p.name);
    }
    await central?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shovels over amqps to a central whose certificate the configured CA signed', async () => {
    relay(8970, ca.ca);
    await waitUntil(
      'the relay to be ready (it checks central over TLS)',
      () =>
        fetch('http://127.0.0.1:8970/health/ready').then(
          (r) => r.ok,
          () => false,
        ),
      60_000,
    );
    const s = status.sites[0]!;
    const admin = new BrokerAdmin({ url: s.management, user: s.user, password: s.password });
    const shovel = (await admin.listShovelParameters()).find((p) => p.name === 'not-relay-site-tls8970-ci')!;
    assert.match(
      String(shovel.value['dest-uri']),
      /^amqps:\/\/admin:.*@localhost:5831\/%2F\?cacertfile=.*good-ca\.pem&verify=verify_peer&server_name_indication=localhost$/,
    );
    await waitUntil(
      'the TLS shovel running',
      async () => (await admin.shovelStatus()).some((x) => x.name === 'not-relay-site-tls8970-ci' && x.state === 'running'),
      60_000,
    );

    const mesh = { ...status, sites: [{ ...s, sources: [{ name: 'ci', format: 'eiffel', exchange: 'tls.ci.8970' }] }] };
    await publishToSite(mesh, s.id, 'ci', [Buffer.from('{"meta":{"id":"tls-check-1"}}')]);
    const conn = await amqp.connect(central.amqpUrl('admin', password));
    try {
      const ch = await conn.createChannel();
      let got: amqp.GetMessage | false = false;
      await waitUntil(
        'the event at the TLS central',
        async () => {
          got = await ch.get('tls-check', { noAck: true });
          return got !== false;
        },
        30_000,
      );
      const m = got as unknown as amqp.GetMessage;
      assert.equal(m.fields.routingKey, 'site.site-tls8970.ci.eiffel');
      assert.equal(m.content.toString(), '{"meta":{"id":"tls-check-1"}}');
    } finally {
      await conn.close();
    }
  });

  it('refuses a central whose certificate another CA signed, and says so', async () => {
    relay(8971, other.ca);
    await waitUntil(
      'the relay to answer',
      () =>
        fetch('http://127.0.0.1:8971/health/live').then(
          (r) => r.ok,
          () => false,
        ),
      60_000,
    );
    const res = await fetch('http://127.0.0.1:8971/health/ready');
    assert.equal(res.status, 503);
    assert.match(await res.text(), /central broker unreachable.*(self-signed certificate|unable to verify|certificate)/i);
  });
});
