import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What `mesh up` recorded: process ids and generated secrets. Lives in `<stateDir>/state.json`. */
export interface MeshState {
  secrets: {
    rabbitAdminPassword: string;
    neo4jPassword: string;
    /** Per-site passwords for the site users on the central broker. */
    sitePasswords: Record<string, string>;
    /** The relays' webhook secret (every endpoint checks it). */
    webhookSecret?: string;
  };
  pids: Record<string, number>;
}

export function statePath(stateDir: string): string {
  return join(stateDir, 'state.json');
}

export function readState(stateDir: string): MeshState | undefined {
  const file = statePath(stateDir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as MeshState;
}

export function loadOrCreateState(stateDir: string, siteIds: readonly string[]): MeshState {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const state = readState(stateDir) ?? {
    secrets: { rabbitAdminPassword: secret(), neo4jPassword: secret(), sitePasswords: {} },
    pids: {},
  };
  for (const id of siteIds) state.secrets.sitePasswords[id] ??= secret();
  state.secrets.webhookSecret ??= secret();
  writeState(stateDir, state);
  return state;
}

export function writeState(stateDir: string, state: MeshState): void {
  const file = statePath(stateDir);
  writeFileSync(file, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

function secret(): string {
  return randomBytes(18).toString('base64url');
}
