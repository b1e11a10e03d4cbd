import type { Logger } from '../../core/index.js';

/**
 * A logger for tests: silent, except that errors logged by the client (a watcher that
 * threw, a failed close step) are kept so a case can assert on them.
 */
export const quietLogger: Logger & { errors: unknown[] } = {
  errors: [],
  debug() {},
  info() {},
  warn() {},
  error(obj: object | string) {
    quietLogger.errors.push(obj);
    if (quietLogger.errors.length > 100) quietLogger.errors.shift();
  },
};
