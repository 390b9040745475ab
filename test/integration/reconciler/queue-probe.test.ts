// The queue's depth (waiting plus due delayed jobs) and the age of its oldest
// ready job, read from a real BullMQ queue in Redis at chosen clocks.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createReconcilerMetrics } from '../../../reconciler/metrics.ts';
import { createQueueProbe } from '../../../reconciler/queue-probe.ts';
import { RECONCILE_JOB, RECONCILE_QUEUE, reconcileJobOptions } from '../../../shared/jobs.ts';
import { REDIS_URL } from '../../helpers/webhook.ts';

const MINUTE = 60_000;

async function queueWithProbe(t: { teardown(fn: () => unknown): void }) {
  const redis = new Redis(REDIS_URL);
  const queue = new Queue(RECONCILE_QUEUE, { connection: redis as never, prefix: `test-${randomUUID()}` });
  let clock = Date.now();
  const probe = createQueueProbe({ redis, toKey: (type) => queue.toKey(type) }, () => clock);
  t.teardown(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  });
  const add = async (key: string, delayMs = 0) => {
    const job = await queue.add(RECONCILE_JOB, { key }, reconcileJobOptions(key, { delayMs }));
    return job.timestamp;
  };
  return { queue, redis, probe, add, at: (ms: number) => void (clock = ms) };
}

t.test('an empty queue: depth 0, nothing waits', async (t) => {
  const { probe } = await queueWithProbe(t);
  t.same(await probe(), { depth: 0, oldestWaitingSeconds: 0 });
});

t.test('waiting jobs count and the oldest dates from when it was added', async (t) => {
  const { probe, add, at } = await queueWithProbe(t);
  const first = await add('ns/a');
  await add('ns/b');
  at(first + 2 * MINUTE);
  const snapshot = await probe();
  t.equal(snapshot.depth, 2);
  t.equal(snapshot.oldestWaitingSeconds, 120, 'the first one added, two minutes ago');
});

t.test('a delayed job counts once it is due, and waits from its due time', async (t) => {
  const { probe, add, at } = await queueWithProbe(t);
  const added = await add('ns/later', 10 * MINUTE);
  at(added + 5 * MINUTE);
  t.same(await probe(), { depth: 0, oldestWaitingSeconds: 0 }, 'not yet due');
  at(added + 16 * MINUTE);
  t.same(await probe(), { depth: 1, oldestWaitingSeconds: 360 }, 'due six minutes ago, no worker promoted it');
});

t.test('a delayed job promoted into wait waits from its due time, not from when it was added', async (t) => {
  const { queue, probe, add, at } = await queueWithProbe(t);
  const added = await add('ns/resynced', 8 * MINUTE);
  const job = (await queue.getDelayed())[0];
  await job?.promote();
  t.equal(await queue.getWaitingCount(), 1, 'promoted into wait');
  at(added + 9 * MINUTE);
  t.same(await probe(), { depth: 1, oldestWaitingSeconds: 60 });
});

t.test('the gauges: one probe per scrape, labelled with the queue; gone when Redis does not answer', async (t) => {
  const { probe, add, at, redis } = await queueWithProbe(t);
  let probes = 0;
  const metrics = createReconcilerMetrics(async () => ({}), {
    probeQueue: () => {
      probes += 1;
      return probe();
    },
  });
  const added = await add('ns/a');
  at(added + 30_000);
  const text = await metrics.registry.metrics();
  t.match(text, /apim_operator_queue_depth\{queue="exposedapi-reconcile"\} 1\n/);
  t.match(text, /apim_operator_queue_oldest_waiting_seconds\{queue="exposedapi-reconcile"\} 30\n/);
  t.equal(probes, 1, 'both gauges from one probe');
  redis.disconnect();
  const down = await metrics.registry.metrics();
  t.notMatch(down, /apim_operator_queue_depth\{/, 'no stale depth to scale on');
  await redis.connect();
});
