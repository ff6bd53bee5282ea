/**
 * Natural keys for the entity layer. The same thing seen at two sites (or through two tools)
 * must produce the same key, so every builder here normalises its input.
 *
 * - Repository  `<host>/<path>`            lower case, no scheme, credentials, port, `.git` or trailing slash
 * - Commit      `<repository>@<sha>`       sha in lower case
 * - Change      `<repository>!<number>`    pull / merge request; Gerrit: `<host>/<Change-Id>`
 * - Build       `<ci instance>/<job>#<number>`, or `<ci instance>/run/<run id>`
 * - Artifact    `sha256:<hex>` (any `algo:hex`) when a digest is known, else `purl:<purl>`, else `gav:g:a:v`
 * - Release     `<product>@<version>`
 * - WorkItem    `<KEY>` (e.g. `PROJ-12`) or `<repository>#<n>` for `#n`
 * - Environment its name
 */

/** Normalised repository form of any clone URL: https, ssh, scp-like `git@host:org/repo`, git://, file paths. */
export function normalizeRepositoryUrl(url: string, aliases?: Readonly<Record<string, string>>): string {
  const normalised = normaliseRepo(url);
  if (!aliases) return normalised;
  const direct = aliases[normalised];
  if (direct !== undefined) return normaliseRepo(direct);
  for (const [from, to] of Object.entries(aliases)) {
    if (normaliseRepo(from) === normalised) return normaliseRepo(to);
  }
  return normalised;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const SCP_LIKE = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(.+)$/;

function normaliseRepo(raw: string): string {
  let s = raw.trim();
  let host = '';
  let path: string;
  const scheme = SCHEME.exec(s);
  if (scheme) {
    s = s.slice(scheme[0].length);
    if (scheme[1]!.toLowerCase() === 'file') {
      path = s;
    } else {
      const slash = s.indexOf('/');
      const authority = slash === -1 ? s : s.slice(0, slash);
      path = slash === -1 ? '' : s.slice(slash);
      host = authority.slice(authority.lastIndexOf('@') + 1);
      host = host.replace(/:\d*$/, '');
    }
  } else {
    const scp = SCP_LIKE.exec(s);
    if (scp && !/^[a-z]:[\\/]/i.test(s)) {
      host = scp[1]!;
      path = scp[2]!;
    } else {
      path = s;
    }
  }
  path = path
    .replace(/[?#].*$/, '')
    .replace(/\\/g, '/')
    .replace(/\/{2,}/g, '/');
  path = path
    .replace(/^\/+|\/+$/g, '')
    .replace(/\.git$/i, '')
    .replace(/\/+$/, '');
  const out = host ? (path ? `${host}/${path}` : host) : path;
  return out.toLowerCase();
}

const HEX = /^[0-9a-f]+$/i;

/** True for a full git object id (SHA-1, 40 hex, or SHA-256, 64 hex). */
export function isFullSha(sha: string): boolean {
  return (sha.length === 40 || sha.length === 64) && HEX.test(sha);
}

/** A git sha of all zeros: the "no commit" side of a branch creation or deletion. */
export function isNullSha(sha: string): boolean {
  return /^0+$/.test(sha);
}

export function repositoryKey(url: string, aliases?: Readonly<Record<string, string>>): string {
  return normalizeRepositoryUrl(url, aliases);
}

export function commitKey(repository: string, sha: string): string {
  return `${repository}@${sha.trim().toLowerCase()}`;
}

/** A commit key back into its repository and sha (the last `@` separates them); undefined for another shape. */
export function parseCommitKey(key: string): { repository: string; sha: string } | undefined {
  const at = key.lastIndexOf('@');
  return at > 0 && at < key.length - 1 ? { repository: key.slice(0, at), sha: key.slice(at + 1) } : undefined;
}

export function changeKey(repository: string, number: string | number): string {
  return `${repository}!${number}`;
}

export function gerritChangeKey(host: string, changeId: string): string {
  return `${normalizeHost(host)}/${changeId.trim()}`;
}

/** Lower-case host (and path prefix) of a URL or bare host name, without scheme, credentials, port or trailing slash. */
export function normalizeHost(hostOrUrl: string): string {
  // A bare `host:8080[/path]` is a host and port, not git's scp-like `host:path`.
  const s = hostOrUrl.trim();
  return normaliseRepo(SCHEME.test(s) ? s : s.replace(/^((?:[^@/\s]+@)?[^:/\s]+):\d+(?=\/|$)/, '$1'));
}

export function buildKey(ciInstance: string, job: string, number: string | number): string {
  return `${normalizeHost(ciInstance)}/${job.replace(/^\/+|\/+$/g, '')}#${number}`;
}

export function runKey(ciInstance: string, runId: string): string {
  return `${normalizeHost(ciInstance)}/run/${runId}`;
}

export interface JenkinsBuildRef {
  /** Host and context path of the Jenkins instance, e.g. `ci.example.com/jenkins`. */
  readonly instance: string;
  /** Full job name with folders joined by `/`, e.g. `team/app/main`. */
  readonly job: string;
  readonly number: number;
}

/** Reads a Jenkins build URL (`https://ci/jenkins/job/team/job/app/42/`) into instance, job and number. */
export function jenkinsBuildFromUrl(url: string): JenkinsBuildRef | undefined {
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/]+)((?:\/[^/]+)*?)((?:\/job\/[^/]+)+)\/(\d+)\/?(?:[?#].*)?$/i.exec(url.trim());
  if (!m) return undefined;
  const instance = normalizeHost(`${m[1]}${m[2] ?? ''}`);
  const job = m[3]!
    .split('/job/')
    .filter((p) => p !== '')
    .map((p) => safeDecode(p))
    .join('/');
  return { instance, job, number: Number(m[4]) };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function releaseKey(product: string, version: string): string {
  return `${product.trim()}@${version.trim()}`;
}

/** A release key back into product and version (the last `@`: a product may hold one, a version not). */
export function parseReleaseKey(key: string): { product: string; version: string } | undefined {
  const at = key.lastIndexOf('@');
  return at > 0 && at < key.length - 1 ? { product: key.slice(0, at), version: key.slice(at + 1) } : undefined;
}

export function environmentKey(name: string): string {
  return name.trim();
}

export interface ArtifactIdentity {
  /** `algo:hex` digests, e.g. `sha256:ab12…`; the strongest one becomes the key. */
  readonly digests?: readonly string[];
  readonly purl?: string;
  readonly gav?: { readonly group: string; readonly artifact: string; readonly version: string };
  /** Repository path or URL of the stored file. */
  readonly path?: string;
}

const DIGEST_RANK = ['sha512', 'sha256', 'sha384', 'sha1', 'md5'];

/** Normalises `SHA-256:ABC`, `sha256=abc` or `{alg: 'SHA-256', digest: 'ABC'}` into `sha256:abc`. */
export function digestKey(algorithm: string, hex: string): string | undefined {
  const algo = algorithm.toLowerCase().replace(/[^a-z0-9]/g, '');
  const value = hex.trim().toLowerCase();
  if (!algo || !HEX.test(value)) return undefined;
  return `${algo}:${value}`;
}

/**
 * Key and aliases for an artifact: a sha256 digest is preferred (it names the bytes wherever they are),
 * then other digests, then the purl, then the GAV; everything else known becomes an alias.
 */
export function artifactKey(id: ArtifactIdentity): { key: string; aliases: string[] } | undefined {
  const candidates: string[] = [];
  const digests = [...(id.digests ?? [])].sort((a, b) => rank(a) - rank(b));
  const sha256 = digests.find((d) => d.startsWith('sha256:'));
  if (sha256) candidates.push(sha256);
  for (const d of digests) if (d !== sha256) candidates.push(d);
  const purl = id.purl ? normalizePurl(id.purl) : undefined;
  if (purl) candidates.push(`purl:${purl}`);
  const gav = id.gav ?? (purl ? gavFromPurl(purl) : undefined);
  if (gav) candidates.push(`gav:${gav.group}:${gav.artifact}:${gav.version}`);
  if (id.path) candidates.push(`path:${id.path}`);
  const unique = [...new Set(candidates)];
  const [key, ...aliases] = unique;
  if (key === undefined) return undefined;
  return { key, aliases };
}

function rank(digest: string): number {
  const i = DIGEST_RANK.indexOf(digest.slice(0, digest.indexOf(':')));
  return digest.startsWith('sha256:') ? -1 : i === -1 ? DIGEST_RANK.length : i;
}

/** Lower-cases the purl type (the spec says it is case-insensitive) and drops a trailing slash. */
export function normalizePurl(purl: string): string {
  const p = purl.trim();
  const m = /^pkg:([^/]+)\/(.*)$/i.exec(p);
  if (!m) return p;
  return `pkg:${m[1]!.toLowerCase()}/${m[2]!.replace(/\/+$/, '')}`;
}

/** `pkg:maven/group/artifact@version` -> GAV; other package types have none. */
export function gavFromPurl(purl: string): { group: string; artifact: string; version: string } | undefined {
  const m = /^pkg:maven\/([^/@?#]+)\/([^/@?#]+)@([^?#]+)/i.exec(purl.trim());
  if (!m) return undefined;
  return { group: safeDecode(m[1]!), artifact: safeDecode(m[2]!), version: safeDecode(m[3]!) };
}

export function purlFromGav(group: string, artifact: string, version: string): string {
  return `pkg:maven/${group}/${artifact}@${encodeURIComponent(version)}`;
}

/** `pkg:npm/%40scope/name@1.0.0` for `@scope/name`, `pkg:npm/name@1.0.0` otherwise. */
export function npmPurl(name: string, version: string): string {
  const scoped = /^@([^/]+)\/(.+)$/.exec(name);
  const path = scoped ? `%40${scoped[1]}/${scoped[2]}` : name;
  return `pkg:npm/${path}@${encodeURIComponent(version)}`;
}
