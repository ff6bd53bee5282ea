/**
 * Finds the config file for an app: `--config <file>` on the command line,
 * else the named environment variable, else the default. The one place apps
 * look at argv/env for configuration.
 */
export function configPath(argv: readonly string[], envName: string, fallback?: string): string | undefined {
  const i = argv.indexOf('--config');
  if (i >= 0 && argv[i + 1]) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith('--config='));
  if (eq) return eq.slice('--config='.length);
  return process.env[envName] ?? fallback;
}
