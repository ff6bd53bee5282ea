import { createHash } from 'node:crypto';

/**
 * A realistic multi-site delivery stream for benchmarks, volume tests and the correlator's warm-up, as real Eiffel events:
 * many repositories in a few areas, every change with its own commits (patch sets), merge, builds
 * (some failing and rebuilt), an artifact per successful build, test suites at another site,
 * confidence levels, and now and then a release of a repository's recent artifacts; work items
 * shared by a few changes; a share of events sent before the events they link to. Ids, shas,
 * digests and versions are new for every change, derived from `seed` and the change's number, so a
 * stream continues where the last call stopped and two seeds never collide. Deterministic: the same
 * options give the same events.
 */
export interface RealisticOptions {
  /** Distinguishes runs: everything generated is unique to the seed. */
  readonly seed: string;
  readonly repositories?: number;
  readonly areas?: number;
  /** How many sites publish (site index 0..sites-1): a repository builds at its home site, tests run at the next. */
  readonly sites?: number;
  /** Share of changes whose first build fails and is rebuilt. */
  readonly failedBuilds?: number;
  /** Share of test suites that fail (a change with a failed suite gets no confidence level). */
  readonly failedTests?: number;
  /** A repository releases its recent artifacts every this many changes. */
  readonly releaseEvery?: number;
  /** Changes that share one work item (the next change takes a new one). */
  readonly changesPerWorkItem?: number;
  /** Share of changes one of whose late events is sent first, before everything it links to. */
  readonly early?: number;
  /** Event time of change 0, in ms; changes follow each other by `spacingMs`. */
  readonly startMs?: number;
  readonly spacingMs?: number;
}

/** An event and the site (index) that publishes it. */
export interface StreamEvent {
  readonly site: number;
  readonly event: {
    meta: { id: string; type: string; version: string; time: number; source: { domainId: string } };
    data: Record<string, unknown>;
    links: Array<{ type: string; target: string }>;
  };
}

const M = 60_000;

/** A small deterministic generator (mulberry32), seeded from a string. */
function random(seed: string): () => number {
  let a = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (s: string, n: number): string => createHash('sha256').update(s).digest('hex').slice(0, n);

function uuid(s: string): string {
  const h = hex(s, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** An Eiffel event as the generators build it, and the site that sends it. */
export interface SiteEvent<S> {
  readonly site: S;
  readonly event: StreamEvent['event'];
}

/**
 * Builds Eiffel events for a generator: each gets a new id derived from `prefix` and its number
 * (the same prefix gives the same ids), `domainId` as its source, and is kept in `events` in the
 * order built; `emit` returns the id, for later events to link to.
 */
export function eiffelEmitter<S>(
  prefix: string,
  domainId: string,
): {
  readonly events: Array<SiteEvent<S>>;
  emit(site: S, type: string, version: string, at: number, data: Record<string, unknown>, links: Array<[string, string]>): string;
} {
  const events: Array<SiteEvent<S>> = [];
  let n = 0;
  return {
    events,
    emit(site, type, version, at, data, links) {
      const id = uuid(`${prefix}:${n++}`);
      events.push({
        site,
        event: {
          meta: { id, type, version, time: at, source: { domainId } },
          data,
          links: links.map(([type, target]) => ({ type, target })),
        },
      });
      return id;
    },
  };
}

/** Changes `from` .. `from + count - 1` of the stream the options describe, their events in sending order. */
export function realisticChanges(options: RealisticOptions, from: number, count: number): StreamEvent[] {
  const o = {
    repositories: 40,
    areas: 8,
    sites: 2,
    failedBuilds: 0.15,
    failedTests: 0.1,
    releaseEvery: 10,
    changesPerWorkItem: 3,
    early: 0.05,
    startMs: Date.UTC(2026, 0, 1),
    spacingMs: 7 * M,
    ...options,
  };
  const out: StreamEvent[] = [];
  for (let c = from; c < from + count; c++) out.push(...change(o, c));
  return out;
}

type Full = Required<RealisticOptions>;

function change(o: Full, c: number): StreamEvent[] {
  const rnd = random(`${o.seed}:${c}`);
  const r = c % o.repositories;
  const area = `area${r % o.areas}`;
  const name = `svc${r}-${o.seed}`;
  const home = r % o.sites;
  const testSite = (home + 1) % o.sites;
  const repoUri = `https://git.example.com/${area}/${name}.git`;
  const t0 = o.startMs + c * o.spacingMs;
  // Consecutive changes share a work item, often across repositories (a feature touching several services).
  const workItem = `W${o.seed.replace(/[^A-Za-z0-9]/g, '').toUpperCase()}-${Math.floor(c / o.changesPerWorkItem)}`;
  const { events, emit } = eiffelEmitter<number>(`${o.seed}:${c}`, 'traces.bench');

  // The work item is defined by the first change that works on it; every change's commits resolve it in part.
  const firstOfItem = c - (c % o.changesPerWorkItem);
  const issue = uuid(`${o.seed}:${firstOfItem}:issue`);
  if (c === firstOfItem) {
    events.push({
      site: home,
      event: {
        meta: { id: issue, type: 'EiffelIssueDefinedEvent', version: '4.0.1', time: t0 - 60 * M, source: { domainId: 'traces.bench' } },
        data: {
          type: 'FEATURE',
          tracker: 'JIRA',
          id: workItem,
          uri: `https://jira.example.com/browse/${workItem}`,
          title: `Feature ${workItem}`,
        },
        links: [],
      },
    });
  }

  // Patch sets: one to three commits, each a new version of the change.
  const patchSets = 1 + Math.floor(rnd() * 3);
  let scc = '';
  let sha = '';
  for (let p = 0; p < patchSets; p++) {
    sha = hex(`${o.seed}:${c}:commit:${p}`, 40);
    scc = emit(
      home,
      'EiffelSourceChangeCreatedEvent',
      '5.0.1',
      t0 + p * 5 * M,
      { gitIdentifier: { commitId: sha, repoUri, repoName: name, branch: `feature/${workItem}` }, author: { name: `dev${c % 17}` } },
      [['PARTIALLY_RESOLVED_ISSUE', issue], ...(scc ? ([['PREVIOUS_VERSION', scc]] as Array<[string, string]>) : [])],
    );
  }
  const merged = t0 + patchSets * 5 * M + 10 * M;
  const scs = emit(
    home,
    'EiffelSourceChangeSubmittedEvent',
    '4.0.1',
    merged,
    { gitIdentifier: { commitId: sha, repoUri, repoName: name, branch: 'main' } },
    [['CHANGE', scc]],
  );

  // Builds: a failed first build is rebuilt.
  const builds = rnd() < o.failedBuilds ? 2 : 1;
  let art = '';
  let at = merged;
  for (let b = 0; b < builds; b++) {
    const ok = b === builds - 1;
    const act = emit(
      home,
      'EiffelActivityTriggeredEvent',
      '5.0.1',
      (at += 2 * M),
      { name: `${name} build`, triggers: [{ type: 'SOURCE_CHANGE' }] },
      [['CAUSE', scs]],
    );
    emit(home, 'EiffelActivityStartedEvent', '5.0.1', (at += M), { executionUri: `https://ci${home}.example.com/job/${name}/${c}.${b}/` }, [
      ['ACTIVITY_EXECUTION', act],
    ]);
    if (ok) {
      const digest = hex(`${o.seed}:${c}:artifact`, 64);
      art = emit(
        home,
        'EiffelArtifactCreatedEvent',
        '4.0.2',
        (at += 8 * M),
        {
          identity: `pkg:maven/com.acme.${area}/${name}@1.${Math.floor(c / o.repositories)}.${c}`,
          fileInformation: [{ name: `${name}.jar`, integrityProtection: { alg: 'SHA-256', digest } }],
        },
        [['CONTEXT', act]],
      );
    }
    emit(home, 'EiffelActivityFinishedEvent', '4.1.1', (at += M), { outcome: { conclusion: ok ? 'SUCCESSFUL' : 'UNSUCCESSFUL' } }, [
      ['ACTIVITY_EXECUTION', act],
    ]);
  }

  // Test suites at the next site, then a confidence level when all passed.
  const suites = 1 + Math.floor(rnd() * 3);
  let passed = true;
  let lastSuite = '';
  for (let s = 0; s < suites; s++) {
    const tss = emit(testSite, 'EiffelTestSuiteStartedEvent', '4.0.1', (at += 3 * M), { name: `${name} suite ${s}` }, [['CAUSE', art]]);
    const ok = rnd() >= o.failedTests;
    passed &&= ok;
    lastSuite = emit(
      testSite,
      'EiffelTestSuiteFinishedEvent',
      '4.1.1',
      (at += 15 * M),
      { outcome: { verdict: ok ? 'PASSED' : 'FAILED', conclusion: 'SUCCESSFUL' } },
      [['TEST_SUITE_EXECUTION', tss]],
    );
  }
  if (passed) {
    emit(testSite, 'EiffelConfidenceLevelModifiedEvent', '4.0.1', (at += 2 * M), { name: 'integration-tested', value: 'SUCCESS' }, [
      ['SUBJECT', art],
      ['CAUSE', lastSuite],
    ]);
  }

  // A release of the repository's recent artifacts (this change's and the ones before it in the repository).
  if (Math.floor(c / o.repositories) % o.releaseEvery === o.releaseEvery - 1) {
    const elements: Array<[string, string]> = [['ELEMENT', art]];
    for (let k = 1; k <= 2 && c - k * o.repositories >= 0; k++) {
      const prev = c - k * o.repositories;
      // The earlier changes' artifacts: their ids are derived, not stored (same derivation as above).
      const prevEvents = change({ ...o, early: 0 }, prev);
      const a = prevEvents.find((e) => e.event.meta.type === 'EiffelArtifactCreatedEvent');
      if (a) elements.push(['ELEMENT', a.event.meta.id]);
    }
    emit(
      testSite,
      'EiffelCompositionDefinedEvent',
      '4.0.1',
      at + 5 * M,
      { name, version: `1.${Math.floor(c / o.repositories)}` },
      elements,
    );
  }

  // Now and then the change's last event is sent first, before everything it links to.
  if (o.early > 0 && rnd() < o.early) {
    const last = events.pop()!;
    events.unshift(last);
  }
  return events;
}
