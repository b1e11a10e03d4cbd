import { validatePath } from '../../../core/index.js';
import { UsageError } from '../exit-codes.js';

/** Checks a path argument up front, so a bad path fails before any connection is made. */
export function pathArg(path: unknown): string {
  validatePath(String(path));
  return String(path);
}

/** An optional whole-number option ≥ `min`, or a UsageError naming the flag. */
export function intArg(value: number | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${flag} must be an integer ≥ ${min}, got ${String(value)}`);
  return value;
}
