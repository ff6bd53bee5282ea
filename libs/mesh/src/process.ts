import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createConnection } from 'node:net';

/** Starts a long-running process detached from this one, output appended to a log file; returns its pid. */
export function startDetached(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; log: string }): number {
  const fd = openSync(opts.log, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env: opts.env ?? process.env, cwd: opts.cwd });
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) is not alive.
  const r = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' });
  return r.status === 0 && !r.stdout.trim().startsWith('Z');
}

/** SIGTERM, then SIGKILL after the grace period; resolves when the process is gone. */
export async function stopProcess(pid: number | undefined, graceMs = 15_000): Promise<void> {
  if (!isAlive(pid)) return;
  signal(pid!, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(200);
  }
  signal(pid!, 'SIGKILL');
  while (isAlive(pid)) await sleep(100);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    // Detached children lead their own process group: signal the group so helpers go too.
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export async function httpOk(url: string, timeoutMs = 2000, headers?: Record<string, string>): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, hint?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(500);
  }
  throw new Error(`${what} did not come up within ${Math.round(timeoutMs / 1000)} s${hint ? `: ${hint()}` : ''}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
