/**
 * What the artifact-repository and CDEvents parsers share: digests hidden in purls, package coordinates
 * read from repository paths, and npm's base64 integrity strings. Every function is total: input it
 * cannot read gives `undefined` (or an empty list), never an error.
 */
import { digestKey, npmPurl, purlFromGav } from './keys.js';

const DIGEST = /^(sha1|sha256|sha384|sha512|md5):([0-9a-f]+)$/i;

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Digests a purl names: a version that is itself a digest (`pkg:oci/app@sha256%3Aab…`,
 * `pkg:docker/app@sha256:ab…`) and the `checksum` / `checksums` qualifier (`sha256:ab…,sha1:cd…`).
 */
export function digestsFromPurl(purl: string): string[] {
  const out: string[] = [];
  const m = /^pkg:[^/]+\/[^?#]*?@([^?#]+)(?:\?([^#]*))?/i.exec(purl.trim());
  if (!m) return out;
  const version = safeDecode(m[1]!);
  const v = DIGEST.exec(version);
  if (v) {
    const d = digestKey(v[1]!, v[2]!);
    if (d) out.push(d);
  }
  for (const q of (m[2] ?? '').split('&')) {
    const eq = q.indexOf('=');
    if (eq < 0 || !/^checksums?$/i.test(q.slice(0, eq))) continue;
    for (const part of safeDecode(q.slice(eq + 1)).split(',')) {
      const c = DIGEST.exec(part.trim());
      const d = c ? digestKey(c[1]!, c[2]!) : undefined;
      if (d && !out.includes(d)) out.push(d);
    }
  }
  return out;
}

/** `algo:hex` for a hex digest that really is hex of the algorithm's length; undefined for placeholders. */
export function hexDigest(algorithm: 'sha1' | 'sha256' | 'sha512' | 'md5', hex: string | undefined): string | undefined {
  if (!hex) return undefined;
  const len = { sha1: 40, sha256: 64, sha512: 128, md5: 32 }[algorithm];
  const value = hex.trim();
  if (value.length !== len) return undefined;
  return digestKey(algorithm, value);
}

/** npm's Subresource Integrity string (`sha512-<base64>`) as `sha512:<hex>`. */
export function digestFromIntegrity(integrity: string | undefined): string | undefined {
  if (!integrity) return undefined;
  const m = /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$/.exec(integrity.trim().split(/\s+/)[0] ?? '');
  if (!m) return undefined;
  const hex = Buffer.from(m[2]!, 'base64').toString('hex');
  const expected = { sha1: 40, sha256: 64, sha384: 96, sha512: 128 }[m[1] as 'sha1' | 'sha256' | 'sha384' | 'sha512'];
  return hex.length === expected ? digestKey(m[1]!, hex) : undefined;
}

export interface Coordinates {
  readonly purl: string;
  readonly gav?: { readonly group: string; readonly artifact: string; readonly version: string };
}

/**
 * Package coordinates from a file's path inside a repository, for the layouts whose path says them:
 * Maven 2 (`com/acme/app/1.2.0/app-1.2.0.jar`), npm (`@acme/ui/-/ui-2.0.1.tgz`, `left-pad/-/left-pad-1.3.0.tgz`).
 * `format` is the repository's format when known (`maven2`, `maven`, `npm`); without it both layouts are tried.
 */
export function coordinatesFromPath(path: string, format?: string): Coordinates | undefined {
  const p = path.replace(/^\/+/, '');
  const f = format?.toLowerCase();
  if (f === undefined || f === 'maven2' || f === 'maven' || f === 'gradle') {
    const maven = mavenFromPath(p);
    if (maven) return maven;
  }
  if (f === undefined || f === 'npm') {
    const npm = npmFromPath(p);
    if (npm) return npm;
  }
  return undefined;
}

function mavenFromPath(p: string): Coordinates | undefined {
  const parts = p.split('/');
  if (parts.length < 4) return undefined;
  const file = parts[parts.length - 1]!;
  const version = parts[parts.length - 2]!;
  const artifact = parts[parts.length - 3]!;
  const group = parts.slice(0, -3).join('.');
  if (!file.startsWith(`${artifact}-`)) return undefined;
  const rest = file.slice(artifact.length + 1);
  // A SNAPSHOT's files carry a timestamped version (app-1.0-20240501.101010-3.jar) in a 1.0-SNAPSHOT folder.
  const snapshotBase = version.endsWith('-SNAPSHOT') ? version.slice(0, -'SNAPSHOT'.length) : undefined;
  if (!rest.startsWith(version) && !(snapshotBase && rest.startsWith(snapshotBase))) return undefined;
  if (!group) return undefined;
  return { purl: purlFromGav(group, artifact, version), gav: { group, artifact, version } };
}

function npmFromPath(p: string): Coordinates | undefined {
  const m = /^((?:@[^/]+\/)?[^/@]+)\/-\/(?:@[^/]+\/)?([^/]+)-(\d[^/]*)\.tgz$/.exec(p);
  if (!m) return undefined;
  const name = m[1]!;
  const base = name.includes('/') ? name.slice(name.indexOf('/') + 1) : name;
  if (m[2] !== base) return undefined;
  return { purl: npmPurl(name, m[3]!) };
}

/** A package name and version as Nexus reports a component (format, group, name, version) -> purl. */
export function purlFromComponent(
  format: string,
  group: string | undefined,
  name: string,
  version: string | undefined,
): string | undefined {
  if (!version) return undefined;
  const enc = (s: string) => encodeURIComponent(s);
  switch (format.toLowerCase()) {
    case 'maven2':
    case 'maven':
      return group ? purlFromGav(group, name, version) : undefined;
    case 'npm':
      return npmPurl(group ? `@${group.replace(/^@/, '')}/${name}` : name, version);
    case 'docker':
      return `pkg:docker/${name.split('/').map(enc).join('/')}@${enc(version)}`;
    case 'pypi':
      return `pkg:pypi/${enc(name.toLowerCase().replace(/[-_.]+/g, '-'))}@${enc(version)}`;
    case 'nuget':
      return `pkg:nuget/${enc(name)}@${enc(version)}`;
    case 'rubygems':
      return `pkg:gem/${enc(name)}@${enc(version)}`;
    case 'helm':
      return `pkg:helm/${enc(name)}@${enc(version)}`;
    case 'go':
    case 'golang':
      return `pkg:golang/${name}@${enc(version)}`;
    default:
      return undefined;
  }
}
