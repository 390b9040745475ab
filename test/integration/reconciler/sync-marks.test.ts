// The APIM sync marks: a mark holds for the epoch APIM was read in, and a new
// epoch (a resync) makes every key look at APIM again.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisSyncMarks } from '../../../reconciler/sync-marks.ts';
import { REDIS_URL } from '../../helpers/webhook.ts';

function setup(t: { teardown(fn: () => unknown): void }, ttlMs = 60_000) {
  const redis = new Redis(REDIS_URL);
  const prefix = `test-marks-${randomUUID()}`;
  t.teardown(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  return { redis, prefix, marks: createRedisSyncMarks(redis, prefix, ttlMs) };
}

t.test('a mark holds within its epoch and lapses at the next', async (t) => {
  const { marks } = setup(t);
  t.same(await marks.get('shop/catalog'), { epoch: '0' }, 'none yet, before any resync');
  await marks.set('shop/catalog', 'inputs-1', '0');
  t.same(await marks.get('shop/catalog'), { epoch: '0', inputs: 'inputs-1' });
  await marks.newEpoch();
  t.same(await marks.get('shop/catalog'), { epoch: '1' }, 'a resync: looked at again');
  await marks.set('shop/catalog', 'inputs|with|bars', '1');
  t.same(await marks.get('shop/catalog'), { epoch: '1', inputs: 'inputs|with|bars' }, 'the inputs kept whole');
  await marks.clear('shop/catalog');
  t.same(await marks.get('shop/catalog'), { epoch: '1' }, 'cleared');
});

t.test('a reconcile that a resync overtook leaves a mark that has already lapsed', async (t) => {
  const { marks } = setup(t);
  const { epoch } = await marks.get('shop/catalog');
  await marks.newEpoch(); // the resync starts while the reconcile reads APIM
  await marks.set('shop/catalog', 'inputs', epoch);
  t.same(
    await marks.get('shop/catalog'),
    { epoch: '1' },
    'checked against the old epoch: looked at again in the new one',
  );
});

t.test('a mark expires after its ttl', async (t) => {
  const { redis, prefix, marks } = setup(t, 5_000);
  await marks.set('shop/catalog', 'inputs', '0');
  t.equal(await redis.get(`${prefix}:mark:shop/catalog`), '0|inputs');
  const ttl = await redis.pttl(`${prefix}:mark:shop/catalog`);
  t.ok(ttl > 0 && ttl <= 5_000, `expires within its ttl (${ttl} ms)`);
});
