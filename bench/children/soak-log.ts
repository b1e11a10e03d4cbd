import type { Logger } from '../../core/index.js';

/**
 * A logger for the soak's children: error-level messages become `LOG <message>` lines the
 * soak counts (a client's loud reports, e.g. a store rolled back, are findings); the rest
 * is dropped.
 */
export const lineLogger: Logger = {
  debug() {}, info() {}, warn() {},
  error(obj: object | string, msg?: string) {
    const text = typeof obj === 'string' ? obj : msg ?? JSON.stringify(obj);
    console.log(`LOG ${text.replace(/\s+/g, ' ')}`);
  },
};
