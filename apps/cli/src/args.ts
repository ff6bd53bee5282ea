/** A small, strict argument parser: `--flag`, `--key value`, `--key=value`, positionals. */
export interface ParsedArgs {
  readonly positionals: string[];
  readonly options: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[], valued: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-' || !a.startsWith('-')) {
      positionals.push(a);
      continue;
    }
    const [name, inline] = a.replace(/^--?/, '').split(/=(.*)/s, 2) as [string, string | undefined];
    if (valued.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      options.set(name, value);
    } else {
      options.set(name, true);
    }
  }
  return { positionals, options };
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function requireOption(args: ParsedArgs, name: string): string {
  const v = args.options.get(name);
  if (typeof v !== 'string') throw new UsageError(`--${name} <value> is required`);
  return v;
}

export function checkKnown(args: ParsedArgs, known: readonly string[]): void {
  for (const k of args.options.keys()) {
    if (!known.includes(k)) throw new UsageError(`unknown option --${k}`);
  }
}
