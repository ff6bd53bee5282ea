import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { RABBIT_BIN } from './rabbit-node.js';

export type Progress = (message: string) => void;

const PROMETHEUS_BIN = '/usr/bin/prometheus';

/** Debian packages the mesh needs, by the file that tells whether each is installed. */
const DEBIAN_PACKAGES: ReadonlyArray<{ pkg: string; file: string }> = [
  { pkg: 'rabbitmq-server', file: join(RABBIT_BIN, 'rabbitmq-server') },
  { pkg: 'prometheus', file: PROMETHEUS_BIN },
  { pkg: 'chromium', file: '/usr/bin/chromium' },
];

export function neo4jDir(root: string): string {
  return join(root, 'deploy', 'local', 'neo4j');
}

export function neo4jClasspathFile(root: string): string {
  return join(neo4jDir(root), 'target', 'classpath.txt');
}

/**
 * Installs what the mesh needs and is missing: Debian packages through apt,
 * the Neo4j engine through Maven (cached in ~/.m2 and deploy/local/neo4j/target).
 */
export function ensurePrerequisites(root: string, progress: Progress): void {
  const missing = DEBIAN_PACKAGES.filter((p) => !existsSync(p.file)).map((p) => p.pkg);
  if (missing.length > 0) {
    if (process.getuid?.() !== 0) {
      throw new Error(`missing Debian packages ${missing.join(', ')}: install them with "sudo apt-get install -y ${missing.join(' ')}"`);
    }
    progress(`installing Debian packages: ${missing.join(', ')} (apt-get, a minute or two)`);
    run('apt-get', ['update', '-qq'], 'apt-get update');
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], `apt-get install ${missing.join(' ')}`, {
      DEBIAN_FRONTEND: 'noninteractive',
    });
  }
  for (const tool of ['java', 'mvn']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      throw new Error(
        `"${tool}" is not installed: the mesh runs Neo4j on Java 17 built with Maven (apt-get install -y openjdk-17-jdk-headless maven)`,
      );
    }
  }
  const cp = neo4jClasspathFile(root);
  const pom = join(neo4jDir(root), 'pom.xml');
  if (!existsSync(cp) || statSync(cp).mtimeMs < newestSource(neo4jDir(root)) || !classpathIntact(cp)) {
    progress(
      existsSync(cp)
        ? 'rebuilding the Neo4j launcher with Maven (its sources changed, or its jars are gone)'
        : 'building the Neo4j launcher with Maven (first time: downloads Neo4j from Maven Central, a few minutes)',
    );
    run(
      'mvn',
      ['-q', '-B', '-f', pom, 'package', 'dependency:build-classpath', `-Dmdep.outputFile=${cp}`],
      'the Maven build of the Neo4j launcher',
    );
    // Maven may leave an unchanged class path file as it was: its time says when the launcher was built.
    const now = new Date();
    utimesSync(cp, now, now);
  }
}

/** When the launcher's build or sources last changed (a checkout that pulled a new launcher rebuilds it). */
function newestSource(dir: string): number {
  let newest = statSync(join(dir, 'pom.xml')).mtimeMs;
  const visit = (d: string): void => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, f.name);
      if (f.isDirectory()) visit(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  if (existsSync(join(dir, 'src'))) visit(join(dir, 'src'));
  return newest;
}

/** The class path points into ~/.m2: rebuild when a jar has gone (a cleaned Maven repository). */
function classpathIntact(file: string): boolean {
  return readFileSync(file, 'utf8')
    .trim()
    .split(':')
    .every((jar) => jar === '' || existsSync(jar));
}

function run(cmd: string, args: string[], what: string, env: Record<string, string> = {}): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal})`);
}

export { PROMETHEUS_BIN };
