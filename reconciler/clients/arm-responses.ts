/**
 * Sees every HTTP answer ARM sends the APIM client: each attempt the SDK's
 * retry policies make and each poll of a long-running operation, not only the
 * final answer a call returns. That is where a 429 the SDK would otherwise
 * hide, and ARM's remaining request budget, can be read.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';

export interface ArmResponse {
  /** The client call this answer belongs to (`putApi`, ...); `unknown` outside one. */
  readonly operation: string;
  readonly status: number;
  /** `x-ms-ratelimit-remaining-subscription-reads` / `-writes`, when ARM sent them. */
  readonly remaining: { readonly reads?: number; readonly writes?: number };
  /** What the answer asked the client to wait (Retry-After and its millisecond forms). */
  readonly retryAfterMs?: number;
  /** Whether the request was a read (GET, HEAD) or a write, as ARM budgets them. */
  readonly kind: 'reads' | 'writes';
}

/** One client call under way: its name, and whether its first request has gone out. */
export interface CallInProgress {
  readonly operation: string;
  firstSent: boolean;
}

const currentOperation = new AsyncLocalStorage<CallInProgress>();

/** Runs one client call so that the answers its requests get are attributed to `operation`. */
export function withOperation<T>(operation: string, run: () => Promise<T>): Promise<T> {
  return currentOperation.run({ operation, firstSent: false }, run);
}

/** The client call under way, if any. */
export function currentCall(): CallInProgress | undefined {
  return currentOperation.getStore();
}

/** The client call under way (`putApi`, ...); `unknown` outside one. */
export function currentOperationName(): string {
  return currentOperation.getStore()?.operation ?? 'unknown';
}

const REMAINING = {
  reads: 'x-ms-ratelimit-remaining-subscription-reads',
  writes: 'x-ms-ratelimit-remaining-subscription-writes',
} as const;

/** A pipeline policy for after the Retry phase (nearer the wire than the retries), reporting each answer. */
export function armResponsePolicy(onResponse: (response: ArmResponse) => void): PipelinePolicy {
  return {
    name: 'armResponseObserver',
    async sendRequest(request, next) {
      const response = await next(request);
      const remaining: { reads?: number; writes?: number } = {};
      for (const [kind, header] of Object.entries(REMAINING) as [keyof typeof REMAINING, string][]) {
        const value = Number(response.headers.get(header) ?? Number.NaN);
        if (Number.isFinite(value)) remaining[kind] = value;
      }
      const wait = retryAfterMs(response.headers);
      onResponse({
        operation: currentOperationName(),
        status: response.status,
        remaining,
        kind: request.method === 'GET' || request.method === 'HEAD' ? 'reads' : 'writes',
        ...(wait !== undefined ? { retryAfterMs: wait } : {}),
      });
      return response;
    },
  };
}

/** Milliseconds from `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After` (seconds or an HTTP date). */
export function retryAfterMs(
  headers: { get(name: string): string | undefined } | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = Number(headers.get(name));
    if (headers.get(name) !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  }
  const value = headers.get('retry-after');
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
