import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../parse.js';
import { rejectsBadInput } from '../testing/bad-input.js';
import { localSamples, message, single } from '../testing/fixtures.js';

const load = (f: string) => Object.fromEntries(localSamples(f).map((s) => [s.file, s.json as Record<string, any>]));
const nexus = load('nexus');
const artifactory = load('artifactory');
const verdaccio = load('verdaccio');

describe('Nexus Repository 3 webhooks', () => {
  const nx = (body: unknown, headers: Record<string, unknown> = {}) => parseMessage(message('nexus', body, { headers }));

  it('parses every sample', () => {
    assert.ok(Object.keys(nexus).length >= 3);
    for (const [file, body] of Object.entries(nexus)) assert.ok(nx(body).ok, file);
  });

  it('records a deployed Maven component as a publication keyed by purl with its GAV', () => {
    const ev = single(
      nx(nexus['component-created-maven.json'], {
        'X-Nexus-Webhook-Id': 'rm:repository:component',
        'X-Nexus-Webhook-Delivery': '7f3e2a10-9b8c-4d7e-a6f5-0e1d2c3b4a59',
      }),
    );
    assert.equal(ev.id, 'nexus:7f3e2a10-9b8c-4d7e-a6f5-0e1d2c3b4a59');
    assert.equal(ev.type, 'nexus.component.created');
    assert.equal(ev.stage, 'publication');
    assert.equal(ev.phase, 'created');
    assert.equal(ev.time, '2024-05-01T10:14:03.120Z');
    const art = ev.entities.find((e) => e.label === 'Artifact');
    assert.equal(art?.key, 'purl:pkg:maven/com.example.platform/app@1.4.0');
    assert.ok(art?.aliases?.includes('gav:com.example.platform:app:1.4.0'));
    assert.ok(art?.aliases?.includes('path:maven-releases/com.example.platform/app/1.4.0'));
  });

  it('reads a scoped npm package from an asset path', () => {
    const ev = single(nx(nexus['asset-created-npm-scoped.json']));
    assert.equal(ev.entities.find((e) => e.label === 'Artifact')?.key, 'purl:pkg:npm/%40acme/ui@2.0.1');
  });

  it('records a deleted raw file by its path, in the deleted phase', () => {
    const ev = single(nx(nexus['asset-deleted-raw.json']));
    assert.equal(ev.phase, 'deleted');
    assert.equal(ev.outcome, undefined);
    assert.equal(ev.entities.find((e) => e.label === 'Artifact')?.key, 'path:raw-builds/platform/app/128/app-linux-amd64.tar.gz');
  });

  it('keeps a repository configuration event as a generic event with the repository it names, marked unmodelled', () => {
    // repository-created.json: action CREATED of repository npm-hosted (format npm)
    const ev = single(nx(nexus['repository-created.json'], { 'X-Nexus-Webhook-Id': 'rm:global:repository' }));
    assert.deepEqual([ev.type, ev.stage, ev.props['unmodelled']], ['nexus.rm:global:repository', 'other', true]);
    assert.deepEqual([ev.props['repository'], ev.props['format'], ev.props['action']], ['npm-hosted', 'npm', 'CREATED']);
    assert.equal(ev.time, '2024-05-01T09:02:41.118Z');
  });

  it('keeps an asset event of a kind it does not model with the artifact it names', () => {
    // asset-created-npm-scoped.json under another kind: asset @acme/ui/-/ui-2.0.1.tgz in npm-hosted
    const ev = single(nx(nexus['asset-created-npm-scoped.json'], { 'X-Nexus-Webhook-Id': 'rm:repository:asset:v2' }));
    assert.deepEqual([ev.type, ev.props['unmodelled']], ['nexus.rm:repository:asset:v2', true]);
    assert.ok(ev.about.some((a) => a.entity.label === 'Artifact' && a.entity.key === 'purl:pkg:npm/%40acme/ui@2.0.1'));
  });

  rejectsBadInput('nexus', {
    valid: nexus['component-created-maven.json']!,
    removeRequired: (b) => {
      delete b['repositoryName'];
      return 'repositoryName';
    },
    wrongType: (b) => {
      b['component']['version'] = ['1.4.0'];
      return 'component.version';
    },
  });
});

describe('Artifactory webhooks', () => {
  const af = (body: unknown, headers: Record<string, unknown> = {}) => parseMessage(message('artifactory', body, { headers }));
  const SHA = 'sha256:5b2c9e4d1f0a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c';

  it('parses every sample', () => {
    assert.ok(Object.keys(artifactory).length >= 3);
    for (const [file, body] of Object.entries(artifactory)) assert.ok(af(body).ok, file);
  });

  it('records a deployed file as a publication keyed by sha256, with purl, GAV and path aliases', () => {
    const ev = single(af(artifactory['artifact-deployed-maven.json'], { 'x-not-delivery-id': 'd-1' }));
    assert.equal(ev.id, 'artifactory:d-1');
    assert.equal(ev.stage, 'publication');
    assert.equal(ev.outcome, 'success');
    const art = ev.entities.find((e) => e.label === 'Artifact');
    assert.equal(art?.key, SHA);
    assert.deepEqual(art?.aliases, [
      'purl:pkg:maven/com.example.platform/app@1.4.0',
      'gav:com.example.platform:app:1.4.0',
      'path:libs-staging-local/com/example/platform/app/1.4.0/app-1.4.0.jar',
    ]);
  });

  it('records a move between repositories as a promotion of the same artifact', () => {
    const deployed = single(af(artifactory['artifact-deployed-maven.json']));
    const moved = single(af(artifactory['artifact-moved-promotion.json']));
    assert.equal(moved.stage, 'promotion');
    assert.equal(moved.props['toRepository'], 'libs-release-local/com/example/platform/app/1.4.0/app-1.4.0.jar');
    const key = (e: typeof moved) => e.entities.find((x) => x.label === 'Artifact')?.key;
    assert.equal(key(moved), key(deployed));
  });

  it('records a deletion in the deleted phase, reading a snapshot path as its GAV', () => {
    const ev = single(af(artifactory['artifact-deleted.json']));
    assert.equal(ev.phase, 'deleted');
    assert.ok(ev.entities.find((e) => e.label === 'Artifact')?.aliases?.includes('gav:com.example.platform:app:1.5.0-SNAPSHOT'));
  });

  it('keys a pushed docker image by its manifest digest with a docker purl', () => {
    const ev = single(af(artifactory['docker-pushed.json']));
    const art = ev.entities.find((e) => e.label === 'Artifact');
    assert.equal(art?.key, 'sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427');
    assert.ok(art?.aliases?.includes('purl:pkg:docker/platform/app@1.4.0'));
    assert.deepEqual(ev.props['platforms'], ['linux/amd64']);
  });

  it('reads build info sent with data as JSON text and its delivery id', () => {
    const ev = single(af(artifactory['build-uploaded-data-as-text.json']));
    assert.equal(ev.id, 'artifactory:01HHPQXBVCH3XM1WZZF8910TRA');
    assert.ok(ev.entities.some((e) => e.label === 'Build' && e.key === 'artifacts.lund.example.com/platform-app#128'));
  });

  it("reads JFrog's documented build-info upload as a publication of the build it names", () => {
    const ev = single(af(artifactory['build-uploaded.json']));
    assert.equal(ev.type, 'build.uploaded');
    assert.equal(ev.stage, 'publication');
    // <jpd_origin host>/<build_name>#<build_number>: JFrog names no CI server.
    const build = ev.entities.find((e) => e.label === 'Build');
    assert.equal(build?.key, 'artifacts.lund.example.com/sample_build_name#1');
    assert.equal(build?.props['startedAt'], '2020-06-18T11:40:49.869Z');
    assert.equal(ev.props['ciBuild'], undefined);
  });

  it('makes a build-info event about the CI build a buildInfoBuilds rule names, with the key the CI parser gives it', () => {
    const rules = [
      { match: '^artifacts\\.oslo\\.example\\.com/', ci: 'elsewhere.example.com', job: 'x', number: '1' },
      {
        match: '^artifacts\\.lund\\.example\\.com/(?<job>[^#]+)#(?<number>\\d+)$',
        ci: 'https://ci.lund.example.com:8443/jenkins/',
        job: 'platform/$<job>',
        number: '$<number>',
      },
    ];
    const ev = single(parseMessage(message('artifactory', artifactory['build-uploaded.json']), { buildInfoBuilds: rules }));
    const builds = ev.entities.filter((e) => e.label === 'Build');
    assert.deepEqual(
      builds.map((b) => b.key),
      ['ci.lund.example.com/jenkins/platform/sample_build_name#1'],
    );
    assert.equal(builds[0]!.props['buildInfo'], 'artifacts.lund.example.com/sample_build_name#1');
    assert.deepEqual(ev.about, [
      { entity: { label: 'Build', key: 'ci.lund.example.com/jenkins/platform/sample_build_name#1' }, role: 'uploaded' },
    ]);
    assert.equal(ev.props['ciBuild'], 'ci.lund.example.com/jenkins/platform/sample_build_name#1');
    // The Jenkins parser keys that build the same way (mq-notifier's url).
    const jenkins = single(
      parseMessage(
        message('jenkins', {
          ...load('jenkins')['completed-success.json'],
          url: 'https://ci.lund.example.com:8443/jenkins/job/platform/job/sample_build_name/1/',
          build_job_name: 'platform/sample_build_name',
          build_number: 1,
        }),
      ),
    );
    assert.ok(jenkins.entities.some((e) => e.label === 'Build' && e.key === builds[0]!.key));
  });

  it('joins a build-info published by setup-jfrog-cli (workflow name, run number) to the GitHub Actions run', () => {
    const run = load('github')['workflow-run.completed.json'];
    const gh = single(parseMessage(message('github', run, { headers: { 'x-not-event': 'workflow_run', 'x-not-delivery-id': 'd-1' } })));
    // setup-jfrog-cli records `github.workflow` (the name, else the file's path) and `github.run_number`.
    const workflow = (run['workflow_run']['name'] as string) || (run['workflow_run']['path'] as string);
    const sample = artifactory['build-uploaded.json'];
    const buildInfo = {
      ...sample,
      data: { ...sample['data'], build_name: workflow, build_number: String(run['workflow_run']['run_number']) },
    };
    const rules = [
      {
        match: '^artifacts\\.lund\\.example\\.com/(?<workflow>[^#]+)#(?<number>\\d+)$',
        ci: 'github.com/octo-org/octo-repo/actions/workflows/$<workflow>',
        run: '$<number>',
      },
    ];
    const ev = single(parseMessage(message('artifactory', buildInfo), { buildInfoBuilds: rules }));
    const key = ev.entities.find((e) => e.label === 'Build')!.key;
    const actions = gh.entities.find((e) => e.label === 'Build' && e.key === 'github.com/octo-org/octo-repo/actions/run/289782451');
    assert.ok(actions?.aliases?.includes(key), `${key} is a key of the Actions run`);
  });

  it('keeps the build-info key when no buildInfoBuilds rule matches', () => {
    const ev = single(
      parseMessage(message('artifactory', artifactory['build-uploaded.json']), {
        buildInfoBuilds: [{ match: '^other/', ci: 'ci.example.com', job: '$<job>', number: '1' }],
      }),
    );
    assert.equal(ev.entities.find((e) => e.label === 'Build')?.key, 'artifacts.lund.example.com/sample_build_name#1');
  });

  it('records a release bundle as a release', () => {
    const ev = single(
      af({
        domain: 'release_bundle_v2',
        event_type: 'release_bundle_v2_promotion_completed',
        data: { release_bundle_name: 'platform', release_bundle_version: '2024.5', environment: 'PROD' },
      }),
    );
    assert.equal(ev.stage, 'promotion');
    assert.equal(ev.outcome, 'success');
    assert.ok(ev.entities.some((e) => e.label === 'Release' && e.key === 'platform@2024.5'));
    assert.ok(ev.entities.some((e) => e.label === 'Environment' && e.key === 'PROD'));
  });

  it('keeps a domain it does not model (artifact_property) with the artifact it names, marked unmodelled', () => {
    // artifact-property-added.json: JFrog's "Artifact Property was Added" example, sha256 ec1be623…, sample_repo/sample_path_dir/sample_artifact
    const ev = single(af(artifactory['artifact-property-added.json']));
    assert.deepEqual([ev.type, ev.stage, ev.props['unmodelled']], ['artifact_property.added', 'other', true]);
    const artifact = ev.entities.find((e) => e.label === 'Artifact');
    assert.equal(artifact?.key, 'sha256:ec1be623d148ed220f70f4f6125dc738b1d301a85b75e87c5b554fa3bb1b4141');
    assert.ok(artifact?.aliases?.includes('path:sample_repo/sample_path_dir/sample_artifact'));
    assert.deepEqual(
      [ev.props['repository'], ev.props['path'], ev.props['propertyKey']],
      ['sample_repo', 'sample_path_dir/sample_artifact', 'sample_prop_key'],
    );
  });

  it('keeps an event type it does not model in a known domain with its artifact, marked unmodelled', () => {
    const body = structuredClone(artifactory['docker-pushed.json']);
    body.event_type = 'retagged';
    const ev = single(af(body));
    assert.deepEqual([ev.type, ev.stage, ev.props['unmodelled']], ['docker.retagged', 'other', true]);
    assert.ok(ev.about.some((a) => a.entity.key === 'sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427'));
  });

  it('does not take a placeholder checksum for a digest', () => {
    const ev = single(
      af({
        domain: 'artifact',
        event_type: 'deployed',
        data: { repo_key: 'sample_repo', path: 'sample_dir/sample.txt', name: 'sample.txt', sha256: 'sample_checksum', size: 0 },
      }),
    );
    assert.equal(ev.entities.find((e) => e.label === 'Artifact')?.key, 'path:sample_repo/sample_dir/sample.txt');
  });

  rejectsBadInput('artifactory', {
    valid: artifactory['artifact-deployed-maven.json']!,
    removeRequired: (b) => {
      delete b['data']['repo_key'];
      return 'data.repo_key';
    },
    wrongType: (b) => {
      b['data']['size'] = '18 MB';
      return 'data.size';
    },
  });
});

describe('Verdaccio notify webhooks', () => {
  const vd = (body: unknown) => parseMessage(message('verdaccio', body));

  it('parses every sample', () => {
    assert.ok(Object.keys(verdaccio).length >= 3);
    for (const [file, body] of Object.entries(verdaccio)) assert.ok(vd(body).ok, file);
  });

  it('keys a published package by its integrity digest, with sha1 and purl aliases, and names its commit', () => {
    const ev = single(vd(verdaccio['published-scoped-full-template.json']));
    assert.equal(ev.stage, 'publication');
    assert.equal(ev.props['version'], '2.0.1');
    assert.equal(ev.props['publisher'], 'ci-publisher');
    const art = ev.entities.find((e) => e.label === 'Artifact');
    assert.equal(
      art?.key,
      'sha512:84f775e85ef5cac0b25a436dab8257756a4d593845019a145031363da0cd175a65e44fa24e11db2e04eea7ef92fe946823b1cb5bf24fcfcdac7b2aa126a8e5e7',
    );
    assert.deepEqual(art?.aliases, ['sha1:a9993e364706816aba3e25717850c26c9cd0d89d', 'purl:pkg:npm/%40acme/ui@2.0.1']);
    assert.ok(ev.about.some((a) => a.role === 'source' && a.entity.key === 'github.com/acme/ui@9fceb02d0ae598e95dc970b74767f19372d61af8'));
  });

  it('reads the short {name, version, dist} form', () => {
    const ev = single(vd(verdaccio['published-short-form.json']));
    assert.equal(ev.entities.find((e) => e.label === 'Artifact')?.key, 'sha1:5b1a9e4c2f8d7e6a3b0c9d8e1f2a3b4c5d6e7f80');
  });

  it('falls back to the purl when the template rendered empty digests', () => {
    const ev = single(vd(verdaccio['published-empty-fields.json']));
    assert.equal(ev.entities.find((e) => e.label === 'Artifact')?.key, 'purl:pkg:npm/%40acme/cli@0.9.0-rc.1');
    assert.equal(
      ev.entities.some((e) => e.label === 'Commit'),
      false,
    );
  });

  rejectsBadInput('verdaccio', {
    valid: verdaccio['published-scoped-full-template.json']!,
    removeRequired: (b) => {
      delete b['name'];
      return 'name';
    },
    wrongType: (b) => {
      b['versions'][0]['integrity'] = 7;
      return 'versions[0].integrity';
    },
  });
});
