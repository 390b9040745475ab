import type { Redis } from 'ioredis';
import { scriptCommand } from './redis-script.ts';
import { batching } from '../shared/batching.ts';

/**
 * One ARM request budget in Redis, shared by every worker of every replica:
 * ARM throttles per principal (the current model: reads 250 refilled at 25/s,
 * writes 200 at 10/s; going over means 429s for everyone using it).
 *
 * - Reads and writes each take a token from their own bucket, refilled by
 *   elapsed time on Redis's own clock. A caller that finds none reserves the
 *   next one and sleeps until it is due: at most one Redis call per request,
 *   however many wait, instead of every waiter asking again and again. The
 *   requests of concurrent reconciles reserve their tokens in one call.
 * - A 429's Retry-After pauses every call of every worker until it has passed:
 *   ARM throttles the principal, not one API.
 * - The `x-ms-ratelimit-remaining-subscription-*` value each answer carries
 *   caps the bucket at what ARM says is left less a reserve, so the workers
 *   slow down before ARM starts answering 429 (other tools share the budget).
 *
 * Hand-written because no maintained limiter takes its level from the
 * server's answers or pauses on a Retry-After; the Lua scripts below are the
 * whole of it.
 */
export type ArmRequestKind = 'reads' | 'writes';

export interface BucketSettings {
  readonly perSecond: number;
  readonly burst: number;
}

export interface ArmBudget {
  /** Resolves when this caller may send one request of this kind. */
  take(kind: ArmRequestKind): Promise<void>;
  /** What an ARM answer said: its remaining budget for the kind, and a Retry-After on a 429. */
  observe(answer: { kind: ArmRequestKind; status: number; remaining?: number; retryAfterMs?: number }): Promise<void>;
}

/** The bucket for a limit of `perSecond`: bursts of twice that, as the README documents. */
export function bucketFor(perSecond: number): BucketSettings {
  return { perSecond, burst: Math.max(1, perSecond * 2) };
}

/** Callers served by one budget call: far above any worker's concurrency. */
const MAX_BATCH = 1000;

/** Requests left to other users of the subscription when ARM reports its budget. */
export const ARM_RESERVE = 10;

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
const REFILL = `
local tokens = tonumber(redis.call('HGET', KEYS[1], kind .. ':tokens')) or burst
local at = tonumber(redis.call('HGET', KEYS[1], kind .. ':at')) or now
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
`;
/**
 * Reserves the next `count` tokens, in order: {1, ms} while a Retry-After
 * pause holds (nothing reserved, every caller waits ms), else {0, ms1, ms2, …},
 * each 0 when its token was there or when it is due (the bucket goes into
 * debt, so callers queue in order and none polls).
 */
const TAKE = `${NOW}
local kind, rate, burst, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local pause = tonumber(redis.call('HGET', KEYS[1], 'pause')) or 0
if pause > now then return {1, pause - now} end
${REFILL}
local waits = {0}
for i = 1, count do
  tokens = tokens - 1
  waits[i + 1] = tokens < 0 and math.ceil(-tokens * 1000 / rate) or 0
end
redis.call('HSET', KEYS[1], kind .. ':tokens', tokens, kind .. ':at', now)
redis.call('PEXPIRE', KEYS[1], 3600000)
return waits
`;
/** The milliseconds a Retry-After pause still holds, or 0. */
const PAUSED = `${NOW}
local pause = tonumber(redis.call('HGET', KEYS[1], 'pause')) or 0
return math.max(0, pause - now)
`;
const OBSERVE = `${NOW}
local kind, rate, burst = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local remaining, reserve, pauseMs = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if pauseMs > 0 then
  local pause = tonumber(redis.call('HGET', KEYS[1], 'pause')) or 0
  redis.call('HSET', KEYS[1], 'pause', math.max(pause, now + pauseMs))
end
if remaining >= 0 then
  ${REFILL}
  redis.call('HSET', KEYS[1], kind .. ':tokens', math.min(tokens, remaining - reserve), kind .. ':at', now)
end
redis.call('PEXPIRE', KEYS[1], 3600000)
return 0
`;

/** A caller's token: due in `ms`, or, `paused`, nothing reserved until a Retry-After has passed in `ms`. */
interface Reservation {
  readonly ms: number;
  readonly paused: boolean;
}

export function createArmBudget(
  redis: Redis,
  options: {
    key: string;
    buckets: Record<ArmRequestKind, BucketSettings>;
    reserve?: number;
    sleep?: (ms: number) => Promise<void>;
  },
): ArmBudget {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const reserve = options.reserve ?? ARM_RESERVE;
  const takeScript = scriptCommand(redis, 'armBudgetTake', TAKE);
  const observeScript = scriptCommand(redis, 'armBudgetObserve', OBSERVE);
  const pausedScript = scriptCommand(redis, 'armBudgetPaused', PAUSED);
  // Concurrent callers share round trips: one reservation of n tokens, one pause check (shared/batching.ts).
  const takers = Object.fromEntries(
    (['reads', 'writes'] as const).map((kind) => {
      const { perSecond, burst } = options.buckets[kind];
      const reserveTokens = batching<void, Reservation>(
        async (callers) => {
          const [paused, ...waits] = (
            (await takeScript(options.key, kind, perSecond, burst, callers.length)) as number[]
          ).map(Number);
          return callers.map((_, i) => ({ ms: paused ? waits[0]! : waits[i]!, paused: paused === 1 }));
        },
        { maxBatch: MAX_BATCH },
      );
      return [kind, reserveTokens];
    }),
  ) as Record<ArmRequestKind, () => Promise<Reservation>>;
  const pausedFor = batching<void, number>(
    async (callers) => {
      const left = Number(await pausedScript(options.key));
      return callers.map(() => left);
    },
    { maxBatch: MAX_BATCH },
  );
  return {
    async take(kind) {
      for (;;) {
        const { ms, paused } = await takers[kind]();
        if (ms > 0) await sleep(ms);
        if (paused) continue;
        // A Retry-After that arrived while this caller waited for its token still holds it back.
        for (let left = ms > 0 ? await pausedFor() : 0; left > 0; ) {
          await sleep(left);
          left = await pausedFor();
        }
        return;
      }
    },
    async observe({ kind, status, remaining, retryAfterMs }) {
      const pauseMs = status === 429 ? Math.max(retryAfterMs ?? 1000, 1) : 0;
      const { perSecond, burst } = options.buckets[kind];
      // A bucket never holds more than its burst, so a remaining budget that leaves a full one cannot lower it:
      // the usual answer then costs no Redis call.
      if (pauseMs === 0 && (remaining === undefined || remaining - reserve >= burst)) return;
      await observeScript(options.key, kind, perSecond, burst, remaining ?? -1, reserve, pauseMs);
    },
  };
}
