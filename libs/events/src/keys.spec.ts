import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  artifactKey,
  buildKey,
  commitKey,
  parseCommitKey,
  parseReleaseKey,
  releaseKey,
  digestKey,
  gavFromPurl,
  jenkinsBuildFromUrl,
  normalizeRepositoryUrl,
  npmPurl,
} from './keys.js';
import { findWorkItems } from './work-items.js';

describe('repository URL normalisation', () => {
  const same = [
    'https://github.com/Org/Repo.git',
    'https://github.com/org/repo',
    'http://github.com/org/repo/',
    'https://user:token@GitHub.com/org/repo.git',
    'git@github.com:org/repo.git',
    'github.com:org/repo',
    'ssh://git@github.com/org/repo.git',
    'ssh://git@github.com:22/org/repo',
    'git://github.com/org/repo.git',
    '  https://github.com/org/repo.git/  ',
  ];
  for (const url of same) {
    it(`reads ${url.trim()} as github.com/org/repo`, () => {
      assert.equal(normalizeRepositoryUrl(url), 'github.com/org/repo');
    });
  }

  it('keeps the path of a Gerrit ssh URL and drops its port', () => {
    assert.equal(normalizeRepositoryUrl('ssh://jenkins@review.example.org:29418/platform/build'), 'review.example.org/platform/build');
  });

  it('keeps nested GitLab groups', () => {
    assert.equal(normalizeRepositoryUrl('https://gitlab.example.com/group/sub/project.git'), 'gitlab.example.com/group/sub/project');
  });

  it('reads a local path and a file URL the same way', () => {
    assert.equal(normalizeRepositoryUrl('/srv/git/app.git'), 'srv/git/app');
    assert.equal(normalizeRepositoryUrl('file:///srv/git/app.git'), 'srv/git/app');
  });

  it('maps a mirror to its canonical repository by the alias table', () => {
    const aliases = { 'https://mirror.site-b.example/org/repo.git': 'git@github.com:org/repo.git' };
    assert.equal(normalizeRepositoryUrl('git@mirror.site-b.example:org/repo', aliases), 'github.com/org/repo');
  });
});

describe('entity keys', () => {
  it('builds a commit key with the sha in lower case', () => {
    assert.equal(
      commitKey('github.com/org/repo', 'ABCDEF0123456789ABCDEF0123456789ABCDEF01'),
      'github.com/org/repo@abcdef0123456789abcdef0123456789abcdef01',
    );
  });

  it('reads a Jenkins build URL with folders and a context path', () => {
    assert.deepEqual(jenkinsBuildFromUrl('https://CI.example.com/jenkins/job/team/job/app%20x/42/'), {
      instance: 'ci.example.com/jenkins',
      job: 'team/app x',
      number: 42,
    });
    assert.equal(jenkinsBuildFromUrl('https://ci.example.com/job/app/lastBuild/'), undefined);
  });

  it('keys a Jenkins build URL with a port by host alone, as the identity rules say', () => {
    assert.deepEqual(jenkinsBuildFromUrl('http://jenkins.example.org:8080/job/x/7/'), {
      instance: 'jenkins.example.org',
      job: 'x',
      number: 7,
    });
    assert.deepEqual(jenkinsBuildFromUrl('jenkins.example.org:8080/ci/job/a/job/b/9'), {
      instance: 'jenkins.example.org/ci',
      job: 'a/b',
      number: 9,
    });
    assert.equal(buildKey('jenkins.example.org:8080', 'x', 7), 'jenkins.example.org/x#7');
    assert.equal(buildKey('http://jenkins.example.org:8080/', 'x', 7), 'jenkins.example.org/x#7');
  });

  it('builds a build key from instance, job and number', () => {
    assert.equal(buildKey('https://ci.example.com/', 'team/app', 7), 'ci.example.com/team/app#7');
  });

  it('prefers a sha256 digest and keeps purl and GAV as aliases', () => {
    assert.deepEqual(artifactKey({ digests: ['sha1:aa', 'sha256:BB'.toLowerCase()], purl: 'pkg:Maven/g/a@1' }), {
      key: 'sha256:bb',
      aliases: ['sha1:aa', 'purl:pkg:maven/g/a@1', 'gav:g:a:1'],
    });
  });

  it('falls back to the purl when no digest is known', () => {
    assert.equal(artifactKey({ purl: 'pkg:npm/%40scope/x@1.0.0' })?.key, 'purl:pkg:npm/%40scope/x@1.0.0');
    assert.equal(artifactKey({}), undefined);
  });

  it('normalises digest algorithm names', () => {
    assert.equal(digestKey('SHA-256', 'ABCD'), 'sha256:abcd');
    assert.equal(digestKey('sha256', 'not hex'), undefined);
  });

  it('reads a GAV from a maven purl and writes npm purls', () => {
    assert.deepEqual(gavFromPurl('pkg:maven/org.example/lib@2.0%2B1'), { group: 'org.example', artifact: 'lib', version: '2.0+1' });
    assert.equal(npmPurl('@scope/pkg', '1.0.0'), 'pkg:npm/%40scope/pkg@1.0.0');
  });
});

describe('work items', () => {
  it('finds tracker keys and repository issue numbers in a message', () => {
    assert.deepEqual(findWorkItems('PROJ-12: fix #34 and ABC2-7 (see PROJ-12)', { repository: 'github.com/org/repo' }), [
      'PROJ-12',
      'ABC2-7',
      'github.com/org/repo#34',
    ]);
  });

  it('skips #n without a repository and standards that look like keys', () => {
    assert.deepEqual(findWorkItems('use UTF-8 and SHA-256, fixes #3'), []);
  });

  it('uses configured patterns, taking the first capture group as the key', () => {
    assert.deepEqual(findWorkItems('Refs: story 991', { patterns: ['story (\\d+)'] }), ['991']);
  });

  it('does not read a URL fragment or an HTML entity as an issue number', () => {
    assert.deepEqual(findWorkItems('see https://x.example/doc#12 &#39;', { repository: 'r' }), []);
  });

  it('parses commit and release keys back into their parts, whatever the repository or product holds', () => {
    const k = commitKey('git.example.com/@scope/repo', 'ABC123');
    assert.deepEqual(parseCommitKey(k), { repository: 'git.example.com/@scope/repo', sha: 'abc123' });
    assert.equal(parseCommitKey('no-sha-here'), undefined);
    assert.equal(parseCommitKey('repo@'), undefined);
    assert.deepEqual(parseReleaseKey(releaseKey('@acme/shop', '1.2.0')), { product: '@acme/shop', version: '1.2.0' });
    assert.equal(parseReleaseKey('shop'), undefined);
  });
});
