/**
 * ARM's request budget per subscription, as its answers report it: every read
 * (GET, HEAD) carries `x-ms-ratelimit-remaining-subscription-reads`, every
 * write `x-ms-ratelimit-remaining-subscription-writes`, each one lower than
 * the last (ARM's hourly budgets: 12,000 reads and 1,200 writes).
 */
export interface RateLimitBudget {
  /** The headers of the answer to this request, spending one from its budget. */
  spend(method: string): Record<string, string>;
  remaining(): { reads: number; writes: number };
}

export function createRateLimitBudget(start = { reads: 12_000, writes: 1_200 }): RateLimitBudget {
  const left = { ...start };
  return {
    spend(method) {
      const kind = method === 'GET' || method === 'HEAD' ? 'reads' : 'writes';
      left[kind] = Math.max(0, left[kind] - 1);
      return { [`x-ms-ratelimit-remaining-subscription-${kind}`]: String(left[kind]) };
    },
    remaining: () => ({ ...left }),
  };
}
