/**
 * Readings of the ARM stand-in's request log (`arm.requests`): the requests
 * that concern one API, its reconcile attempts, calls that came sooner than a
 * Retry-After, and the busiest second of writes.
 */
import type { ArmRequestRecord } from '../fakes/arm-apim-server.ts';
import { subscriptionIdFor } from '../../reconciler/render/subscription-secret.ts';

const isWrite = (r: ArmRequestRecord) => r.method !== 'GET' && r.method !== 'HEAD';

/** The API's own paths (revisions and policies included) and its subscription's, oldest first. */
export function requestsOf(requests: readonly ArmRequestRecord[], apiId: string): ArmRequestRecord[] {
  const own = (path: string, prefix: string) =>
    path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix};`);
  return requests
    .filter((r) => own(r.path, `apis/${apiId}`) || own(r.path, `subscriptions/${subscriptionIdFor(apiId)}`))
    .sort((a, b) => a.receivedAt - b.receivedAt);
}

export interface Attempt {
  /** When its first request arrived. */
  readonly start: number;
  /** When its last request was answered. */
  readonly end: number;
  /** The status of the call it failed on; undefined when it did not fail. */
  readonly failedWith: number | undefined;
  readonly requests: number;
}

/**
 * One API's reconcile attempts, as ARM saw them. The SDK's retries of one call
 * share its `x-ms-client-request-id`, so they make one call; a call whose last
 * answer has a failure status ends the attempt (a reconcile's calls are
 * sequential, and the first failure fails the job).
 */
export function attemptsOf(requests: readonly ArmRequestRecord[], failures: ReadonlySet<number>): Attempt[] {
  const calls: ArmRequestRecord[][] = [];
  const byId = new Map<string, ArmRequestRecord[]>();
  for (const r of requests) {
    const known = r.clientRequestId === undefined ? undefined : byId.get(r.clientRequestId);
    if (known) {
      known.push(r);
      continue;
    }
    const call = [r];
    calls.push(call);
    if (r.clientRequestId !== undefined) byId.set(r.clientRequestId, call);
  }
  const attempts: Attempt[] = [];
  let current: ArmRequestRecord[] = [];
  const close = (failedWith: number | undefined) => {
    if (current.length === 0) return;
    const end = Math.max(...current.map((r) => r.at));
    attempts.push({ start: current[0]!.receivedAt, end, failedWith, requests: current.length });
    current = [];
  };
  for (const call of calls) {
    current.push(...call);
    const last = call[call.length - 1]!;
    if (failures.has(last.status)) close(last.status);
  }
  close(undefined);
  return attempts;
}

/** Requests to the API that arrived after one of its 429s was answered, sooner than that 429's Retry-After. */
export function soonerThanRetryAfter(requests: readonly ArmRequestRecord[], retryAfterMs: number): string[] {
  const throttled = requests.filter((r) => r.status === 429);
  return requests.flatMap((r) =>
    throttled
      .filter((t) => r !== t && r.receivedAt >= t.at && r.receivedAt < t.at + retryAfterMs)
      .map((t) => `${r.method} ${r.path} ${r.receivedAt - t.at} ms after a 429`),
  );
}

/** The most writes whose arrivals fall within one `windowMs` (any window, not aligned to the clock). */
export function busiestWrites(requests: readonly ArmRequestRecord[], windowMs = 1000): number {
  const times = requests
    .filter(isWrite)
    .map((r) => r.receivedAt)
    .sort((a, b) => a - b);
  let most = 0;
  for (let first = 0, last = 0; last < times.length; last++) {
    while (times[last]! - times[first]! >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}
