/** Test hooks of the ARM stand-in: which requests to fail or slow down. */
import type { ArmRequest } from './http.ts';

/** Which requests a hook applies to: a method and/or a path test on the path below the service (`apis/x`), or a function. */
export type RequestMatcher =
  | { readonly method?: string; readonly path?: string | RegExp }
  | ((request: ArmRequest) => boolean);

export interface FaultOptions {
  /** Seconds, sent as `Retry-After`. */
  readonly retryAfter?: number;
  /** Milliseconds, sent as `retry-after-ms` (the Azure SDK prefers it to `Retry-After`). */
  readonly retryAfterMs?: number;
  readonly code?: string;
  readonly message?: string;
  readonly details?: readonly { code: string; target?: string; message: string }[];
  /** How many matching requests fail; default 1, or every one while `forMs` lasts. */
  readonly times?: number;
  /** Fails every matching request for this long (ms), instead of a number of them: a time-boxed outage. */
  readonly forMs?: number;
  /** The fault starts this long (ms) from now; default at once. With `forMs`, phases of an outage follow each other. */
  readonly afterMs?: number;
  /** Accept the long-running request but report the failure on its operation-result poll (status Failed); nothing is changed. */
  readonly whilePolling?: boolean;
}

export interface Fault {
  readonly matcher: RequestMatcher;
  readonly status: number;
  readonly options: FaultOptions;
  remaining: number;
  /** When the fault applies (Date.now() values); absent, from now on until its uses are spent. */
  readonly window?: { readonly from: number; readonly until: number };
}

/** A fault as `failNext` asks for it: counted, or over a window of time. */
export function newFault(matcher: RequestMatcher, status: number, options: FaultOptions, now: number): Fault {
  const from = now + (options.afterMs ?? 0);
  const timed = options.forMs !== undefined || options.afterMs !== undefined;
  return {
    matcher,
    status,
    options,
    remaining: options.times ?? (options.forMs !== undefined ? Number.POSITIVE_INFINITY : 1),
    ...(timed ? { window: { from, until: from + (options.forMs ?? Number.POSITIVE_INFINITY) } } : {}),
  };
}

const DEFAULT_CODES: Record<number, [string, string]> = {
  400: ['ValidationError', 'One or more fields contain incorrect values.'],
  404: ['ResourceNotFound', 'Resource not found.'],
  408: ['RequestTimeout', 'The request timed out.'],
  409: ['PessimisticConcurrencyConflict', 'Operation on the API is in progress'],
  412: ['PreconditionFailed', 'Resource was modified since last retrieval.'],
  422: ['ManagementApiRequestFailed', 'The request could not be completed in time.'],
  429: [
    'SubscriptionRequestsThrottled',
    'Number of requests for subscription exceeded the limit. Please try again later.',
  ],
  500: ['InternalServerError', 'An internal server error occurred.'],
  503: ['ServiceUnavailable', 'The service is temporarily unavailable.'],
};

export function codeFor(status: number, options: FaultOptions): { code: string; message: string } {
  const [code, message] = DEFAULT_CODES[status] ?? ['Failed', `Injected failure ${status}.`];
  return { code: options.code ?? code, message: options.message ?? message };
}

export function matches(matcher: RequestMatcher, request: ArmRequest): boolean {
  if (typeof matcher === 'function') return matcher(request);
  if (matcher.method !== undefined && matcher.method.toUpperCase() !== request.method) return false;
  if (matcher.path === undefined) return true;
  return typeof matcher.path === 'string'
    ? request.subPath === matcher.path || request.path.includes(matcher.path)
    : matcher.path.test(request.subPath);
}

/** Takes the first fault that matches and applies now, spending one of its uses; drops faults whose time is over. */
export function takeFault(faults: Fault[], request: ArmRequest, now = Date.now()): Fault | undefined {
  for (let i = faults.length - 1; i >= 0; i--) if ((faults[i]!.window?.until ?? Infinity) <= now) faults.splice(i, 1);
  const index = faults.findIndex(
    (f) => f.remaining > 0 && (f.window?.from ?? now) <= now && matches(f.matcher, request),
  );
  if (index < 0) return undefined;
  const fault = faults[index]!;
  fault.remaining -= 1;
  if (fault.remaining === 0) faults.splice(index, 1);
  return fault;
}

export function faultHeaders(options: FaultOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.retryAfter !== undefined) headers['retry-after'] = String(options.retryAfter);
  if (options.retryAfterMs !== undefined) headers['retry-after-ms'] = String(options.retryAfterMs);
  return headers;
}
