import type { JobsOptions } from 'bullmq';

/**
 * The one place that knows how reconcile work is queued: the queue's name,
 * what a job holds, and how repeated keys collapse. A job holds only the key
 * (and, with tracing on, the W3C trace context of the request that queued
 * it): the worker reads the live object, so nothing in a job can go stale or leak.
 */
export const RECONCILE_QUEUE = 'exposedapi-reconcile';
export const RECONCILE_JOB = 'reconcile';
/** Redis key prefix of the queue: BullMQ's own default; several installations can share one Redis with different ones. */
export const DEFAULT_QUEUE_PREFIX = 'bull';

export interface ReconcileJobData {
  readonly key: string;
  /** W3C `traceparent` of the admission that made the job; the reconcile's span is its child. Only ids, never a secret. */
  readonly traceparent?: string;
}

/** The backoff type the reconciler's workers compute (shared/backoff.ts): exponential, jittered, capped, Retry-After aware. */
export const RECONCILE_BACKOFF = 'reconcile';
/** Transient failures retry for as long as they last; the cap on the delay keeps that cheap. */
const RECONCILE_ATTEMPTS = 1_000_000;

/** How a request for a reconcile meets a job for the same key that is waiting out a delay. */
export interface EnqueueOptions {
  /** Delay of a new job (ms); default 0. */
  readonly delayMs?: number;
  /**
   * True for a real change (the resource's spec, labels or deletion, the thing a
   * "not ready yet" wait is waiting for): a delayed job is replaced and the key
   * is looked at now. False (a resync, an event that changes nothing the key
   * waits on): it joins the delayed job, so a backoff that honours ARM's
   * Retry-After is never cut short by it.
   */
  readonly replace?: boolean;
}

/**
 * Deduplicated by key with `keepLastIfActive`: while a job for a key waits, a
 * new request joins it (the worker will read the latest object anyway); while
 * one runs, exactly one more is kept to run after it. A plain `jobId` would
 * drop an update that arrives mid-reconcile, and would let a kept failed job
 * swallow new ones. With `replace`, a new request takes the place of a
 * delayed one (see EnqueueOptions). A replacing job starts BullMQ's attempt
 * count afresh; the reconciler carries the count on from `status.retry`.
 */
export function reconcileJobOptions(key: string, options: EnqueueOptions = {}): JobsOptions {
  return {
    deduplication: { id: key, keepLastIfActive: true, replace: options.replace ?? false },
    delay: options.delayMs ?? 0,
    attempts: RECONCILE_ATTEMPTS,
    backoff: { type: RECONCILE_BACKOFF },
    removeOnComplete: { count: 1000, age: 24 * 3600 },
    removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
  };
}
