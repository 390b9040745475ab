/**
 * How a failed Kubernetes call becomes one of our errors: 404 is the caller's
 * to interpret; a refusal that a retry cannot fix (400, 403, 422, ...) is
 * permanent; everything else (409, 429, 5xx, network) is retryable, with the
 * server's Retry-After.
 */
import { PermanentError, RetryableError } from '../../shared/errors.ts';
import { describeError } from '../../shared/kube/errors.ts';

interface ApiFailure {
  code?: unknown;
  body?: unknown;
  headers?: Record<string, string>;
}

export function statusOf(error: unknown): number | undefined {
  const code = (error as ApiFailure | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Retry-After in ms: delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const PERMANENT = new Set([400, 403, 404, 405, 406, 410, 413, 415, 422]);

/** Our error for a failed call: permanent when a retry cannot help, else retryable. */
export function classify(error: unknown, what: string): Error {
  const status = statusOf(error);
  const message = `${what}: ${describeError(error)}`;
  if (status !== undefined && PERMANENT.has(status)) return new PermanentError(message, { cause: error });
  const headers = (error as ApiFailure | null)?.headers ?? {};
  return new RetryableError(message, { cause: error, retryAfterMs: retryAfterMs(headers['retry-after']) });
}
