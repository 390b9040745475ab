import type { Redis } from 'ioredis';

/**
 * A token bucket in Redis, so that every worker of every replica shares one
 * APIM write budget (ARM allows bursts of about 200 writes refilled at 10/s
 * per principal; going over means 429s for everyone). The script refills by
 * elapsed time on Redis's own clock and answers 0 when a token was taken, or
 * how many milliseconds until one will be.
 *
 * Hand-written on purpose: it is to become one ARM read+write budget that
 * follows ARM's own rate-limit headers (x-ms-ratelimit-remaining-*), which no
 * maintained limiter library (rate-limiter-flexible, bottleneck, BullMQ's
 * limiter) can be fed.
 */
const TAKE = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
`;

export interface WriteLimiter {
  /** Resolves when this caller may make one write. */
  acquire(): Promise<void>;
}

export function createWriteLimiter(
  redis: Redis,
  options: { key: string; perSecond: number; burst: number; sleep?: (ms: number) => Promise<void> },
): WriteLimiter {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return {
    async acquire() {
      for (;;) {
        const wait = Number(await redis.eval(TAKE, 1, options.key, options.perSecond, options.burst));
        if (wait <= 0) return;
        await sleep(wait);
      }
    },
  };
}
