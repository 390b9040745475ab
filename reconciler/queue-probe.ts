import type { Redis } from 'ioredis';

/** What the queue looks like at scrape time, for the depth and age gauges and the scaler. */
export interface QueueSnapshot {
  /** Jobs a worker could take now: waiting, prioritized, and delayed ones whose time has come. */
  readonly depth: number;
  /** Seconds the longest-ready job has been ready without a worker taking it; 0 when none is. */
  readonly oldestWaitingSeconds: number;
}

// BullMQ scores a delayed job with its due time in ms times 0x1000 plus a counter (getDelayedScore.lua).
const DELAYED_SCORE_FACTOR = 0x1000;

/** Where the queue lives: a Redis connection and the queue's key namer (BullMQ's `queue.toKey`). */
export interface QueueLocation {
  readonly redis: Redis;
  readonly toKey: (type: string) => string;
}

/**
 * Reads the queue's depth and the age of its oldest ready job in two Redis
 * round trips, whatever the queue's length. Hand-written on BullMQ's own key
 * names (`queue.toKey`) because BullMQ has no call for either number:
 * `getJobCounts` counts every delayed job, due or not, and reading the oldest
 * job through `getJobs` would fetch whole jobs to use one field.
 *
 * A due delayed job stays in `delayed` until a worker promotes it, so when no
 * worker runs, its due time (in the score) dates it exactly. A job in `wait`
 * (LPUSHed, taken from the right: the oldest is at index -1) carries no time
 * of entry: it was ready no earlier than its time of adding plus its delay
 * option, nor before its last attempt started (`processedOn`, for a retry);
 * the later of the two is used, so the age never exceeds the truth by more
 * than the backoff of a retried job.
 */
export function createQueueProbe(
  { redis, toKey }: QueueLocation,
  now: () => number = Date.now,
): () => Promise<QueueSnapshot> {
  return async () => {
    const at = now();
    const dueMax = (at + 1) * DELAYED_SCORE_FACTOR - 1;
    const [wait, prioritized, due, tail, first] = (await redis
      .multi()
      .llen(toKey('wait'))
      .zcard(toKey('prioritized'))
      .zcount(toKey('delayed'), 0, dueMax)
      .lindex(toKey('wait'), -1)
      .zrange(toKey('delayed'), '0', '0', 'WITHSCORES')
      .exec()
      .then((replies) => (replies ?? []).map(([error, value]) => (error ? undefined : value)))) as [
      number,
      number,
      number,
      string | null,
      string[],
    ];
    const ready: number[] = [];
    const dueAt = first?.[1] === undefined ? undefined : Math.floor(Number(first[1]) / DELAYED_SCORE_FACTOR);
    if (dueAt !== undefined && dueAt <= at) ready.push(dueAt);
    if (tail) {
      const [timestamp, opts, processedOn] = await redis.hmget(toKey(tail), 'timestamp', 'opts', 'processedOn');
      if (timestamp) ready.push(Math.max(Number(timestamp) + delayOption(opts), Number(processedOn ?? 0)));
    }
    const oldest = ready.length > 0 ? Math.min(...ready) : at;
    return {
      depth: (wait ?? 0) + (prioritized ?? 0) + (due ?? 0),
      oldestWaitingSeconds: Math.max(0, (at - oldest) / 1000),
    };
  };
}

function delayOption(opts: string | null | undefined): number {
  try {
    const delay = (JSON.parse(opts ?? '{}') as { delay?: unknown }).delay;
    return typeof delay === 'number' && delay > 0 ? delay : 0;
  } catch {
    return 0;
  }
}
