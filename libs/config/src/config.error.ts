/** A configuration problem a user can fix: carries every problem found, each with its path in the file. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * A failure a user can act on at start-up (unreachable broker, wrong password):
 * printed as one line naming the setting to change, never as a stack trace.
 */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly setting?: string,
  ) {
    super(setting ? `${message} (check setting: ${setting})` : message);
    this.name = 'StartupError';
  }
}
