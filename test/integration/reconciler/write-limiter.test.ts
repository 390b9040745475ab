import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createWriteLimiter } from '../../../reconciler/write-limiter.ts';
import { REDIS_URL } from '../../helpers/webhook.ts';

t.test('workers sharing one key share one budget: a burst, then the refill rate', async (t) => {
  const key = `test-limiter-${randomUUID()}`;
  const clients = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
  t.teardown(async () => {
    await clients[0]?.del(key);
    for (const c of clients) c.disconnect();
  });
  const limiters = clients.map((redis) => createWriteLimiter(redis, { key, perSecond: 50, burst: 10 }));
  const started = Date.now();
  const granted: number[] = [];
  // Two "workers" each try 20 writes at once: 40 in all.
  await Promise.all(
    limiters.flatMap((limiter) =>
      Array.from({ length: 20 }, async () => {
        await limiter.acquire();
        granted.push(Date.now() - started);
      }),
    ),
  );
  granted.sort((a, b) => a - b);
  t.equal(granted.length, 40);
  // 10 at once from the burst; the other 30 at 50/s need at least 600 ms (the lower bound cannot flake on a slow machine).
  t.ok((granted[39] ?? 0) >= 550, `the 40th write waited for the refill (${granted[39]} ms)`);
  // However fast the machine, the first 200 ms cannot grant more than the burst plus 200 ms of refill.
  const early = granted.filter((ms) => ms < 200).length;
  t.ok(early <= 10 + 10 + 1, `no more than burst + refill in the first 200 ms (${early})`);
});
