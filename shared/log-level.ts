import { oneOf, type Env } from './env.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOG_LEVEL, checked at start: pino would otherwise throw on an unknown level at the first logger made. */
export function logLevelFrom(env: Env, fallback: LogLevel = 'info'): LogLevel {
  return oneOf(env, 'LOG_LEVEL', LOG_LEVELS, fallback);
}
