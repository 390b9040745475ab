import { Queue } from 'bullmq';
import {
  RECONCILE_JOB,
  RECONCILE_QUEUE,
  reconcileJobOptions,
  type EnqueueOptions,
  type ReconcileJobData,
} from './jobs.ts';
import type { Logger } from './log.ts';
import { errorMessage } from './errors.ts';
import type { RedisConnections } from './redis-connection.ts';
import { activeTraceparent } from './tracing.ts';
import { recordAdmission } from './tracing-links.ts';
import { batchingSender, type BatchedRequest } from './enqueue-batch.ts';

/** Jobs per Redis pipeline: large enough for any burst of admissions, small enough to keep one reply quick. */
const MAX_BATCH = 500;

/** What admission needs of the queue: ask for a reconcile of a key, and report connection health. */
export interface ReconcileEnqueuer {
  /** `replace` and `delayMs` as in EnqueueOptions; the enqueuer's own delay when none is given. */
  enqueue(key: string, options?: EnqueueOptions): Promise<void>;
  /** Records the active trace context for the key's next reconcile without queueing (a request coalesced into a queued job). */
  note?(key: string): Promise<void>;
  state(): string;
  close(): Promise<void>;
}

/**
 * A BullMQ producer that fails fast: no offline queue and one try per command,
 * so that a Redis outage turns into a quick error instead of a waiting request.
 */
export function createQueueEnqueuer(options: {
  connections: RedisConnections;
  prefix: string;
  delayMs: number;
  log: Logger;
}): ReconcileEnqueuer {
  const connection = options.connections.create({
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // Admissions arrive in bursts: their trace links go out in one write per event-loop turn.
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(times * 500, 5000),
  });
  let lastError = '';
  connection.on('error', (error) => {
    // ioredis repeats the same error on every reconnect attempt: log each change once.
    const message = errorMessage(error);
    if (message !== lastError)
      options.log.warn({ err: message }, 'Redis connection failed; admissions go on without queueing');
    lastError = message;
  });
  connection.on('ready', () => {
    if (lastError) options.log.info('Redis connection restored');
    lastError = '';
  });
  const queue = new Queue<ReconcileJobData>(RECONCILE_QUEUE, { connection, prefix: options.prefix });
  queue.on('error', () => undefined); // already logged by the connection's handler
  const jobOf = ({ key, traceparent, options: jobOptions }: BatchedRequest) => ({
    name: RECONCILE_JOB,
    data: traceparent ? { key, traceparent } : { key },
    opts: reconcileJobOptions(key, { delayMs: options.delayMs, ...jobOptions }),
  });
  // addBulk runs each job's own add script (deduplication included) in one pipeline.
  const send = batchingSender(async (requests) => {
    await queue.addBulk(requests.map(jobOf));
  }, MAX_BATCH);
  /** With tracing on, the active span's context goes on the key's link list (see tracing-links.ts); off, nothing is sent. */
  const note = async (key: string, traceparent = activeTraceparent()): Promise<void> => {
    if (traceparent) await recordAdmission(connection, options.prefix, key, traceparent);
  };
  return {
    async enqueue(key, enqueueOptions = {}) {
      const traceparent = activeTraceparent();
      // The link first, so that a worker taking the job at once finds it.
      await note(key, traceparent);
      await send({ key, options: enqueueOptions, ...(traceparent ? { traceparent } : {}) });
    },
    note: (key) => note(key),
    state: () => connection.status,
    async close() {
      // Disconnect first: with Redis down, BullMQ would otherwise wait for a connection that never comes.
      connection.disconnect();
      await queue.close().catch(() => undefined);
    },
  };
}

/**
 * Skips the queue for a key it queued moments ago. The job queued then is
 * delayed by `delayMs` and has not started, so it will read this admission's
 * object too; a window of half the delay leaves the API server ample time to
 * persist. Should a deduplicated job run sooner than that, the reconciler's
 * watcher still queues the key once the object is stored: the webhook's
 * enqueue is a head start, the watch is the guarantee.
 */
export function coalescing(
  enqueuer: ReconcileEnqueuer,
  windowMs: number,
  now: () => number = Date.now,
): ReconcileEnqueuer {
  const queuedAt = new Map<string, number>();
  const MAX_KEYS = 10_000;
  return {
    async enqueue(key, options) {
      const at = now();
      const last = queuedAt.get(key);
      if (last !== undefined && at - last < windowMs) {
        // Still an admission the queued job will act on: its span is linked from that reconcile.
        await enqueuer.note?.(key);
        return;
      }
      await enqueuer.enqueue(key, options);
      if (queuedAt.size >= MAX_KEYS) queuedAt.clear();
      queuedAt.set(key, at);
    },
    ...(enqueuer.note ? { note: enqueuer.note } : {}),
    state: () => enqueuer.state(),
    close: () => enqueuer.close(),
  };
}

export type EnqueueResult = 'enqueued' | 'failed' | 'timeout';

/**
 * Waits at most `timeoutMs` for the queue; admission never fails or stalls
 * because of Redis. An admitted change is a real change: it replaces a
 * delayed job for the key (the reconciler still honours a Retry-After that
 * ARM gave for the principal, through its shared ARM budget).
 */
export async function enqueueWithin(
  enqueuer: ReconcileEnqueuer,
  key: string,
  timeoutMs: number,
): Promise<{ result: EnqueueResult; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ result: EnqueueResult; error: string }>((resolve) => {
    timer = setTimeout(
      () => resolve({ result: 'timeout', error: `no answer from Redis within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  const attempt = enqueuer.enqueue(key, { replace: true }).then(
    () => ({ result: 'enqueued' as const }),
    (error: unknown) => ({ result: 'failed' as const, error: errorMessage(error) }),
  );
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
