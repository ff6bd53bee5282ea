import { ConfigError, StartupError } from '@not/config';
import { redact } from './json.logger.js';

/**
 * Runs an app's start-up and turns the failures a user can cause (bad config,
 * unreachable broker, wrong password) into one clear line and a non-zero exit,
 * never a stack trace.
 */
export async function runMain(app: string, start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${app}: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof StartupError) {
      process.stderr.write(`${app}: ${redact(err.message)}\n`);
      process.exit(1);
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${app}: failed to start: ${redact(message)}\n`);
    process.exit(1);
  }
}
