import { pino, type Logger, type LoggerOptions } from 'pino';
import { traceFields } from './tracing.ts';

export type { Logger };

/**
 * Paths redacted wherever they appear in a log object: credentials and the
 * subscription keys the reconciler reads must never reach a log line.
 */
const REDACT = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'clientSecret',
  '*.clientSecret',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'primaryKey',
  '*.primaryKey',
  'secondaryKey',
  '*.secondaryKey',
];

export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    // A line written inside a span carries its trace_id and span_id; with tracing off there is never an active span.
    mixin: traceFields,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that writes nothing, for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
