import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

/**
 * Every Cypher statement the code sends, snapshotted to `libs/graph/queries.cypher` so that a reviewer
 * sees each query, and each change to one, in plain Cypher. Read from the sources (tests run from the
 * repository root): the text passed to `read`, `write`, `run` (a method or the write path's own) and `executeQuery`, and constants holding a statement,
 * each under the file and function it lives in; `${…}` marks a part put in from code (labels and
 * property names from fixed lists, never request text). `UPDATE_QUERIES=1` rewrites the file.
 */
const ROOT = process.cwd();
const SNAPSHOT = join(ROOT, 'libs', 'graph', 'queries.cypher');
const DIRS = ['libs/graph/src', 'apps/correlator/src', 'apps/explorer/src'];
const STATEMENT = /^\s*(MATCH|OPTIONAL MATCH|UNWIND|MERGE|CALL|WITH|CREATE|RETURN)\b/;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir))
    .flatMap((f) => {
      const p = join(dir, f);
      if (statSync(join(ROOT, p)).isDirectory()) return sources(p);
      return f.endsWith('.ts') && !f.endsWith('.spec.ts') ? [p] : [];
    })
    .sort();
}

function text(node: ts.Node, file: ts.SourceFile): string | undefined {
  if (ts.isNoSubstitutionTemplateLiteral(node) || ts.isStringLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) {
    let out = node.head.text;
    for (const span of node.templateSpans) out += '${' + span.expression.getText(file) + '}' + span.literal.text;
    return out;
  }
  return undefined;
}

function owner(node: ts.Node): string {
  const names: string[] = [];
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isClassDeclaration(n)) && n.name) names.unshift(n.name.getText());
    else if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name)) names.unshift(n.name.text);
  }
  return names.join('.') || '(module)';
}

function dedent(s: string): string {
  const lines = s.replace(/^\n+|\s+$/g, '').split('\n');
  const indent = Math.min(
    ...lines
      .slice(1)
      .filter((l) => l.trim())
      .map((l) => l.match(/^ */)![0].length),
    Infinity,
  );
  return [lines[0]!.trim(), ...lines.slice(1).map((l) => (Number.isFinite(indent) ? l.slice(indent) : l))].join('\n');
}

/** The snapshot's text: every statement under `// <file> <owner>`. */
export function collectQueries(): string {
  const out: string[] = [
    '// Every Cypher statement the apps send, by file and function (libs/graph/src/queries.spec.ts writes it).',
    '// ${…} is a part put in from code: labels and property names from fixed lists, never request text.',
  ];
  for (const path of DIRS.flatMap(sources)) {
    const file = ts.createSourceFile(path, readFileSync(join(ROOT, path), 'utf8'), ts.ScriptTarget.ES2022, true);
    const found: Array<{ where: string; q: string }> = [];
    const visit = (node: ts.Node): void => {
      // `x.run(…)`, and a plain `run(…)`: the write path sends its statements through one (graph.repository.ts).
      const callee = ts.isCallExpression(node)
        ? ts.isPropertyAccessExpression(node.expression)
          ? node.expression.name.text
          : ts.isIdentifier(node.expression) && node.expression.text === 'run'
            ? 'run'
            : undefined
        : undefined;
      if (ts.isCallExpression(node) && callee && ['read', 'write', 'run', 'executeQuery'].includes(callee)) {
        const q = node.arguments[0] && text(node.arguments[0], file);
        if (q !== undefined && STATEMENT.test(q)) found.push({ where: owner(node), q });
      } else if (ts.isVariableDeclaration(node) && node.initializer) {
        const q = text(node.initializer, file);
        if (q !== undefined && STATEMENT.test(q)) found.push({ where: owner(node.initializer), q });
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
    for (const f of found)
      out.push('', `// ${relative(ROOT, join(ROOT, path))} ${f.where}`, dedent(f.q) + (dedent(f.q).endsWith(';') ? '' : ';'));
  }
  return out.join('\n') + '\n';
}

describe('the Cypher snapshot (libs/graph/queries.cypher)', () => {
  it('holds every statement the code sends, as the code has it', () => {
    const now = collectQueries();
    if (process.env['UPDATE_QUERIES'] === '1') writeFileSync(SNAPSHOT, now);
    let kept = '';
    try {
      kept = readFileSync(SNAPSHOT, 'utf8');
    } catch {
      assert.fail('libs/graph/queries.cypher is missing: write it with UPDATE_QUERIES=1 node --test dist/libs/graph/src/queries.spec.js');
    }
    assert.ok(now.split('\n// ').length > 40, 'the statements were found');
    assert.equal(
      now,
      kept,
      'a query changed: review it, then UPDATE_QUERIES=1 node --test dist/libs/graph/src/queries.spec.js (and commit libs/graph/queries.cypher)',
    );
  });
});
