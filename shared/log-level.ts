import { oneOf, type Env } from './env.ts';
import { errorMessage } from './errors.ts';
import { createLogger, type Logger } from './log.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOG_LEVEL, checked at start: pino would otherwise throw on an unknown level at the first logger made. */
export function logLevelFrom(env: Env, fallback: LogLevel = 'info'): LogLevel {
  return oneOf(env, 'LOG_LEVEL', LOG_LEVELS, fallback);
}

/**
 * A process's logger at its LOG_LEVEL. A level that cannot work ends the
 * process with one line on stderr, since there is no logger yet to say it.
 */
export function processLogger(name: string, env: Env = process.env): Logger {
  try {
    return createLogger(name, logLevelFrom(env));
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n`);
    process.exit(1);
  }
}
