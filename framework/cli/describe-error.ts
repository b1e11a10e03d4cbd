import { CorralError } from '../../core/index.js';

/**
 * One line that tells a person what went wrong, without a stack trace: the error's own
 * message (corral's errors name the path or option), prefixed for the few that need it.
 */
export function describeError(err: unknown): string {
  if (err instanceof CorralError) return firstLine(err.message);
  if (err instanceof Error) {
    if (err.name === 'UsageError' || err.name === 'UnavailableError' || err.name === 'ExitError') return firstLine(err.message);
    return firstLine(`${err.name}: ${err.message}`);
  }
  return firstLine(String(err));
}

/** Keeps the message on one line (yargs puts details on the next ones). */
function firstLine(s: string): string {
  return s.trim().replace(/\s*\n\s*/g, ' ');
}
