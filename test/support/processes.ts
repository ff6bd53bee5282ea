import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface AppRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function writeTempConfig(name: string, value: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'not-test-'));
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, typeof value === 'string' ? value : stringify(value));
  return file;
}

function appMain(app: 'relay' | 'correlator' | 'explorer' | 'cli'): string {
  return join(process.cwd(), 'dist', 'apps', app, 'src', 'main.js');
}

/** Runs an app to completion (for start-up failures), with a time limit. */
export function runApp(app: 'relay' | 'correlator' | 'explorer' | 'cli', args: string[], timeoutMs = 60_000): Promise<AppRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [appMain(app), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${app} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a long-running app; the caller stops it. */
export function startApp(app: 'relay' | 'correlator' | 'explorer', configFile: string): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [appMain(app), '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return Object.assign(child, { output: () => out });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('close', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await done;
  clearTimeout(timer);
}
