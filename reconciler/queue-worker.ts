import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import {
  RECONCILE_BACKOFF,
  RECONCILE_JOB,
  RECONCILE_QUEUE,
  reconcileJobOptions,
  type ReconcileJobData,
} from '../shared/jobs.ts';
import { backoffDelay, type BackoffSettings } from '../shared/backoff.ts';
import { PermanentError, RetryableError, errorMessage } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import type { RedisConnections } from '../shared/redis-connection.ts';
import { reconcileSpan } from './reconcile-span.ts';

/** The status reason of a failure that is retried (reconcile.ts writes the same). */
const RETRYING_REASON = 'RetryingAfterError';

/** What a reconcile asks of the queue: done, or look again later without counting it a failure. */
export type ReconcileOutcome =
  | { readonly kind: 'done' }
  | { readonly kind: 'requeue'; readonly afterMs: number; readonly reason: string };

export interface ReconcileContext {
  readonly jobId: string;
  /** 1 for the first try of this job, counting retries after failures. */
  readonly attempt: number;
}

export type ReconcileHandler = (key: string, context: ReconcileContext) => Promise<ReconcileOutcome>;

export interface QueueWorkerOptions {
  readonly connections: RedisConnections;
  readonly prefix: string;
  readonly concurrency: number;
  readonly backoff: BackoffSettings;
  readonly handler: ReconcileHandler;
  readonly log: Logger;
  /** How long a job's lock lives without renewal: a killed worker's job is taken over after about this long. */
  readonly lockDurationMs?: number;
  readonly random?: () => number;
  readonly onSettled?: (key: string, result: 'done' | 'requeued' | 'retrying' | 'permanent', ms: number) => void;
  /** Wraps each reconcile in a span linked to the admissions it absorbed (reconcile-span.ts). */
  readonly tracing?: boolean;
}

export interface QueueWorker {
  /** Stops taking jobs; waits up to `graceMs` for running ones, then hands them back (their locks lapse and another worker takes them). */
  close(graceMs: number): Promise<void>;
}

/**
 * The only file that knows BullMQ's Worker. Jobs hold a key; the handler
 * reads the live object. BullMQ's per-key deduplication with
 * keepLastIfActive (shared/jobs.ts) keeps one key from running twice at
 * once across every worker and replica, and keeps one more run for an
 * update that arrives mid-reconcile.
 */
export function startQueueWorker(options: QueueWorkerOptions): QueueWorker {
  const connection = options.connections.create({ maxRetriesPerRequest: null });
  connection.on('error', (error) =>
    options.log.warn({ err: errorMessage(error) }, 'Redis connection failed; the worker reconnects'),
  );
  const lockDuration = options.lockDurationMs ?? 30_000;
  // "Not ready yet" completes the job and queues a delayed one after it. Were the job itself delayed,
  // a change that arrived while it ran (kept by keepLastIfActive) would wait out the delay with it.
  const producer = options.connections.create({ maxRetriesPerRequest: 3 });
  producer.on('error', () => undefined); // the worker's connection reports Redis trouble
  const requeues = new Queue<ReconcileJobData>(RECONCILE_QUEUE, { connection: producer, prefix: options.prefix });
  requeues.on('error', () => undefined);
  /** Jobs this worker runs now, with the lock token that lets close() hand them back. */
  const running = new Map<string, { job: Job<ReconcileJobData>; token: string | undefined; done: Promise<unknown> }>();
  const process = async (job: Job<ReconcileJobData>, token?: string): Promise<ReconcileOutcome> => {
    const run = options.tracing ? reconcileSpan(producer, options.prefix, job, () => reconcile(job)) : reconcile(job);
    const id = job.id ?? '';
    running.set(id, { job, token, done: run.catch(() => undefined) });
    try {
      return await run;
    } finally {
      running.delete(id);
    }
  };
  const reconcile = async (job: Job<ReconcileJobData>): Promise<ReconcileOutcome> => {
    const key = job.data.key;
    const started = Date.now();
    const settle = (result: 'done' | 'requeued' | 'retrying' | 'permanent'): void =>
      options.onSettled?.(key, result, Date.now() - started);
    let outcome: ReconcileOutcome;
    try {
      outcome = await options.handler(key, { jobId: job.id ?? '', attempt: job.attemptsMade + 1 });
    } catch (error) {
      // The status reason leads the job's error (its failedReason), so the dashboard shows how the failure was classified.
      if (error instanceof PermanentError) {
        settle('permanent');
        throw new UnrecoverableError(`${error.reason}: ${error.message}`);
      }
      settle('retrying');
      throw new RetryableError(`${RETRYING_REASON}: ${errorMessage(error)}`, {
        cause: error,
        ...(error instanceof RetryableError && error.attempt !== undefined ? { attempt: error.attempt } : {}),
        ...(error instanceof RetryableError && error.retryAfterMs !== undefined
          ? { retryAfterMs: error.retryAfterMs }
          : {}),
      });
    }
    settle(outcome.kind === 'requeue' ? 'requeued' : 'done');
    return outcome;
  };
  const worker = new Worker<ReconcileJobData>(RECONCILE_QUEUE, process, {
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration,
    stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
    // A reconcile is idempotent: a job whose worker died is simply run again, however often that happens.
    maxStalledCount: 1_000,
    settings: {
      // The handler's count wins: a job that replaced a backing-off one starts at attempt 1 in BullMQ's eyes.
      backoffStrategy: (attemptsMade, type, error) =>
        type === RECONCILE_BACKOFF
          ? backoffDelay(
              error instanceof RetryableError && error.attempt !== undefined ? error.attempt : attemptsMade,
              options.backoff,
              options.random,
              error instanceof RetryableError ? error.retryAfterMs : undefined,
            )
          : -1,
    },
  });
  worker.on('completed', (job, outcome: ReconcileOutcome) => {
    if (outcome.kind !== 'requeue') return;
    // Joins a job that a change made meanwhile, if any; otherwise waits. A crash right here loses the wait, not the key: the resync has it.
    requeues
      .add(RECONCILE_JOB, { key: job.data.key }, reconcileJobOptions(job.data.key, { delayMs: outcome.afterMs }))
      .catch((error: unknown) => {
        options.log.warn(
          { resource: job.data.key, err: errorMessage(error) },
          'Could not queue the next look; the resync will',
        );
      });
  });
  worker.on('error', (error) => options.log.warn({ err: errorMessage(error) }, 'Queue worker error'));
  worker.on('failed', (job, error) => {
    if (job)
      options.log.warn(
        { resource: job.data.key, jobId: job.id, attempt: job.attemptsMade, err: error.message },
        'Reconcile failed',
      );
  });
  return {
    async close(graceMs) {
      // BullMQ's close(true) after a close() that is still waiting returns that same wait: so
      // stop fetching first, wait out the grace here, and only then close, forcing it.
      await worker.pause(true);
      let timer: NodeJS.Timeout | undefined;
      const graceful = Promise.all([...running.values()].map((r) => r.done)).then(() => true);
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
      const finished = await Promise.race([graceful, late]);
      clearTimeout(timer);
      if (finished) {
        await worker.close();
      } else {
        // Close first (a fetch already under way could otherwise take a handed-back job again), then hand the
        // running jobs back through our own connection: another worker takes them at once, not when the lock expires.
        const left = [...running.values()];
        await worker.close(true);
        await Promise.all(
          left.map(async ({ job, token }) => {
            try {
              const handed = await Job.fromId<ReconcileJobData>(requeues, job.id ?? '');
              if (!handed) return;
              await handed.moveToWait(token);
              options.log.info(
                { resource: job.data.key, jobId: job.id },
                'Handed a running reconcile back to the queue at shutdown',
              );
            } catch (error) {
              options.log.warn(
                { resource: job.data.key, jobId: job.id, err: errorMessage(error) },
                'Could not hand a running reconcile back; its lock will lapse',
              );
            }
          }),
        );
      }
      await requeues.close();
      producer.disconnect();
      connection.disconnect();
    },
  };
}
