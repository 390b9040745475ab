import type { EnqueueOptions } from './jobs.ts';

/** One request for a reconcile of a key, as the batch carries it to Redis. */
export interface BatchedRequest {
  readonly key: string;
  readonly traceparent?: string;
  readonly options: EnqueueOptions;
}

/**
 * Two requests for one key in the same batch, as one: what Redis would keep
 * had they been sent one after the other. A replacing request takes the place
 * of the earlier one (its delay and trace context win); any other joins it.
 */
export function mergeRequests(earlier: BatchedRequest, later: BatchedRequest): BatchedRequest {
  return later.options.replace ? later : earlier;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Sends the requests of concurrent admissions together: the first waits one
 * turn of the event loop for the others that arrived with it, and those made
 * while a batch is being written go out in one batch as soon as it is done.
 * So at most one batch is in flight; a busy webhook makes one Redis round
 * trip for many jobs, an idle one adds no delay worth the name. Requests for
 * the same key merge (mergeRequests), which also bounds what waits during a
 * slow Redis by the number of keys. Each caller's promise settles with its batch.
 */
export function batchingSender(
  send: (requests: readonly BatchedRequest[]) => Promise<void>,
  maxBatch: number,
): (request: BatchedRequest) => Promise<void> {
  let pending = new Map<string, { request: BatchedRequest; waiters: Waiter[] }>();
  let scheduled = false;
  let inFlight = false;

  const takeBatch = (): { request: BatchedRequest; waiters: Waiter[] }[] => {
    const batch = [...pending.values()].slice(0, maxBatch);
    if (batch.length === pending.size) pending = new Map();
    else for (const entry of batch) pending.delete(entry.request.key);
    return batch;
  };

  const flush = async (): Promise<void> => {
    scheduled = false;
    inFlight = true;
    while (pending.size > 0) {
      const batch = takeBatch();
      const settle = await send(batch.map((entry) => entry.request)).then(
        () => (waiter: Waiter) => waiter.resolve(),
        (error: unknown) => (waiter: Waiter) => waiter.reject(error),
      );
      for (const entry of batch) entry.waiters.forEach(settle);
    }
    inFlight = false;
  };

  return (request) =>
    new Promise<void>((resolve, reject) => {
      const queued = pending.get(request.key);
      const waiter = { resolve, reject };
      if (queued) {
        queued.request = mergeRequests(queued.request, request);
        queued.waiters.push(waiter);
      } else pending.set(request.key, { request, waiters: [waiter] });
      if (scheduled || inFlight) return;
      scheduled = true;
      setImmediate(() => void flush());
    });
}
