import type { Redis } from 'ioredis';
import type { ApimApiState, ApimClient, ApimSubscriptionState, Listed } from './clients/apim.ts';
import { scriptCommand } from './redis-script.ts';

/**
 * What APIM held at the start of the current resync epoch, from paged list
 * calls (APIs with their properties, the operator's subscriptions): a resync
 * of N unchanged APIs reads those pages instead of one API and one
 * subscription per key. Kept in Redis, shared by every worker, per epoch.
 *
 * A listing is a snapshot, and the resync spreads its keys over the interval;
 * a listed entry is therefore only used to confirm that nothing needs
 * writing (any difference is read again live before a write), and never once
 * the operator itself has written that entity after the listing began: every
 * write (`stampWrites`) takes a number from one counter after it completes,
 * and the listing records the counter's value when it started.
 * What someone else changes after the listing is found at the next one, as a
 * change made just after a live read would be.
 */
export interface ApimInventory {
  /** The API and its subscription as listed in `epoch` (the sync marks'): found, absent, or unknown (read them). */
  lookup(
    apiId: string,
    sid: string,
    epoch: string,
  ): Promise<{ api: Listed<ApimApiState>; subscription: Listed<ApimSubscriptionState> }>;
  /** Says the operator wrote (or may have written) this entity: its listed entry no longer counts. */
  wrote(kind: 'api' | 'subscription', id: string): Promise<void>;
}

export interface RedisApimInventory extends ApimInventory {
  /** Lists every API and the subscriptions whose id starts with `subscriptionPrefix`, for `epoch`. */
  take(
    epoch: string,
    apim: Pick<ApimClient, 'listApis' | 'listSubscriptions'>,
    subscriptionPrefix: string,
  ): Promise<{ apis: number; subscriptions: number }>;
}

/** `prefix` is the sync marks' own (their epochs are this inventory's); `ttlMs` outlives an epoch. */
export function createRedisApimInventory(redis: Redis, prefix: string, ttlMs: number): RedisApimInventory {
  const counterKey = `${prefix}:writes`;
  const base = (epoch: string) => `${prefix}:inventory:${epoch}`;
  const wroteKey = (kind: 'api' | 'subscription', id: string) => `${prefix}:wrote:${kind}:${id.toLowerCase()}`;
  const ttl = Math.max(1, ttlMs);
  // The number and the stamp in one round trip: three per publish (API, policy, subscription).
  const stamp = scriptCommand(
    redis,
    'apimInventoryWrote',
    "return redis.call('SET', KEYS[2], redis.call('INCR', KEYS[1]), 'PX', ARGV[1])",
    2,
  );

  const listed = <T>(since: string | null, wrote: string | null, raw: string | null): Listed<T> => {
    if (since === null || (wrote !== null && Number(wrote) > Number(since))) return undefined;
    return raw ? { found: JSON.parse(raw) as T } : 'absent';
  };

  return {
    async lookup(apiId, sid, epoch) {
      const at = base(epoch);
      const replies = await redis
        .multi()
        .get(`${at}:since`)
        .get(wroteKey('api', apiId))
        .hget(`${at}:apis`, apiId.toLowerCase())
        .get(wroteKey('subscription', sid))
        .hget(`${at}:subscriptions`, sid.toLowerCase())
        .exec();
      const [since = null, apiWrote = null, api = null, subWrote = null, subscription = null] = (replies ?? []).map(
        ([error, value]) => {
          if (error) throw error;
          return value as string | null;
        },
      );
      return {
        api: listed<ApimApiState>(since, apiWrote, api),
        subscription: listed<ApimSubscriptionState>(since, subWrote, subscription),
      };
    },

    async wrote(kind, id) {
      await stamp(counterKey, wroteKey(kind, id), ttl);
    },

    async take(epoch, apim, subscriptionPrefix) {
      const at = base(epoch);
      const since = (await redis.get(counterKey)) ?? '0';
      const counts = { apis: 0, subscriptions: 0 };
      const store = async (field: 'apis' | 'subscriptions', entries: readonly { id: string }[]) => {
        if (entries.length === 0) return;
        counts[field] += entries.length;
        await redis
          .multi()
          .hset(`${at}:${field}`, Object.fromEntries(entries.map((e) => [e.id.toLowerCase(), JSON.stringify(e)])))
          .pexpire(`${at}:${field}`, ttl)
          .exec();
      };
      for await (const page of apim.listApis()) await store('apis', page);
      for await (const page of apim.listSubscriptions(subscriptionPrefix)) await store('subscriptions', page);
      // Written last: until it exists, the listing is incomplete and nothing reads it.
      await redis.set(`${at}:since`, since, 'PX', ttl);
      return counts;
    },
  };
}

/** The API id a write names: `x;rev=2` is a revision of API `x`. */
const baseApiId = (apiId: string): string => apiId.split(';')[0] ?? apiId;

/**
 * The client with every write stamped in the inventory once it is over
 * (succeeded or failed: a failed write may have landed). The stamp comes
 * after the write, so a listing that began before it ended never counts.
 */
export function stampWrites(apim: ApimClient, inventory: Pick<ApimInventory, 'wrote'>): ApimClient {
  const stamped =
    <A extends unknown[], R>(
      kind: 'api' | 'subscription',
      run: (...args: A) => Promise<R>,
      wrote: (r: R) => boolean = () => true,
    ) =>
    async (...args: A): Promise<R> => {
      const id = kind === 'api' ? baseApiId(String(args[0])) : String(args[0]);
      let result: R;
      try {
        result = await run(...args);
      } catch (error) {
        await inventory.wrote(kind, id);
        throw error;
      }
      if (wrote(result)) await inventory.wrote(kind, id);
      return result;
    };
  return {
    ...apim,
    putApi: stamped('api', apim.putApi),
    deleteApi: stamped('api', apim.deleteApi),
    putPolicy: stamped('api', apim.putPolicy),
    putRevision: stamped('api', apim.putRevision),
    releaseRevision: stamped('api', apim.releaseRevision),
    ensureSubscription: stamped('subscription', apim.ensureSubscription, (wrote) => wrote),
    deleteSubscription: stamped('subscription', apim.deleteSubscription, (deleted) => deleted),
  };
}
