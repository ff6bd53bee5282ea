import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isAlive, loadMesh, portOpen } from '@not/mesh';

// Runs last in the e2e tier: it stops the test mesh.
describe('traces mesh down', () => {
  it('leaves no process of the mesh running and keeps the data', async () => {
    const meshFile = process.env.NOT_TEST_MESH ?? 'test/mesh.test.yaml';
    const mesh = loadMesh(meshFile);
    const state = JSON.parse(readFileSync(join(mesh.stateDir, 'state.json'), 'utf8')) as { pids: Record<string, number> };
    const rabbitPids = ['central', ...mesh.config.sites.map((s) => s.id)].map((n) =>
      Number(readFileSync(join(mesh.stateDir, 'rabbitmq', n, 'rabbit.pid'), 'utf8')),
    );
    const pids = [...Object.values(state.pids), ...rabbitPids];
    assert.ok(pids.length >= 9, `expected every mesh process recorded, got ${pids.length}`);
    assert.ok(
      pids.every((p) => isAlive(p)),
      'all recorded processes alive before',
    );

    const r = spawnSync(process.execPath, [join(process.cwd(), 'bin', 'traces.js'), 'mesh', 'down', '--config', meshFile], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(r.status, 0, r.stderr);
    for (const pid of pids) assert.equal(isAlive(pid), false, `process ${pid} still running`);
    const c = mesh.config;
    const ports = [
      c.central.rabbitmq.amqpPort,
      ...c.sites.map((s) => s.rabbitmq.amqpPort),
      c.neo4j.boltPort,
      c.prometheus.port,
      c.correlator.port,
      c.explorer.port,
    ];
    for (const p of ports) assert.equal(await portOpen(p), false, `port ${p} still open`);
    // Data stays: the Neo4j store and RabbitMQ data folders are still there.
    assert.ok(readFileSync(join(mesh.stateDir, 'state.json'), 'utf8').length > 0);
  });
});
