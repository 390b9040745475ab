import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createArmBudget, type ArmBudget } from '../../../reconciler/arm-budget.ts';
import { REDIS_URL } from '../../helpers/webhook.ts';

/** Two "workers" sharing one budget key, each with its own connection. */
function twoWorkers(t: { teardown(fn: () => unknown): void }, reserve = 10): ArmBudget[] {
  const key = `test-arm-budget-${randomUUID()}`;
  const clients = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
  t.teardown(async () => {
    await clients[0]?.del(key);
    for (const c of clients) c.disconnect();
  });
  return clients.map((redis) =>
    createArmBudget(redis, {
      key,
      reserve,
      buckets: { reads: { perSecond: 50, burst: 10 }, writes: { perSecond: 50, burst: 10 } },
    }),
  );
}

async function grantTimes(budgets: ArmBudget[], kind: 'reads' | 'writes', each: number): Promise<number[]> {
  const started = Date.now();
  const granted: number[] = [];
  await Promise.all(
    budgets.flatMap((budget) =>
      Array.from({ length: each }, async () => {
        await budget.take(kind);
        granted.push(Date.now() - started);
      }),
    ),
  );
  return granted.sort((a, b) => a - b);
}

t.test('workers sharing one key share one budget: a burst, then the refill rate', async (t) => {
  const granted = await grantTimes(twoWorkers(t), 'writes', 20);
  t.equal(granted.length, 40);
  // 10 at once from the burst; the other 30 at 50/s need at least 600 ms (a lower bound cannot flake on a slow machine).
  t.ok((granted[39] ?? 0) >= 550, `the 40th write waited for the refill (${granted[39]} ms)`);
  const early = granted.filter((ms) => ms < 200).length;
  t.ok(early <= 10 + 10 + 1, `no more than burst + refill in the first 200 ms (${early})`);
});

t.test('waiting callers reserve their turn instead of asking Redis again and again', async (t) => {
  const budgets = twoWorkers(t);
  const watcher = new Redis(REDIS_URL);
  const monitor = await watcher.monitor();
  t.teardown(() => {
    monitor.disconnect();
    watcher.disconnect();
  });
  let calls = 0;
  let reservations = 0;
  let reserved = 0;
  // EVALSHA sha 1 key …: only this test's budget key (the Redis is shared with other tests). A reservation
  // carries kind, rate, burst and its count of tokens; a pause check carries nothing.
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (!args[0]?.toLowerCase().startsWith('eval') || !args[3]?.startsWith('test-arm-budget-')) return;
    calls++;
    if (args.length === 8) {
      reservations++;
      reserved += Number(args[7]);
    }
  });
  const granted = await grantTimes(budgets, 'reads', 20);
  t.ok((granted[39] ?? 0) >= 550, 'still the refill rate');
  // MONITOR reports after the fact: wait until every request's reservation has been seen.
  for (const until = Date.now() + 10_000; reserved < 40 && Date.now() < until; )
    await new Promise((r) => setTimeout(r, 10));
  t.equal(reserved, 40, 'every request reserved exactly one token');
  // Each worker's 20 concurrent callers reserve in one call, and those that waited check the pause together.
  t.ok(reservations <= 4, `${reservations} reservations for 40 requests`);
  t.ok(calls <= 2 * 40, `${calls} budget calls for 40 requests`);
});

t.test('reads and writes have buckets of their own', async (t) => {
  const budgets = twoWorkers(t);
  await grantTimes(budgets, 'writes', 5); // the write burst is spent
  const started = Date.now();
  await grantTimes(budgets, 'reads', 5);
  t.ok(Date.now() - started < 5000, 'the reads did not wait for the writes');
  const afterWrites = await grantTimes(budgets, 'writes', 10);
  t.ok((afterWrites.at(-1) ?? 0) >= 150, 'while the writes wait for their refill');
});

t.test("a 429's Retry-After pauses every kind, for every worker", async (t) => {
  const [one, other] = twoWorkers(t) as [ArmBudget, ArmBudget];
  await one.observe({ kind: 'writes', status: 429, retryAfterMs: 700 });
  const started = Date.now();
  await Promise.all([other.take('reads'), other.take('writes'), one.take('reads')]);
  t.ok(Date.now() - started >= 650, `no request before the Retry-After (${Date.now() - started} ms)`);
});

t.test("ARM's remaining budget caps the bucket: the workers slow down before a 429", async (t) => {
  const [one, other] = twoWorkers(t, 10) as [ArmBudget, ArmBudget];
  // ARM says 12 reads are left: with a reserve of 10, 2 may go now, and the rest at the refill rate.
  await one.observe({ kind: 'reads', status: 200, remaining: 12 });
  const granted = await grantTimes([other], 'reads', 6);
  t.ok((granted[5] ?? 0) >= 60, `6 reads took the refill time of 4 (${granted[5]} ms), not the burst of 10`);
  await one.observe({ kind: 'reads', status: 200, remaining: 0 });
  const started = Date.now();
  await other.take('reads');
  // At 0 left the bucket is 10 below empty: 11 tokens at 50/s.
  t.ok(Date.now() - started >= 180, `nothing left: the next read waits (${Date.now() - started} ms)`);
});

t.test('an answer whose remaining budget leaves a full bucket writes nothing to Redis', async (t) => {
  const key = `test-arm-budget-${randomUUID()}`;
  const redis = new Redis(REDIS_URL);
  t.teardown(async () => {
    await redis.del(key);
    redis.disconnect();
  });
  const budget = createArmBudget(redis, {
    key,
    reserve: 10,
    buckets: { reads: { perSecond: 50, burst: 10 }, writes: { perSecond: 50, burst: 10 } },
  });
  await budget.observe({ kind: 'reads', status: 200, remaining: 20 });
  await budget.observe({ kind: 'writes', status: 200, remaining: 11_999 });
  t.equal(await redis.exists(key), 0, 'burst + reserve left: no call');
  await budget.observe({ kind: 'reads', status: 200, remaining: 19 });
  t.equal(await redis.hget(key, 'reads:tokens'), '9', 'one less than a full bucket: capped');
});
