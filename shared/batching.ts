/** How requests that name the same thing in one batch become one: its key, and what the two make together. */
export interface Merging<Request> {
  keyOf(request: Request): string;
  merge(earlier: Request, later: Request): Request;
}

interface Waiter<Result> {
  resolve(result: Result): void;
  reject(error: unknown): void;
}

interface Entry<Request, Result> {
  request: Request;
  readonly waiters: Waiter<Result>[];
}

/**
 * Sends the requests of concurrent callers together: the first waits one turn
 * of the event loop for the others that arrived with it, and those made while
 * a batch is being sent go out in one batch as soon as it is done. So at most
 * one batch is in flight; a busy process makes one round trip for many
 * requests, an idle one adds no delay worth the name. `send` answers with one
 * result per request, in order; each caller's promise settles with its own.
 * With `merging`, requests with one key join (which also bounds what waits
 * during a slow round trip by the number of keys), and every caller of the
 * merged request gets its result.
 *
 * Hand-written: the batching libraries (dataloader and the like) batch by
 * tick without the one-in-flight rule that makes a slow Redis gather a
 * larger batch instead of more round trips.
 */
export function batching<Request, Result>(
  send: (requests: readonly Request[]) => Promise<readonly Result[]>,
  options: { readonly maxBatch: number; readonly merging?: Merging<Request> },
): (request: Request) => Promise<Result> {
  const { maxBatch, merging } = options;
  let pending: Entry<Request, Result>[] = [];
  const byKey = new Map<string, Entry<Request, Result>>();
  let scheduled = false;
  let inFlight = false;

  const takeBatch = (): Entry<Request, Result>[] => {
    const batch = pending.slice(0, maxBatch);
    pending = pending.slice(batch.length);
    if (merging) for (const entry of batch) byKey.delete(merging.keyOf(entry.request));
    return batch;
  };

  const flush = async (): Promise<void> => {
    scheduled = false;
    inFlight = true;
    while (pending.length > 0) {
      const batch = takeBatch();
      try {
        const results = await send(batch.map((entry) => entry.request));
        batch.forEach((entry, i) => entry.waiters.forEach((waiter) => waiter.resolve(results[i] as Result)));
      } catch (error) {
        for (const entry of batch) entry.waiters.forEach((waiter) => waiter.reject(error));
      }
    }
    inFlight = false;
  };

  return (request) =>
    new Promise<Result>((resolve, reject) => {
      const waiter = { resolve, reject };
      const key = merging?.keyOf(request);
      const queued = key === undefined ? undefined : byKey.get(key);
      if (queued && merging) {
        queued.request = merging.merge(queued.request, request);
        queued.waiters.push(waiter);
      } else {
        const entry = { request, waiters: [waiter] };
        pending.push(entry);
        if (key !== undefined) byKey.set(key, entry);
      }
      if (scheduled || inFlight) return;
      scheduled = true;
      setImmediate(() => void flush());
    });
}
