import type { Redis } from 'ioredis';
import type { ApimSyncMarks } from './steps/converge.ts';

/**
 * The APIM sync marks in Redis, shared by every worker of every replica. A
 * mark holds the inputs APIM was last found matching and the resync epoch it
 * was found in; a resync starts a new epoch, so every key looks at APIM again
 * (drift) once per resync, and between resyncs a reconcile that changes
 * nothing on the APIM side makes no APIM call.
 */
export interface RedisSyncMarks extends ApimSyncMarks {
  /**
   * Starts a new epoch: every mark lapses. `prepare` runs first with the
   * coming epoch's number, to store what that epoch's reconciles will read
   * (the APIM inventory) before any of them can.
   */
  newEpoch(prepare?: (epoch: string) => Promise<void>): Promise<void>;
  /**
   * One replica's claim to run the periodic resync for `intervalMs`: with N
   * replicas, the interval still sees one resync, not N.
   */
  claimResync(owner: string, intervalMs: number): Promise<boolean>;
}

export function createRedisSyncMarks(redis: Redis, prefix: string, ttlMs: number): RedisSyncMarks {
  const epochKey = `${prefix}:epoch`;
  const markKey = (key: string) => `${prefix}:mark:${key}`;
  return {
    async get(key) {
      const [stored, mark] = await redis.mget(epochKey, markKey(key));
      const epoch = stored ?? '0';
      const stamp = `${epoch}|`;
      return mark?.startsWith(stamp) ? { epoch, inputs: mark.slice(stamp.length) } : { epoch };
    },
    async set(key, inputs, epoch) {
      await redis.set(markKey(key), `${epoch}|${inputs}`, 'PX', Math.max(1, ttlMs));
    },
    async clear(key) {
      await redis.del(markKey(key));
    },
    async newEpoch(prepare) {
      if (prepare) await prepare(String(Number((await redis.get(epochKey)) ?? '0') + 1));
      await redis.incr(epochKey);
    },
    async claimResync(owner, intervalMs) {
      return (await redis.set(`${prefix}:resync-claim`, owner, 'PX', Math.max(1, intervalMs - 1000), 'NX')) === 'OK';
    },
  };
}
