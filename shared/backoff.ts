export interface BackoffSettings {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * Exponential backoff with jitter and a cap: `base × 2^(attempt-1)`, capped,
 * then drawn from its upper half so that keys failing together spread out.
 * A server's Retry-After is a floor: waiting less would only be refused again.
 */
export function backoffDelay(
  attempt: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
  retryAfterMs?: number,
): number {
  const exponential = Math.min(settings.maxMs, settings.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const jittered = Math.round(exponential / 2 + (random() * exponential) / 2);
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, settings.maxMs));
}
