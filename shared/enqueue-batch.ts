import { batching } from './batching.ts';
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

/**
 * Sends the requests of concurrent admissions together (see batching): a busy
 * webhook makes one Redis round trip for many jobs. Requests for the same key
 * merge (mergeRequests). Each caller's promise settles with its batch.
 */
export function batchingSender(
  send: (requests: readonly BatchedRequest[]) => Promise<void>,
  maxBatch: number,
): (request: BatchedRequest) => Promise<void> {
  return batching<BatchedRequest, void>(
    async (requests) => {
      await send(requests);
      return [];
    },
    { maxBatch, merging: { keyOf: (request) => request.key, merge: mergeRequests } },
  );
}
