// The APIM sync marks: a mark holds for the epoch it was set in, and a new
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
  t.equal(await marks.get('shop/catalog'), undefined, 'none yet');
  await marks.set('shop/catalog', 'inputs-1');
  t.equal(await marks.get('shop/catalog'), 'inputs-1', 'set before any epoch: epoch 0');
  await marks.newEpoch();
  t.equal(await marks.get('shop/catalog'), undefined, 'a resync: looked at again');
  await marks.set('shop/catalog', 'inputs|with|bars');
  t.equal(await marks.get('shop/catalog'), 'inputs|with|bars', 'stamped with the current epoch; the inputs kept whole');
  await marks.clear('shop/catalog');
  t.equal(await marks.get('shop/catalog'), undefined, 'cleared');
});

t.test('a mark is stamped with the epoch current when it is written, and expires', async (t) => {
  const { redis, prefix, marks } = setup(t, 5_000);
  await marks.newEpoch();
  await marks.newEpoch();
  await marks.set('shop/catalog', 'inputs');
  t.equal(await redis.get(`${prefix}:mark:shop/catalog`), '2|inputs');
  const ttl = await redis.pttl(`${prefix}:mark:shop/catalog`);
  t.ok(ttl > 0 && ttl <= 5_000, `expires within its ttl (${ttl} ms)`);
});
