import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ArtifactBuildRule } from './model.js';
import { parseMessage } from './parse.js';
import { checkArtifactBuildRule, buildByRules } from './provenance.js';
import { localSamples, message, single } from './testing/fixtures.js';

const nexus = Object.fromEntries(localSamples('nexus').map((s) => [s.file, s.json as Record<string, any>]));

const versionIsBuild: ArtifactBuildRule = {
  match: '^purl:pkg:maven/com\\.example\\.platform/(?<job>[^@]+)@1\\.4\\.(?<number>\\d+)$',
  ci: 'https://ci.site-b.example.com/jenkins/',
  job: 'platform/$<job>',
  number: '$<number>',
};
const pathIsBuild: ArtifactBuildRule = {
  match: '^path:raw-builds/(?<job>.+)/(?<number>\\d+)/[^/]+$',
  ci: 'ci.lund.example.com/jenkins',
  job: '$<job>',
  number: '$<number>',
};

describe('artifact provenance rules', () => {
  it('relates the build a rule names to the artifact, with the build key the Jenkins parser uses', () => {
    const ev = single(
      parseMessage(message('nexus', nexus['component-created-maven.json']), { artifactBuilds: [pathIsBuild, versionIsBuild] }),
    );
    const build = ev.entities.find((e) => e.label === 'Build');
    assert.equal(build?.key, 'ci.site-b.example.com/jenkins/platform/app#0');
    assert.deepEqual(
      ev.relations.filter((r) => r.type === 'PRODUCED'),
      [
        {
          from: { label: 'Build', key: 'ci.site-b.example.com/jenkins/platform/app#0' },
          type: 'PRODUCED',
          to: { label: 'Artifact', key: 'purl:pkg:maven/com.example.platform/app@1.4.0' },
        },
      ],
    );
  });

  it('matches any of the artifact keys, and the first rule that matches wins', () => {
    assert.equal(
      buildByRules([pathIsBuild], ['sha256:00', 'path:raw-builds/platform/app/128/app-linux-amd64.tar.gz']),
      'ci.lund.example.com/jenkins/platform/app#128',
    );
    assert.equal(
      buildByRules([versionIsBuild, pathIsBuild], ['purl:pkg:maven/com.example.platform/app@1.4.128', 'path:raw-builds/x/9/y']),
      'ci.site-b.example.com/jenkins/platform/app#128',
    );
  });

  it('names a run key when the rule gives a run instead of job and number', () => {
    const pipelineIsRun: ArtifactBuildRule = {
      match: '^purl:pkg:npm/%40acme/app@1\\.0\\.0-p(?<pipeline>\\d+)$',
      ci: 'gitlab.example.com/acme/app/pipelines',
      run: '$<pipeline>',
    };
    assert.deepEqual(checkArtifactBuildRule(pipelineIsRun), []);
    assert.equal(buildByRules([pipelineIsRun], ['purl:pkg:npm/%40acme/app@1.0.0-p4711']), 'gitlab.example.com/acme/app/pipelines/run/4711');
  });

  it('adds nothing when no rule matches or the number is not a number', () => {
    const ev = single(parseMessage(message('nexus', nexus['asset-created-npm-scoped.json']), { artifactBuilds: [versionIsBuild] }));
    assert.equal(ev.relations.filter((r) => r.type === 'PRODUCED').length, 0);
    assert.equal(buildByRules([{ ...pathIsBuild, number: '$<job>' }], ['path:raw-builds/app/128/a.tgz']), undefined);
  });

  it('names what is wrong with a rule', () => {
    assert.deepEqual(checkArtifactBuildRule(versionIsBuild), []);
    assert.match(checkArtifactBuildRule({ ...pathIsBuild, match: '^(unclosed' })[0]!, /^match: not a valid regular expression/);
    assert.deepEqual(checkArtifactBuildRule({ ...pathIsBuild, number: '$<build>' }), [
      'number: uses $<build> but match has no group named "build" (groups: job, number)',
    ]);
    assert.deepEqual(checkArtifactBuildRule({ ...pathIsBuild, run: '$<number>' }), [
      'run: give either job and number (<ci>/<job>#<number>) or run (<ci>/run/<run>)',
    ]);
    assert.deepEqual(checkArtifactBuildRule({ match: '^x$', ci: 'ci.example.com' }), [
      'run: give either job and number (<ci>/<job>#<number>) or run (<ci>/run/<run>)',
    ]);
  });
});
