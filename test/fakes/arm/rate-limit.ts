/**
 * ARM's request budget per principal, as its answers report it: every read
 * (GET, HEAD) carries `x-ms-ratelimit-remaining-subscription-reads`, every
 * write `x-ms-ratelimit-remaining-subscription-writes`.
 *
 * Two models, as ARM has had: by default the older hourly budgets (12,000
 * reads and 1,200 writes, counting down, never refused here); or, after
 * `throttle()`, the current token buckets (reads: 250 refilled at 25/s,
 * writes: 200 at 10/s), where a request that finds its bucket empty gets 429
 * with the Retry-After until a token is back.
 */
export type RequestKind = 'reads' | 'writes';
export interface Bucket {
  readonly capacity: number;
  readonly perSecond: number;
}
export const ARM_BUCKETS: Record<RequestKind, Bucket> = {
  reads: { capacity: 250, perSecond: 25 },
  writes: { capacity: 200, perSecond: 10 },
};

export type Spent =
  | { readonly ok: true; readonly headers: Record<string, string> }
  | { readonly ok: false; readonly retryAfterSeconds: number; readonly headers: Record<string, string> };

export interface RateLimitBudget {
  /** Spends one request of this method's kind: its answer's headers, or a refusal. */
  spend(method: string): Spent;
  remaining(): { reads: number; writes: number };
  /** Switches to the token buckets; counting starts full. */
  throttle(buckets?: Partial<Record<RequestKind, Bucket>>): void;
  /** How many requests the buckets refused. */
  throttled(): number;
}

const header = (kind: RequestKind, left: number) => ({
  [`x-ms-ratelimit-remaining-subscription-${kind}`]: String(Math.max(0, Math.floor(left))),
});

export function createRateLimitBudget(
  start = { reads: 12_000, writes: 1_200 },
  now: () => number = Date.now,
): RateLimitBudget {
  const left = { ...start };
  let buckets: Record<RequestKind, Bucket> | undefined;
  const at = { reads: now(), writes: now() };
  let refused = 0;
  const refill = (kind: RequestKind) => {
    if (!buckets) return;
    const t = now();
    left[kind] = Math.min(buckets[kind].capacity, left[kind] + ((t - at[kind]) * buckets[kind].perSecond) / 1000);
    at[kind] = t;
  };
  return {
    spend(method) {
      const kind: RequestKind = method === 'GET' || method === 'HEAD' ? 'reads' : 'writes';
      refill(kind);
      if (buckets && left[kind] < 1) {
        refused += 1;
        const retryAfterSeconds = Math.ceil((1 - left[kind]) / buckets[kind].perSecond);
        return { ok: false, retryAfterSeconds, headers: header(kind, 0) };
      }
      left[kind] = Math.max(0, left[kind] - 1);
      return { ok: true, headers: header(kind, left[kind]) };
    },
    remaining: () => ({ reads: Math.floor(left.reads), writes: Math.floor(left.writes) }),
    throttle(custom = {}) {
      buckets = { ...ARM_BUCKETS, ...custom };
      left.reads = buckets.reads.capacity;
      left.writes = buckets.writes.capacity;
      at.reads = at.writes = now();
    },
    throttled: () => refused,
  };
}
