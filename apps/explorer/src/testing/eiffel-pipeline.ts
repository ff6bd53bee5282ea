/**
 * A multi-site delivery pipeline as real Eiffel events, with ids and keys
 * unique to one run, and everything a test needs to compute the expected
 * answers on its own: which events each commit caused and when.
 *
 * Product P, two releases:
 *   C1 (WI-1) → merge → build at site A → artifact A1 → tests at site B pass → confidence → release P@1.0 {A1}
 *   C2 (WI-2) → merge → build → A2 → tests pass → confidence ─┐
 *   C4 (WI-4) → merge → build → A4 → composition lib@1 {A4} → composite artifact A3 ─┴→ release P@1.1 {A2, A3}
 *   C3 (WI-3) → merge → build at site A fails                  (stops at build)
 *   C5 (WI-5) → merge → build → A5 → tests at site B fail      (stops at test)
 */
import { createHash } from 'node:crypto';
import { eiffelEmitter } from '@not/events';

interface PipelineEvent {
  readonly site: 'a' | 'b';
  readonly event: {
    meta: { id: string; type: string; version: string; time: number };
    data: Record<string, unknown>;
    links: Array<{ type: string; target: string }>;
  };
}

export interface CommitPlan {
  readonly name: 'C1' | 'C2' | 'C3' | 'C4' | 'C5';
  readonly sha: string;
  readonly workItem: string;
  /** Ids of the events this commit caused, downstream, in time order. */
  readonly journey: string[];
  /** Times (ms) of the points lead time is measured at; undefined where the commit never got there. */
  readonly times: {
    commit: number;
    merge: number;
    buildTriggered: number;
    buildFinished: number;
    testFinished?: number;
    promotion?: number;
    release?: number;
  };
  readonly artifact?: string;
}

export interface Pipeline {
  readonly run: string;
  readonly product: string;
  readonly repository: string;
  readonly base: number;
  readonly events: PipelineEvent[];
  readonly commits: Record<CommitPlan['name'], CommitPlan>;
  /** artifact name -> key in the graph */
  readonly artifacts: Record<'A1' | 'A2' | 'A3' | 'A4' | 'A5', string>;
  /** artifact name -> its package URL (the artifact's other key) */
  readonly purls: Record<'A1' | 'A2' | 'A3' | 'A4' | 'A5', string>;
  readonly releaseEvents: string[];
}

const M = 60_000;

/** `repository`: the git repository's name (default: the product's, one repository per run). */
export function eiffelPipeline(run: string, base: number, options: { repository?: string } = {}): Pipeline {
  const tag = run.toUpperCase().replace(/[^A-Z0-9]/g, '');
  const product = `shop-${run.toLowerCase()}`;
  const repoName = options.repository ?? product;
  const repoUri = `https://git.example.com/explorer/${repoName}.git`;
  const repository = `git.example.com/explorer/${repoName}`;
  const { events, emit } = eiffelEmitter<'a' | 'b'>(run, 'explorer.test');
  const sha = (name: string): string => createHash('sha1').update(`${run}:${name}`).digest('hex');
  const digest = (name: string): string => createHash('sha256').update(`${run}:artifact:${name}`).digest('hex');
  const artifacts = {} as Pipeline['artifacts'];
  const purls = {} as Pipeline['purls'];
  const artifact = (name: keyof Pipeline['artifacts'], at: number, links: Array<[string, string]>): string => {
    const hex = digest(name);
    artifacts[name] = `sha256:${hex}`;
    purls[name] = `pkg:maven/com.example.${tag.toLowerCase()}/${name.toLowerCase()}@1.0.0`;
    return emit(
      'a',
      'EiffelArtifactCreatedEvent',
      '4.0.2',
      at,
      {
        identity: purls[name],
        fileInformation: [{ name: `${name.toLowerCase()}.jar`, integrityProtection: { alg: 'SHA-256', digest: hex } }],
      },
      links,
    );
  };

  const commits = {} as Record<CommitPlan['name'], CommitPlan>;
  const commit = (
    name: CommitPlan['name'],
    t0: number,
    build: 'success' | 'failure',
    test?: 'success' | 'failure',
  ): { plan: CommitPlan; art?: string; tsf?: string; clm?: string } => {
    const s = sha(name);
    const workItem = `${tag}-${name.slice(1)}`;
    const journey: string[] = [];
    const git = { commitId: s, repoUri, repoName };
    const scc = emit(
      'a',
      'EiffelSourceChangeCreatedEvent',
      '5.0.1',
      t0,
      { gitIdentifier: { ...git, branch: `feature/${workItem}` }, author: { name: 'Dev' } },
      [],
    );
    const scs = emit('a', 'EiffelSourceChangeSubmittedEvent', '4.0.1', t0 + 30 * M, { gitIdentifier: { ...git, branch: 'main' } }, [
      ['CHANGE', scc],
    ]);
    const actT = emit(
      'a',
      'EiffelActivityTriggeredEvent',
      '5.0.1',
      t0 + 35 * M,
      { name: `${product} build`, triggers: [{ type: 'SOURCE_CHANGE' }] },
      [['CAUSE', scs]],
    );
    const actS = emit(
      'a',
      'EiffelActivityStartedEvent',
      '5.0.1',
      t0 + 40 * M,
      { executionUri: `https://ci.a.example.com/job/${product}/${name.slice(1)}/` },
      [['ACTIVITY_EXECUTION', actT]],
    );
    journey.push(scc, scs, actT, actS);
    const times: { -readonly [K in keyof CommitPlan['times']]: CommitPlan['times'][K] } = {
      commit: t0,
      merge: t0 + 30 * M,
      buildTriggered: t0 + 35 * M,
      buildFinished: t0 + 52 * M,
    };
    let art: string | undefined;
    if (build === 'success') {
      art = artifact(`A${name.slice(1)}` as keyof Pipeline['artifacts'], t0 + 50 * M, [['CONTEXT', actT]]);
      journey.push(art);
    }
    const actF = emit(
      'a',
      'EiffelActivityFinishedEvent',
      '4.1.1',
      t0 + 52 * M,
      { outcome: { conclusion: build === 'success' ? 'SUCCESSFUL' : 'UNSUCCESSFUL' } },
      [['ACTIVITY_EXECUTION', actT]],
    );
    journey.push(actF);
    let tsf: string | undefined;
    let clm: string | undefined;
    if (art && test) {
      const tss = emit('b', 'EiffelTestSuiteStartedEvent', '4.0.1', t0 + 70 * M, { name: `${product} integration` }, [['CAUSE', art]]);
      tsf = emit(
        'b',
        'EiffelTestSuiteFinishedEvent',
        '4.1.1',
        t0 + 100 * M,
        { outcome: { verdict: test === 'success' ? 'PASSED' : 'FAILED', conclusion: 'SUCCESSFUL' } },
        [['TEST_SUITE_EXECUTION', tss]],
      );
      journey.push(tss, tsf);
      times.testFinished = t0 + 100 * M;
      if (test === 'success') {
        clm = emit('b', 'EiffelConfidenceLevelModifiedEvent', '4.0.1', t0 + 110 * M, { name: 'integration-tested', value: 'SUCCESS' }, [
          ['SUBJECT', art],
          ['CAUSE', tsf],
        ]);
        journey.push(clm);
        times.promotion = t0 + 110 * M;
      }
    }
    const plan: CommitPlan = { name, sha: s, workItem, journey, times, ...(art ? { artifact: art } : {}) };
    commits[name] = plan;
    return { plan, art, tsf, clm };
  };

  const releaseEvents: string[] = [];
  // Release 1.0 = {A1}
  const c1 = commit('C1', base, 'success', 'success');
  const cd10 = emit('b', 'EiffelCompositionDefinedEvent', '4.0.1', base + 130 * M, { name: product, version: '1.0' }, [
    ['ELEMENT', c1.art!],
  ]);
  c1.plan.journey.push(cd10);
  c1.plan.times.release = base + 130 * M;
  releaseEvents.push(cd10);
  // C3 fails its build; C5 fails its tests.
  commit('C3', base + 140 * M, 'failure');
  commit('C5', base + 150 * M, 'success', 'failure');
  // Release 1.1 = {A2, A3 = composition lib {A4}}
  const c2 = commit('C2', base + 200 * M, 'success', 'success');
  const c4 = commit('C4', base + 210 * M, 'success');
  const cdLib = emit('a', 'EiffelCompositionDefinedEvent', '4.0.1', base + 270 * M, { name: `${product}-lib`, version: '1' }, [
    ['ELEMENT', c4.art!],
  ]);
  const a3 = artifact('A3', base + 275 * M, [['COMPOSITION', cdLib]]);
  const cd11 = emit('b', 'EiffelCompositionDefinedEvent', '4.0.1', base + 330 * M, { name: product, version: '1.1' }, [
    ['ELEMENT', c2.art!],
    ['ELEMENT', a3],
  ]);
  c2.plan.journey.push(cd11);
  c2.plan.times.release = base + 330 * M;
  c4.plan.journey.push(cdLib, a3, cd11);
  // lib@1 is a part of P@1.1 (a nested composition), not a release: C4 is released with P@1.1.
  c4.plan.times.release = base + 330 * M;
  releaseEvents.push(cdLib, cd11);
  return { run, product, repository, base, events, commits, artifacts, purls, releaseEvents };
}

/** The lead-time segments of one commit, by the definitions in docs/explorer.md, in seconds. */
export function expectedSegments(t: CommitPlan['times']): { total: number; segments: Record<string, number> } {
  const reached = t.release!;
  const testEnd = t.testFinished ?? t.buildFinished;
  const promotion = t.promotion ?? testEnd;
  const s = (a: number, b: number): number => (b - a) / 1000;
  return {
    total: s(t.commit, reached),
    segments: {
      coding: s(t.commit, t.merge),
      'waiting-for-build': s(t.merge, t.buildTriggered),
      build: s(t.buildTriggered, t.buildFinished),
      test: s(t.buildFinished, testEnd),
      'waiting-for-promotion': s(testEnd, promotion),
      'promotion-to-release': s(promotion, reached),
    },
  };
}

/**
 * A production incident as CDEvents (`incident.detected`, then `incident.resolved` when
 * `resolvedAt` is given) naming `purl` as the affected artifact: what the explorer
 * counts as a failure of the deployment that carried it, restored when resolved.
 */
export function cdeventsIncident(run: string, purl: string, detectedAt: number, resolvedAt?: number): Array<Record<string, unknown>> {
  const source = '/monitoring/production';
  const event = (predicate: 'detected' | 'resolved', at: number) => ({
    context: {
      specversion: '0.4.1',
      id: `${run}-incident-${predicate}`,
      source,
      type: `dev.cdevents.incident.${predicate}.0.1.0`,
      timestamp: new Date(at).toISOString(),
    },
    subject: {
      id: `incident-${run}`,
      source,
      content: {
        description: `checkout fails after the ${run} release`,
        environment: { id: 'production', source: '/environments' },
        artifactId: purl,
      },
    },
  });
  return resolvedAt === undefined ? [event('detected', detectedAt)] : [event('detected', detectedAt), event('resolved', resolvedAt)];
}
