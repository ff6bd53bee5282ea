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
    /** The explorer's bearer token, generated at the first `mesh up` (states from older versions get one at their next load). */
    explorerToken?: string;
  };
  /** A token given to `mesh up` in place of the generated one (`EXPLORER_TOKEN`); absent when the generated one is in use. */
  explorerTokenOverride?: string;
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
  state.secrets.explorerToken ??= secret();
  writeState(stateDir, state);
  return state;
}

export function writeState(stateDir: string, state: MeshState): void {
  const file = statePath(stateDir);
  writeFileSync(file, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** The token the mesh's explorer accepts: the one given to `mesh up`, else the generated one. */
export function explorerToken(state: MeshState): string {
  return state.explorerTokenOverride ?? state.secrets.explorerToken ?? '';
}

function secret(): string {
  return randomBytes(18).toString('base64url');
}
