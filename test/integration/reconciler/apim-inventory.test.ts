// The APIM inventory a resync reads instead of one GET per API: per epoch,
// complete or not used at all, and never for an entity the operator wrote
// after the listing began (else a listing taken before our own write could
// hide that write, e.g. an Ingress address going back to the listed one).
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisApimInventory, stampWrites } from '../../../reconciler/apim-inventory.ts';
import type { ApimApiState, ApimClient, ApimSubscriptionState } from '../../../reconciler/clients/apim.ts';
import { createRedisSyncMarks } from '../../../reconciler/sync-marks.ts';
import { REDIS_URL } from '../../helpers/webhook.ts';

const api = (id: string): ApimApiState => ({
  id,
  etag: '',
  displayName: id,
  path: id,
  protocols: ['https'],
  subscriptionRequired: true,
});

/** A listing of `apis` APIs and as many subscriptions, in pages of 100, failing at page `failAt` when set. */
function lister(apis: number, failAt?: number): Pick<ApimClient, 'listApis' | 'listSubscriptions'> & { pages: number } {
  const self = {
    pages: 0,
    async *listApis() {
      for (let start = 0; start < apis; start += 100) {
        self.pages++;
        if (self.pages === failAt) throw new Error('APIM listApis page 2 failed with 503');
        yield Array.from({ length: Math.min(100, apis - start) }, (_, i) => api(`api-${start + i}`));
      }
    },
    async *listSubscriptions(prefix: string) {
      self.pages++;
      yield Array.from(
        { length: apis },
        (_, i): ApimSubscriptionState => ({ id: `${prefix}api-${i}`, state: 'active', scope: `/apis/api-${i}` }),
      );
    },
  };
  return self;
}

function setup(t: { teardown(fn: () => unknown): void }) {
  const redis = new Redis(REDIS_URL);
  const prefix = `test-inventory-${randomUUID()}`;
  t.teardown(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  const marks = createRedisSyncMarks(redis, prefix, 60_000);
  const shared = createRedisApimInventory(redis, prefix, 60_000);
  // As a reconcile looks up: in the epoch its sync mark was read in.
  const inventory = {
    ...shared,
    lookup: async (apiId: string, sid: string) => shared.lookup(apiId, sid, (await marks.get('any')).epoch),
  };
  return { marks, inventory };
}

t.test('a complete listing answers for every API and subscription of its epoch', async (t) => {
  const { marks, inventory } = setup(t);
  t.same(await inventory.lookup('api-1', 'oda-apim-api-1'), { api: undefined, subscription: undefined }, 'none yet');
  const source = lister(250);
  await marks.newEpoch(async (epoch) => {
    t.same(await inventory.take(epoch, source, 'oda-apim-'), { apis: 250, subscriptions: 250 });
  });
  t.equal(source.pages, 4, 'three pages of APIs, one of subscriptions');
  t.same(await inventory.lookup('API-249', 'oda-apim-api-249'), {
    api: { found: api('api-249') },
    subscription: { found: { id: 'oda-apim-api-249', state: 'active', scope: '/apis/api-249' } },
  });
  t.same(await inventory.lookup('api-999', 'oda-apim-api-999'), { api: 'absent', subscription: 'absent' });
  await marks.newEpoch();
  t.same(
    await inventory.lookup('api-1', 'oda-apim-api-1'),
    { api: undefined, subscription: undefined },
    'the next epoch has no listing of its own: unknown, read live',
  );
});

t.test('an incomplete listing is never used', async (t) => {
  const { marks, inventory } = setup(t);
  await t.rejects(
    marks.newEpoch((epoch) => inventory.take(epoch, lister(250, 2), 'oda-apim-').then(() => undefined)),
    /page 2 failed/,
  );
  await marks.newEpoch(async () => undefined);
  t.same(await inventory.lookup('api-1', 'oda-apim-api-1'), { api: undefined, subscription: undefined });
});

t.test("the operator's own write since the listing makes that entity's entry unknown, and only that one", async (t) => {
  const { marks, inventory } = setup(t);
  const calls: string[] = [];
  const fake = {
    putApi: async (id: string) => {
      calls.push(`putApi ${id}`);
      return api(id);
    },
    putPolicy: async (id: string) => void calls.push(`putPolicy ${id}`),
    ensureSubscription: async (sid: string) => sid.endsWith('-2'),
    deleteSubscription: async () => {
      throw new Error('APIM deleteSubscription failed with 500');
    },
  } as unknown as ApimClient;
  const apim = stampWrites(fake, inventory);
  // A write finished before the listing began is in the listing: it counts.
  await apim.putApi('api-0', {} as never);
  await marks.newEpoch((epoch) => inventory.take(epoch, lister(5), 'oda-apim-').then(() => undefined));
  t.same((await inventory.lookup('api-0', 'oda-apim-api-0')).api, { found: api('api-0') });

  await apim.putApi('api-1', {} as never);
  await apim.putPolicy('api-3;rev=2', '<policies/>');
  await apim.ensureSubscription('oda-apim-api-1', { displayName: 'x', scope: '/apis/api-1' });
  await apim.ensureSubscription('oda-apim-api-2', { displayName: 'x', scope: '/apis/api-2' });
  await t.rejects(apim.deleteSubscription('oda-apim-api-4'));
  t.same(
    await inventory.lookup('api-1', 'oda-apim-api-1'),
    {
      api: undefined,
      subscription: { found: { id: 'oda-apim-api-1', state: 'active', scope: '/apis/api-1' } },
    },
    'API written: unknown; its subscription only checked (no write): still listed',
  );
  t.equal((await inventory.lookup('api-2', 'oda-apim-api-2')).subscription, undefined, 'subscription written');
  t.equal((await inventory.lookup('api-3', 'oda-apim-api-3')).api, undefined, "a revision's policy is the API's");
  t.equal(
    (await inventory.lookup('api-4', 'oda-apim-api-4')).subscription,
    undefined,
    'a failed write may have landed: unknown too',
  );
  t.same(calls, ['putApi api-0', 'putApi api-1', 'putPolicy api-3;rev=2']);
});
