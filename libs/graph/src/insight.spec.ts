import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { insightSubject, nextEpisodes, type InsightEpisode, type InsightFinding } from './insight.js';
import {
  amqpBody,
  firingId,
  insightFirings,
  insightMatch,
  subscriptionInputSchema,
  type Subscription,
  type SubscriptionCondition,
} from './subscription.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2030-01-10T00:00:00.000Z');

/** A finding as the trends detectors make one (id: type, metric, segment, dimension, group). */
function finding(type: InsightFinding['type'], dimension: string, group: string, extra: Partial<InsightFinding> = {}): InsightFinding {
  const metric = extra.metric ?? (type === 'forecast' || type === 'breach' ? 'queue' : 'wait');
  const segment = extra.segment ?? 'waiting-for-build';
  return {
    id: [type, metric, segment, dimension, group].join(':'),
    type,
    metric,
    segment,
    dimension,
    group,
    severity: 0.5,
    summary: `${type} in ${segment} at ${dimension} ${group}`,
    since: T0 - 24 * HOUR,
    evidence: { kind: type, objective: 48, current: 30 },
    ...extra,
  };
}

function sub(condition: SubscriptionCondition, extra: Partial<Subscription> = {}): Subscription {
  return {
    id: 'sub-00000000000000aa',
    owner: 'po',
    name: 'bottlenecks',
    enabled: true,
    condition,
    delivery: { type: 'webhook', url: 'http://127.0.0.1:9/hook' },
    createdAt: new Date(T0 - 48 * HOUR).toISOString(),
    updatedAt: new Date(T0 - 48 * HOUR).toISOString(),
    areas: [],
    ...extra,
  };
}

const parse = (c: unknown) => subscriptionInputSchema.safeParse({ name: 'n', condition: c, delivery: { type: 'amqp' } });
const cond = (c: unknown): SubscriptionCondition => {
  const r = parse(c);
  assert.ok(r.success, JSON.stringify(r.error?.issues));
  return r.data.condition;
};

/** Episodes of one round of findings, all first seen at `at`. */
const fresh = (fs: readonly InsightFinding[], at = T0): Map<string, InsightEpisode> =>
  new Map(nextEpisodes(new Map(), fs, at, 6 * HOUR).map((e) => [e.finding, e]));

describe('insight conditions', () => {
  it('refuses unknown finding types, segments, sites and empty or repeated lists, naming the field', () => {
    const cases: Array<[unknown, Array<string | number>, RegExp]> = [
      [{ on: 'insight', types: ['bottleneck'] }, ['condition', 'types', 0], /forecast/],
      [{ on: 'insight', segments: ['deploy'] }, ['condition', 'segments', 0], /waiting-for-build/],
      [{ on: 'insight', sites: ['Site A'] }, ['condition', 'sites', 0], /site id/],
      [{ on: 'insight', types: [] }, ['condition', 'types'], /at least one finding type/],
      [{ on: 'insight', types: ['forecast', 'forecast'] }, ['condition', 'types'], /given twice/],
      [{ on: 'insight', kinds: ['forecast'] }, ['condition'], /kinds/],
    ];
    for (const [c, path, message] of cases) {
      const r = parse(c);
      assert.equal(r.success, false, JSON.stringify(c));
      const issue = r.error!.issues[0]!;
      assert.deepEqual(issue.path, path, JSON.stringify(r.error!.issues));
      assert.match(issue.message + JSON.stringify(issue), message);
    }
    assert.deepEqual(cond({ on: 'insight' }), { on: 'insight' });
  });

  it('matches a finding by type, metric and segment, and by site or area when either is given', () => {
    const forecastAtA = finding('forecast', 'site', 'site-a');
    const forecastInArea = finding('forecast', 'area', 'payments');
    const forecastEverywhere = finding('forecast', 'all', 'all');
    const trendAtA = finding('trend', 'site', 'site-a');
    const s = sub(cond({ on: 'insight', types: ['forecast', 'breach'], segments: ['waiting-for-build'], sites: ['site-a'] }));
    assert.equal(insightMatch(s, forecastAtA), true);
    assert.equal(insightMatch(s, trendAtA), false, 'another type');
    assert.equal(insightMatch(s, finding('forecast', 'site', 'site-b')), false, 'another site');
    assert.equal(insightMatch(s, forecastInArea), false, 'about an area, not a site');
    assert.equal(insightMatch(s, forecastEverywhere), false, 'about every change, not one site');
    assert.equal(insightMatch(s, finding('forecast', 'site', 'site-a', { segment: 'test' })), false, 'another segment');
    const either = sub(cond({ on: 'insight', sites: ['site-a'], areas: ['payments'] }));
    assert.deepEqual(
      [forecastAtA, forecastInArea, forecastEverywhere, trendAtA].map((f) => insightMatch(either, f)),
      [true, true, false, true],
    );
    const any = sub(cond({ on: 'insight' }));
    assert.ok([forecastAtA, forecastInArea, forecastEverywhere, trendAtA].every((f) => insightMatch(any, f)));
    const queue = sub(cond({ on: 'insight', metrics: ['failure-rate'] }));
    assert.equal(insightMatch(queue, forecastAtA), false, 'another metric');
    assert.equal(insightMatch(sub({ on: 'stuck', stage: 'test', after: '1h' }), forecastAtA), false, 'not an insight condition');
  });

  it('keeps one episode while a finding holds round after round, its since moving, and begins another after a gap', () => {
    const gap = 6 * HOUR;
    const f = finding('forecast', 'site', 'site-a');
    let known = new Map<string, InsightEpisode>();
    const rounds: InsightEpisode[] = [];
    // Every 10 minutes for 3 hours, the finding's own since sliding with each round.
    for (let t = T0; t <= T0 + 3 * HOUR; t += 10 * 60_000) {
      const [e] = nextEpisodes(known, [{ ...f, since: t - 24 * HOUR }], t, gap);
      rounds.push(e!);
      known = new Map([[e!.finding, e!]]);
    }
    assert.ok(
      rounds.every((e) => e.since === T0 - 24 * HOUR && e.firstSeen === T0),
      'one episode, started at the first round',
    );
    assert.equal(rounds.at(-1)!.lastSeen, T0 + 3 * HOUR);
    // Missed by the rounds for 5 hours (within the gap), then found again: the same episode.
    const gone = T0 + 3 * HOUR + 10 * 60_000;
    const missed = new Map([[f.id, { ...known.get(f.id)!, missedSince: gone }]]);
    const back = gone + 5 * HOUR;
    assert.deepEqual(nextEpisodes(missed, [{ ...f, since: back }], back, gap)[0], {
      finding: f.id,
      since: T0 - 24 * HOUR,
      firstSeen: T0,
      lastSeen: back,
    });
    // Missed for 7 hours: a new one, starting at the finding's since of that round.
    const later = gone + 7 * HOUR;
    assert.deepEqual(nextEpisodes(missed, [{ ...f, since: later - HOUR }], later, gap)[0], {
      finding: f.id,
      since: later - HOUR,
      firstSeen: later,
      lastSeen: later,
    });
    // No round at all for 9 hours (every explorer stopped), so never missed: the same episode when they are back.
    const restart = T0 + 12 * HOUR;
    assert.deepEqual(nextEpisodes(known, [{ ...f, since: restart - HOUR }], restart, gap)[0], {
      finding: f.id,
      since: T0 - 24 * HOUR,
      firstSeen: T0,
      lastSeen: restart,
    });
  });

  it('fires once per subscription and episode, keyed by finding and episode start, with the finding and its evidence', () => {
    const f = finding('forecast', 'site', 'site-a');
    const s = sub(cond({ on: 'insight', types: ['forecast'] }));
    const other = sub(cond({ on: 'insight', types: ['stuck'] }), { id: 'sub-00000000000000bb' });
    const episodes = fresh([f]);
    const [x, ...rest] = insightFirings([s, other], [f], episodes);
    assert.equal(rest.length, 0, 'the stuck subscription does not fire for a forecast');
    const start = new Date(T0 - 24 * HOUR).toISOString();
    assert.equal(x!.key, `sub-00000000000000aa|insight:forecast:queue:waiting-for-build:site:site-a@${start}`);
    assert.equal(x!.subject, insightSubject(f.id, T0 - 24 * HOUR));
    assert.equal(x!.id, firingId(x!.key));
    const body = JSON.parse(x!.body) as Record<string, unknown>;
    assert.deepEqual(body['finding'], f);
    assert.deepEqual(body['episode'], { since: start, firstSeen: new Date(T0).toISOString() });
    assert.deepEqual(body['subscription'], { id: s.id, name: s.name, owner: s.owner });
    // The next round: the finding's since has moved, the episode has not, so the key is the same.
    const moved = { ...f, since: T0 - 20 * HOUR, severity: 0.7 };
    const next = new Map(nextEpisodes(episodes, [moved], T0 + 600_000, 6 * HOUR).map((e) => [e.finding, e]));
    assert.equal(insightFirings([s], [moved], next)[0]!.key, x!.key);
    // A new episode after the rounds missed it for longer than the gap: another key.
    const missed = new Map([...episodes].map(([k, e]) => [k, { ...e, missedSince: T0 + HOUR }]));
    const again = new Map(nextEpisodes(missed, [moved], T0 + 12 * HOUR, 6 * HOUR).map((e) => [e.finding, e]));
    assert.notEqual(insightFirings([s], [moved], again)[0]!.key, x!.key);
    // The same finding for another site is another subject.
    const b = finding('forecast', 'site', 'site-b');
    assert.notEqual(insightFirings([s], [b], fresh([b]))[0]!.key, x!.key);
  });

  it('fires nothing for a disabled subscription or an episode under way before the subscription was saved', () => {
    const f = finding('breach', 'area', 'payments');
    const c = cond({ on: 'insight', areas: ['payments'] });
    assert.equal(insightFirings([sub(c, { enabled: false })], [f], fresh([f])).length, 0);
    const later = sub(c, { createdAt: new Date(T0 + HOUR).toISOString() });
    assert.equal(insightFirings([later], [f], fresh([f], T0)).length, 0, 'first seen before the subscription');
    assert.equal(insightFirings([later], [f], fresh([f], T0 + 2 * HOUR)).length, 1, 'first seen after it');
    assert.equal(insightFirings([sub(c)], [f], new Map()).length, 0, 'no episode recorded');
  });

  it('names the finding among the build parameters of a Jenkins job', () => {
    const f = finding('forecast', 'site', 'site-a');
    const s = sub(cond({ on: 'insight' }), { delivery: { type: 'amqp', jenkins: { project: 'capacity', token: 't' } } });
    const [x] = insightFirings([s], [f], fresh([f]));
    const msg = JSON.parse(amqpBody(s, x!.body).body) as { parameter: Array<{ name: string; value: string }> };
    assert.deepEqual(
      msg.parameter.find((p) => p.name === 'TRACES_FINDING'),
      { name: 'TRACES_FINDING', value: f.id },
    );
  });
});
