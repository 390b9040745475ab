import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { RECONCILE_JOB, RECONCILE_QUEUE, reconcileJobOptions, type ReconcileJobData } from '../shared/jobs.ts';
import type { Logger } from '../shared/log.ts';
import { errorMessage } from '../shared/errors.ts';

/** What admission needs of the queue: ask for a reconcile of a key, and report connection health. */
export interface ReconcileEnqueuer {
  enqueue(key: string): Promise<void>;
  state(): string;
  close(): Promise<void>;
}

/**
 * A BullMQ producer that fails fast: no offline queue and one try per command,
 * so that a Redis outage turns into a quick error instead of a waiting request.
 */
export function createQueueEnqueuer(options: { redisUrl: string; prefix: string; delayMs: number; log: Logger }): ReconcileEnqueuer {
  const connection = new Redis(options.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 500, 5000),
  });
  let lastError = '';
  connection.on('error', (error) => {
    // ioredis repeats the same error on every reconnect attempt: log each change once.
    const message = errorMessage(error);
    if (message !== lastError) options.log.warn({ err: message }, 'Redis connection failed; admissions go on without queueing');
    lastError = message;
  });
  connection.on('ready', () => {
    if (lastError) options.log.info('Redis connection restored');
    lastError = '';
  });
  const queue = new Queue<ReconcileJobData>(RECONCILE_QUEUE, { connection, prefix: options.prefix });
  queue.on('error', () => undefined); // already logged by the connection's handler
  return {
    async enqueue(key) {
      await queue.add(RECONCILE_JOB, { key }, reconcileJobOptions(key, options.delayMs));
    },
    state: () => connection.status,
    async close() {
      // Disconnect first: with Redis down, BullMQ would otherwise wait for a connection that never comes.
      connection.disconnect();
      await queue.close().catch(() => undefined);
    },
  };
}

export type EnqueueResult = 'enqueued' | 'failed' | 'timeout';

/** Waits at most `timeoutMs` for the queue; admission never fails or stalls because of Redis. */
export async function enqueueWithin(enqueuer: ReconcileEnqueuer, key: string, timeoutMs: number): Promise<{ result: EnqueueResult; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ result: EnqueueResult; error: string }>((resolve) => {
    timer = setTimeout(() => resolve({ result: 'timeout', error: `no answer from Redis within ${timeoutMs} ms` }), timeoutMs);
  });
  const attempt = enqueuer.enqueue(key).then(
    () => ({ result: 'enqueued' as const }),
    (error: unknown) => ({ result: 'failed' as const, error: errorMessage(error) }),
  );
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
