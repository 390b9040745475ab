import type { Redis } from 'ioredis';
import { RECONCILE_QUEUE } from './jobs.ts';

/**
 * The admissions a reconcile job absorbed. BullMQ's deduplication keeps one
 * job per key, and a request that joins it leaves no trace in the job; so
 * each admission's W3C `traceparent` is also pushed on a short list per key,
 * which the reconcile that runs next takes and links its span to. The list
 * holds only trace and span ids, is capped, and expires if no worker takes it.
 */
const MAX_LINKS = 32;
const TTL_MS = 24 * 3600 * 1000;

export function admissionLinksKey(prefix: string, key: string): string {
  return `${prefix}:${RECONCILE_QUEUE}:trace-links:${key}`;
}

/** Adds one admission's trace context to the key's list, newest first, keeping the last MAX_LINKS. */
export async function recordAdmission(redis: Redis, prefix: string, key: string, traceparent: string): Promise<void> {
  const list = admissionLinksKey(prefix, key);
  await redis
    .multi()
    .lpush(list, traceparent)
    .ltrim(list, 0, MAX_LINKS - 1)
    .pexpire(list, TTL_MS)
    .exec();
}

/** Takes (reads and clears) the trace contexts recorded for a key since its last reconcile started. */
export async function takeAdmissions(redis: Redis, prefix: string, key: string): Promise<string[]> {
  const list = admissionLinksKey(prefix, key);
  const replies = await redis.multi().lrange(list, 0, -1).del(list).exec();
  const [error, entries] = replies?.[0] ?? [null, []];
  if (error) throw error;
  return (entries as string[]).toReversed();
}
