import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { neo4jClasspathFile, neo4jDir } from './prerequisites.js';
import { isAlive, portOpen, sleep, startDetached, stopProcess } from './process.js';

/** The real Neo4j Community engine, embedded in a small launcher, with Bolt on a local port and auth on. */
export class Neo4jServer {
  readonly dir: string;

  constructor(
    private readonly root: string,
    stateDir: string,
    readonly boltPort: number,
    private readonly password: string,
    private readonly memory: { heapMb: number; pageCacheMb: number },
  ) {
    this.dir = join(stateDir, 'neo4j');
  }

  get boltUrl(): string {
    return `bolt://127.0.0.1:${this.boltPort}`;
  }

  get logFile(): string {
    return join(this.dir, 'launcher.log');
  }

  async start(existingPid: number | undefined): Promise<number> {
    if (isAlive(existingPid)) return existingPid!;
    if (await portOpen(this.boltPort)) throw new Error(`port ${this.boltPort} is already in use; change neo4j.boltPort in the mesh config`);
    mkdirSync(this.dir, { recursive: true });
    const passwordFile = join(this.dir, 'password');
    writeFileSync(passwordFile, this.password, { mode: 0o600 });
    const cp = [join(neo4jDir(this.root), 'target', 'classes'), readFileSync(neo4jClasspathFile(this.root), 'utf8').trim()].join(':');
    const args = [
      '-Xms128m',
      `-Xmx${this.memory.heapMb}m`,
      ...JVM_OPENS,
      '-cp',
      cp,
      'org.networkoftraces.neo4j.Launcher',
      '--home',
      join(this.dir, 'home'),
      '--bolt-port',
      String(this.boltPort),
      '--password-file',
      passwordFile,
      '--pagecache-mb',
      String(this.memory.pageCacheMb),
    ];
    writeFileSync(this.logFile, '');
    const pid = startDetached('java', args, { log: this.logFile });
    // A busy 2-core machine has taken 160 s; give up only when something is surely wrong.
    const deadline = Date.now() + 600_000;
    while (Date.now() < deadline) {
      const log = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
      if (log.includes('NEO4J READY')) return pid;
      const failed = /NEO4J FAILED: (.*)/.exec(log);
      if (failed || !isAlive(pid)) {
        throw new Error(`Neo4j did not start: ${failed?.[1] ?? 'the launcher exited'} (log: ${this.logFile})`);
      }
      await sleep(500);
    }
    await stopProcess(pid);
    throw new Error(`Neo4j did not start within 600 s (log: ${this.logFile})`);
  }
}

/** Module openings the Neo4j 5 engine asks for on Java 17. */
const JVM_OPENS = [
  '-XX:+UseG1GC',
  '-XX:+ExitOnOutOfMemoryError',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--enable-native-access=ALL-UNNAMED',
  '-Dio.netty.tryReflectionSetAccessible=true',
];
