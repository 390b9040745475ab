import t from 'tap';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { Queue } from 'bullmq';
import { startReconciler } from '../../../reconciler/server.ts';
import { RECONCILE_QUEUE } from '../../../shared/jobs.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { ownRedis } from '../../helpers/redis-server.ts';
import { helpers, NS, until } from '../../helpers/reconciler-process.ts';

t.test('deleting an ExposedAPI while its API PUT is in flight leaves nothing behind', async (t) => {
  const world = await startReconcilerEnvironment();
  const reconciler = await startReconciler(world.env, testLogger());
  t.teardown(async () => {
    await reconciler.close(1000);
    await world.close();
  });
  const { kube, azure } = world;
  const h = helpers(world);
  const name = 'deleted-mid-create';
  const apiId = apiIdFor(NS, name);
  await h.create(name, true);
  await kube.waitFor(() => h.ready(name)?.reason === 'WaitingForIngressAddress');
  const inFlight = h.slowPuts(500, [apiId]);
  await world.giveAddress(NS, name);
  await kube.waitFor(() => inFlight.has(apiId));
  await h.remove(name);
  t.ok(kube.get('exposedapis', NS, name)?.metadata?.deletionTimestamp, 'deletion waits for the finalizer');
  await kube.waitFor(() => kube.get('exposedapis', NS, name) === undefined, 60_000);
  await world.idle();
  t.notOk(azure.arm.state().apis[apiId], 'no API in APIM');
  t.notOk(kube.get('ingresses', NS, name), 'no Ingress');
  t.ok(
    azure.arm.requests.some((r) => r.method === 'PUT' && r.path === `apis/${apiId}`),
    'the PUT did happen',
  );
});

t.test('a Redis restart loses jobs, not keys: the resync brings every key back', async (t) => {
  const redis = await ownRedis();
  const world = await startReconcilerEnvironment();
  const env: Record<string, string> = { ...world.env, REDIS_URL: redis.url, RECONCILE_CONCURRENCY: '1' };
  const reconciler = await startReconciler(env, testLogger());
  const queue = new Queue(RECONCILE_QUEUE, {
    connection: { url: redis.url, maxRetriesPerRequest: null } as never,
    prefix: env.QUEUE_PREFIX,
  });
  queue.on('error', () => undefined);
  t.teardown(async () => {
    await reconciler.close(1000);
    await queue.close();
    await redis.stop();
    await world.close();
  });
  const { kube, azure } = world;
  const h = helpers(world);
  const names = ['kept-a', 'kept-b', 'kept-c'];
  for (const name of names) await h.create(name);
  await kube.waitFor(() => names.every((n) => h.ready(n)?.reason === 'WaitingForIngressAddress'), 60_000);
  const inFlight = h.slowPuts(
    3000,
    names.map((n) => apiIdFor(NS, n)),
  );
  for (const name of names) await world.giveAddress(NS, name);
  await kube.waitFor(() => inFlight.size >= 1, 60_000);
  const waiting = await queue.getJobCounts('waiting', 'active', 'delayed');
  t.ok((waiting.waiting ?? 0) + (waiting.delayed ?? 0) >= 1, 'jobs are pending when Redis goes', { waiting });

  await redis.stop();
  azure.arm.setLatency(0);
  await redis.start();
  const stoppedAt = Date.now();
  const counts = await until('queue readable', async () =>
    queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'),
  );
  t.same(
    Object.values(counts).reduce((a, b) => a + b, 0),
    0,
    'the restarted Redis is empty: every job is gone',
  );
  // The reconcile that was running may still finish; the others had only their (lost) jobs.
  await world.idle().catch(() => undefined);
  const readyBefore = names.filter((n) => h.isReady(n));
  t.ok(readyBefore.length < names.length, 'without a resync, some key is stranded', { readyBefore });

  const queued = await until('resync after Redis is back', () => reconciler.resync());
  t.equal(queued, names.length);
  await kube.waitFor(() => names.every((n) => h.isReady(n)), 60_000);
  t.comment(`all keys Ready ${Date.now() - stoppedAt} ms after Redis came back (the worker reconnected by itself)`);
  for (const name of names) t.ok(azure.arm.state().apis[apiIdFor(NS, name)], `${name} in APIM`);
});
