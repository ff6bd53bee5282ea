/**
 * Work-item keys in commit messages, titles and branch names.
 *
 * A pattern is a regular expression source. The key is the pattern's first capture group when it
 * has one, else the whole match. A key that starts with `#` is an issue number of the repository
 * the text belongs to and becomes `<repository>#<n>`; without a repository it is skipped.
 */
import { fail } from './errors.js';

export const DEFAULT_WORK_ITEM_PATTERNS: readonly string[] = ['\\b([A-Z][A-Z0-9]+-\\d+)\\b', '(?:^|[^\\w&/])(#\\d+)\\b'];

/** Upper-case prefixes that look like tracker keys but name standards and encodings. */
const NOT_WORK_ITEMS = new Set(['UTF', 'SHA', 'ISO', 'RFC', 'CVE', 'CWE', 'MD', 'X', 'ECMA', 'HTTP', 'TLS', 'AES', 'RSA']);

export interface WorkItemOptions {
  readonly patterns?: readonly string[];
  /** Normalised repository the text belongs to; binds `#n` references. */
  readonly repository?: string;
}

const compiled = new Map<string, RegExp>();

function compile(source: string): RegExp {
  let re = compiled.get(source);
  if (!re) {
    try {
      re = new RegExp(source, 'g');
    } catch (e) {
      fail(
        `work-item pattern is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`,
        'options.workItemPatterns',
      );
    }
    if (compiled.size > 256) compiled.clear();
    compiled.set(source, re);
  }
  re.lastIndex = 0;
  return re;
}

/** Work-item keys found in `text`, unique, in order of first appearance. */
export function findWorkItems(text: string | undefined, options: WorkItemOptions = {}): string[] {
  if (!text) return [];
  const found = new Set<string>();
  for (const source of options.patterns ?? DEFAULT_WORK_ITEM_PATTERNS) {
    const re = compile(source);
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      if (m[0] === '') {
        re.lastIndex++;
        continue;
      }
      const raw = (m[1] ?? m[0]).trim();
      if (raw.startsWith('#')) {
        if (options.repository) found.add(`${options.repository}#${raw.slice(1)}`);
        continue;
      }
      const dash = raw.lastIndexOf('-');
      if (dash > 0 && NOT_WORK_ITEMS.has(raw.slice(0, dash))) continue;
      found.add(raw);
    }
  }
  return [...found];
}
