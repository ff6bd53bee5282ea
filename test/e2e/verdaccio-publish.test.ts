import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publishToSite, type MeshStatus } from '@not/mesh';
import type { Driver } from 'neo4j-driver';
import { neo4jDriver, testStatus, waitUntil } from '../support/mesh.js';

/**
 * A real artifact repository in the loop: a Verdaccio server (the npm package, started here) whose `notify`
 * posts to site-a's relay, a real `npm publish` of a package from a git checkout, and the Jenkins build at
 * site-b that built that commit. The package must come out in the graph keyed by the integrity digest the
 * registry itself reports, with its purl, produced by the build that built the commit.
 *
 * The test mesh's correlator has the rule that says which build produced an @acme npm package (its patch
 * version is the Jenkins build number at site-b; test/mesh.test.yaml, artifactBuilds).
 */
describe('a real Verdaccio publish joins the commit that built the package', () => {
  let status: MeshStatus;
  let driver: Driver;
  let verdaccio: ChildProcess | undefined;
  let verdaccioLog = '';
  const marker = randomBytes(4).toString('hex');
  const app = `widget-${marker}`;
  const name = `@acme/${app}`;
  const number = randomInt(100, 100_000);
  const version = `1.0.${number}`;
  const repoUrl = `https://git.site-a.example.com/acme/${app}.git`;
  const repository = `git.site-a.example.com/acme/${app}`;
  const dir = mkdtempSync(join(tmpdir(), 'verdaccio-e2e-'));
  let registry = '';
  let sha = '';

  function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
    const r = spawnSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Ada',
        GIT_AUTHOR_EMAIL: 'ada@example.com',
        GIT_COMMITTER_NAME: 'Ada',
        GIT_COMMITTER_EMAIL: 'ada@example.com',
        ...env,
      },
    });
    assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  before(async () => {
    status = await testStatus();
    driver = neo4jDriver(status);
    const siteA = status.sites.find((s) => s.id === 'site-a')!;
    const port = await freePort();
    registry = `http://127.0.0.1:${port}/`;
    // Verdaccio's config: local storage and users, no uplink, and the notify template libs/events/README.md gives.
    const config = {
      storage: join(dir, 'storage'),
      auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: 10 } },
      uplinks: {},
      packages: { '**': { access: '$all', publish: '$authenticated' } },
      log: { type: 'stdout', format: 'pretty', level: 'warn' },
      notify: {
        method: 'POST',
        headers: [{ 'Content-Type': 'application/json' }, { Authorization: `Bearer ${siteA.relay.webhookSecret}` }],
        endpoint: `${siteA.relay.webhooks}/verdaccio`,
        content:
          '{"name":"{{{ name }}}","publishedPackage":"{{{ publishedPackage }}}","publisher":"{{{ publisher.name }}}",' +
          '"versions":[{{#each versions}}{{#unless @first}},{{/unless}}{"version":"{{{ version }}}",' +
          '"shasum":"{{{ dist.shasum }}}","integrity":"{{{ dist.integrity }}}","tarball":"{{{ dist.tarball }}}",' +
          '"gitHead":"{{{ gitHead }}}","repository":"{{{ repository.url }}}"}{{/each}}]}',
      },
    };
    // JSON is YAML.
    writeFileSync(join(dir, 'config.yaml'), JSON.stringify(config, null, 2));
    verdaccio = spawn(
      process.execPath,
      [resolve('node_modules/verdaccio/bin/verdaccio'), '--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    verdaccio.stdout!.on('data', (d: Buffer) => (verdaccioLog += d.toString()));
    verdaccio.stderr!.on('data', (d: Buffer) => (verdaccioLog += d.toString()));
    await waitUntil(
      'Verdaccio to answer',
      async () => {
        if (verdaccio!.exitCode !== null) throw new Error(`verdaccio exited: ${verdaccioLog}`);
        return fetch(`${registry}-/ping`).then(
          (r) => r.ok,
          () => false,
        );
      },
      60_000,
    );
    // A user, as `npm adduser` makes one, and its token for npm publish.
    const user = await fetch(`${registry}-/user/org.couchdb.user:ci-publisher`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci-publisher', password: `pw-${marker}` }),
    });
    assert.equal(user.status, 201, await user.clone().text());
    const { token } = (await user.json()) as { token: string };
    writeFileSync(join(dir, '.npmrc'), `//127.0.0.1:${port}/:_authToken=${token}\n`);

    // The package's source, committed in git.
    const work = join(dir, 'work');
    run('git', ['init', '-q', '-b', 'main', work], dir);
    writeFileSync(
      join(work, 'package.json'),
      JSON.stringify({ name, version, main: 'index.js', license: 'MIT', repository: { type: 'git', url: `git+${repoUrl}` } }, null, 2),
    );
    writeFileSync(join(work, 'index.js'), `module.exports = '${marker}';\n`);
    run('git', ['add', '.'], work);
    run('git', ['commit', '-q', '-m', `TRC-${number} the ${app} widget`], work);
    sha = run('git', ['rev-parse', 'HEAD'], work).trim();

    // The build at site-b: Jenkins' mq-notifier, with the Git plugin's parameters naming the commit.
    const url = `https://jenkins.site-b.example.com/job/acme/job/${app}/${number}/`;
    const params = [`GIT_URL=${repoUrl}`, `GIT_COMMIT=${sha}`, 'GIT_BRANCH=origin/main'];
    await publishToSite(status, 'site-b', 'jenkins', [
      Buffer.from(
        JSON.stringify({
          state: 'COMPLETED',
          url,
          build_job_name: `acme/${app}`,
          build_number: number,
          jenkins_master_fqdn: 'jenkins.site-b.example.com',
          status: 'SUCCESS',
          build_duration: 42_000,
          parameters: params,
        }),
      ),
    ]);

    // The real publish, from the git checkout.
    run('npm', ['publish', '--registry', registry, '--userconfig', join(dir, '.npmrc')], work, {
      npm_config_cache: join(dir, 'npm-cache'),
    });
  });

  after(async () => {
    await driver?.close();
    if (verdaccio && verdaccio.exitCode === null) {
      const exited = new Promise((r) => verdaccio!.once('exit', r));
      verdaccio.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the package by the integrity digest the registry reports, produced by the build of its commit', async () => {
    // What the registry itself says about the published version, and the bytes of its tarball.
    const meta = (await (await fetch(`${registry}${name.replace('/', '%2f')}`)).json()) as {
      versions: Record<string, { gitHead?: string; dist: { integrity: string; shasum: string; tarball: string } }>;
    };
    const dist = meta.versions[version]!.dist;
    const tarball = Buffer.from(await (await fetch(dist.tarball)).arrayBuffer());
    assert.equal(
      `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
      dist.integrity,
      'the registry’s integrity is the tarball’s',
    );
    const digest = `sha512:${Buffer.from(dist.integrity.slice('sha512-'.length), 'base64').toString('hex')}`;
    const purl = `purl:pkg:npm/%40acme/${app}@${version}`;
    const commitKey = `${repository}@${sha}`;
    const buildKey = `jenkins.site-b.example.com/acme/${app}#${number}`;

    const query = async () =>
      (
        await driver.executeQuery(
          `MATCH (c:Commit {key: $commitKey})<-[:BUILT]-(b:Build {key: $buildKey})-[:PRODUCED]->(a:Artifact)
           WHERE a.key = $digest OR $digest IN a.aliases
           RETURN a.key AS key, a.aliases AS aliases,
                  [(a)<-[r:ABOUT]-(e:Event) | e.format + ':' + e.stage + ':' + e.site] AS artifactEvents,
                  [(e:Event {format: 'verdaccio'})-[:ABOUT {role: 'source'}]->(c) | e.id] AS sourceOf`,
          { commitKey, buildKey, digest },
          { database: 'neo4j' },
        )
      ).records.map((r) => r.toObject());
    await waitUntil('the published package to be joined to its build and commit', async () => (await query()).length > 0, 240_000);
    const [row] = await query();
    // One node known by the integrity digest, the sha1 shasum and the purl (which is its key is the graph's choice).
    const keys = [row!.key as string, ...(row!.aliases as string[])];
    for (const k of [digest, `sha1:${dist.shasum}`, purl]) assert.ok(keys.includes(k), `${k} names the artifact (${keys.join(', ')})`);
    assert.deepEqual(row!.artifactEvents, ['verdaccio:publication:site-a']);
    assert.equal(meta.versions[version]!.gitHead, sha, 'npm publish recorded the commit it was published from');
    assert.equal((row!.sourceOf as string[]).length, 1, 'the publication names that commit as its source (gitHead)');
  });
});

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}
