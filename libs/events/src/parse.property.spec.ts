import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FORMATS, type Format } from './model.js';
import { parseMessage } from './parse.js';
import { eiffelExamples, eiffelFixturesDir, localSamples, message, readJson } from './testing/fixtures.js';

const reference = (readJson(join(eiffelFixturesDir(), 'reference-50.json')) as unknown[]).slice(0, 200);
const valid: { format: Format; body: unknown }[] = [
  ...eiffelExamples().map((e) => ({ format: 'eiffel' as Format, body: e.event })),
  ...reference.map((body) => ({ format: 'eiffel' as Format, body })),
  ...(['jenkins', 'github', 'gitlab', 'gitea', 'git-hook', 'cdevents', 'gerrit', 'nexus', 'artifactory', 'verdaccio'] as const).flatMap(
    (format) => localSamples(format).map((s) => ({ format, body: s.json })),
  ),
];

/** Every accepted result must name an id for each event; nothing may throw. */
function checkNeverThrowsAndHasIds(format: Format, body: Uint8Array | string | unknown): void {
  const r = parseMessage(message(format, body));
  if (r.ok) {
    for (const e of r.events) {
      assert.equal(typeof e.id, 'string');
      assert.ok(e.id.length > 0, 'accepted an event without an id');
    }
  } else {
    assert.equal(typeof r.rejection.reason, 'string');
  }
}

type Path = (string | number)[];

function paths(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function mutate(body: unknown, path: Path, replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return replacement;
  const copy = JSON.parse(JSON.stringify(body)) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = replacement;
  return copy;
}

const jsonValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string(),
  fc.constant(''),
  fc.constant('0000000000000000000000000000000000000000'),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 3 }),
);

describe('parser robustness (property-based)', () => {
  it('never throws on random bytes, for every format', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FORMATS), fc.uint8Array({ maxLength: 300 }), (format, bytes) => {
        checkNeverThrowsAndHasIds(format, bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on random JSON values, for every format', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FORMATS), fc.jsonValue({ maxDepth: 4 }), (format, value) => {
        checkNeverThrowsAndHasIds(format, JSON.stringify(value) ?? 'null');
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws and never accepts an event without an id when a valid event is mutated', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), jsonValue, fc.boolean(), (which, where, replacement, remove) => {
        const sample = valid[which % valid.length]!;
        const all = paths(sample.body);
        const path = all[where % all.length]!;
        checkNeverThrowsAndHasIds(sample.format, JSON.stringify(mutate(sample.body, path, replacement, remove)) ?? 'null');
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws when a valid body is cut short or has a byte flipped', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (which, at, byte, cut) => {
        const sample = valid[which % valid.length]!;
        const bytes = new TextEncoder().encode(JSON.stringify(sample.body));
        const i = at % bytes.length;
        const changed = cut ? bytes.slice(0, i) : bytes.map((b, j) => (j === i ? byte : b));
        checkNeverThrowsAndHasIds(sample.format, changed);
      }),
      { numRuns: 3000 },
    );
  });
});
