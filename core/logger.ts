import { pino } from 'pino';

/** The logging surface corral needs; a pino logger fits it, so does `console`. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

let fallback: Logger | undefined;

/** A pino logger on stderr at CORRAL_LOG_LEVEL (default `warn`: only what needs attention). */
export function defaultLogger(): Logger {
  fallback ??= pino({ name: 'corral', level: process.env.CORRAL_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  return fallback;
}
