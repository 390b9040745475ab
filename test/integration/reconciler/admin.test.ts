import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { buildAdminApp } from '../../../reconciler/admin.ts';
import { createReconcilerMetrics } from '../../../reconciler/metrics.ts';
import { RECONCILE_JOB, RECONCILE_QUEUE, reconcileJobOptions } from '../../../shared/jobs.ts';
import { silentLogger } from '../../../shared/log.ts';
import { REDIS_URL } from '../../helpers/webhook.ts';

t.test('health, readiness, metrics with queue depth, and the queue dashboard', async (t) => {
  const queue = new Queue(RECONCILE_QUEUE, { connection: { url: REDIS_URL } as never, prefix: `test-${randomUUID()}` });
  let ready = false;
  const metrics = createReconcilerMetrics(() => queue.getJobCounts('waiting', 'active', 'delayed', 'failed'));
  const app = await buildAdminApp({
    log: silentLogger(),
    metrics,
    queue,
    readiness: async () => ({ ready, details: { watch: ready ? 'synced' : 'listing' } }),
  });
  t.teardown(async () => {
    await app.close();
    await queue.obliterate({ force: true });
    await queue.close();
  });
  await queue.add(RECONCILE_JOB, { key: 'ns/waiting' }, reconcileJobOptions('ns/waiting'));
  await queue.add(RECONCILE_JOB, { key: 'ns/later' }, reconcileJobOptions('ns/later', { delayMs: 60_000 }));

  t.equal((await app.inject('/healthz')).statusCode, 200);
  const notReady = await app.inject('/readyz');
  t.equal(notReady.statusCode, 503);
  t.match(notReady.json(), { status: 'not ready', watch: 'listing' });
  ready = true;
  t.equal((await app.inject('/readyz')).statusCode, 200);

  const scrape = (await app.inject('/metrics')).body;
  t.match(scrape, /apim_operator_queue_jobs\{state="waiting"\} 1/);
  t.match(scrape, /apim_operator_queue_jobs\{state="delayed"\} 1/);

  const page = await app.inject('/queues');
  t.equal(page.statusCode, 200);
  t.match(page.body, /<html/i, 'the dashboard page');
  const api = await app.inject('/queues/api/queues?activeQueue=exposedapi-reconcile&status=waiting&page=1');
  t.equal(api.statusCode, 200);
  t.match(JSON.stringify(api.json()), /ns\/waiting/, 'the dashboard lists the queued key');
});
