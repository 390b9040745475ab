import type { JobsOptions } from 'bullmq';

/**
 * The one place that knows how reconcile work is queued: the queue's name,
 * what a job holds, and how repeated keys collapse. A job holds only the key:
 * the worker reads the live object, so nothing in a job can go stale or leak.
 */
export const RECONCILE_QUEUE = 'exposedapi-reconcile';
export const RECONCILE_JOB = 'reconcile';
/** Redis key prefix of the queue: BullMQ's own default; several installations can share one Redis with different ones. */
export const DEFAULT_QUEUE_PREFIX = 'bull';

export interface ReconcileJobData {
  readonly key: string;
}

/** The backoff type the reconciler's workers compute (shared/backoff.ts): exponential, jittered, capped, Retry-After aware. */
export const RECONCILE_BACKOFF = 'reconcile';
/** Transient failures retry for as long as they last; the cap on the delay keeps that cheap. */
const RECONCILE_ATTEMPTS = 1_000_000;

/**
 * Deduplicated by key with `keepLastIfActive`: while a job for a key waits, a
 * new request joins it (the worker will read the latest object anyway); while
 * one runs, exactly one more is kept to run after it. A plain `jobId` would
 * drop an update that arrives mid-reconcile, and would let a kept failed job
 * swallow new ones. `replace` makes a new request take the place of a delayed
 * job (a backoff, or a "not ready yet" wait): something changed, so look now.
 */
export function reconcileJobOptions(key: string, delayMs: number): JobsOptions {
  return {
    deduplication: { id: key, keepLastIfActive: true, replace: true },
    delay: delayMs,
    attempts: RECONCILE_ATTEMPTS,
    backoff: { type: RECONCILE_BACKOFF },
    removeOnComplete: { count: 1000, age: 24 * 3600 },
    removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
  };
}
