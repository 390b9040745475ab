import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { buildAdminApp, buildLocalDashboardApp } from '../../../reconciler/admin.ts';
import { readDashboardCredential, type DashboardSettings } from '../../../reconciler/dashboard-auth.ts';
import { createReconcilerMetrics } from '../../../reconciler/metrics.ts';
import { RECONCILE_JOB, RECONCILE_QUEUE, reconcileJobOptions } from '../../../shared/jobs.ts';
import { dashboardSecret } from '../../helpers/test-secrets.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { REDIS_URL } from '../../helpers/webhook.ts';

const SETTINGS: DashboardSettings = {
  username: 'ops',
  passwordFile: '/run/secrets/password',
  tokenFile: '/run/secrets/token',
  readOnly: false,
  localPort: 0,
};
// The password has a colon in it: only the first one separates it from the user name.
const PASSWORD = `${dashboardSecret('s3cret')}:pw`;
const TOKEN = dashboardSecret('tok-123');
const FILES: Record<string, string> = { '/run/secrets/password': `${PASSWORD}\n`, '/run/secrets/token': TOKEN };
const credential = readDashboardCredential(SETTINGS, (path) => FILES[path] ?? '');
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function queueWithJobs(t: Test) {
  const queue = new Queue(RECONCILE_QUEUE, { connection: { url: REDIS_URL } as never, prefix: `test-${randomUUID()}` });
  t.teardown(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
  });
  await queue.add(RECONCILE_JOB, { key: 'ns/waiting' }, reconcileJobOptions('ns/waiting'));
  await queue.add(RECONCILE_JOB, { key: 'ns/later' }, reconcileJobOptions('ns/later', { delayMs: 60_000 }));
  return queue;
}

t.test('health, readiness, metrics with queue depth, and the queue dashboard behind the credential', async (t) => {
  const queue = await queueWithJobs(t);
  let ready = false;
  const metrics = createReconcilerMetrics(() => queue.getJobCounts('waiting', 'active', 'delayed', 'failed'));
  const app = await buildAdminApp({
    log: testLogger(),
    metrics,
    queue,
    readiness: async () => ({ ready, details: { watch: ready ? 'synced' : 'listing' } }),
    dashboard: { readOnly: false, credential },
  });
  t.teardown(() => app.close());

  t.equal((await app.inject('/healthz')).statusCode, 200);
  const notReady = await app.inject('/readyz');
  t.equal(notReady.statusCode, 503);
  t.match(notReady.json(), { status: 'not ready', watch: 'listing' });
  ready = true;
  t.equal((await app.inject('/readyz')).statusCode, 200);

  const scrape = (await app.inject('/metrics')).body;
  t.match(scrape, /apim_operator_queue_jobs\{state="waiting"\} 1/);
  t.match(scrape, /apim_operator_queue_jobs\{state="delayed"\} 1/);

  const refused = await app.inject('/queues');
  t.equal(refused.statusCode, 401, 'no credential, no page');
  t.same(refused.headers['www-authenticate'], [
    'Basic realm="queue dashboard", charset="UTF-8"',
    'Bearer realm="queue dashboard"',
  ]);
  t.equal((await app.inject({ url: '/queues/static/favicon.ico' })).statusCode, 401, 'its files too');
  for (const authorization of [
    basic('ops', 'wrong'),
    basic('root', PASSWORD),
    `Bearer ${TOKEN.slice(0, -1)}`,
    `Bearer ${TOKEN}4`,
    TOKEN,
    'Digest x',
  ])
    t.equal((await app.inject({ url: '/queues', headers: { authorization } })).statusCode, 401, authorization);

  const page = await app.inject({ url: '/queues', headers: { authorization: basic('ops', PASSWORD) } });
  t.equal(page.statusCode, 200, 'basic auth, the password with a colon in it');
  t.match(page.body, /<html/i, 'the dashboard page');
  const api = await app.inject({
    url: '/queues/api/queues?activeQueue=exposedapi-reconcile&status=waiting&page=1',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  t.equal(api.statusCode, 200, 'a bearer token');
  const listed = api.json().queues[0];
  t.equal(listed.readOnlyMode, false);
  t.equal(listed.jobs[0].name, 'reconcile ns/waiting', 'the job is titled with its key');
});

t.test('read-only: no actions on the page, and the API refuses them', async (t) => {
  const queue = await queueWithJobs(t);
  const app = await buildAdminApp({
    log: testLogger(),
    metrics: createReconcilerMetrics(() => queue.getJobCounts()),
    queue,
    readiness: async () => ({ ready: true, details: {} }),
    dashboard: { readOnly: true, credential },
  });
  t.teardown(() => app.close());
  const headers = { authorization: `Bearer ${TOKEN}` };
  const listed = (
    await app.inject({ url: '/queues/api/queues?activeQueue=exposedapi-reconcile&status=delayed&page=1', headers })
  ).json().queues[0];
  t.equal(listed.readOnlyMode, true);
  t.equal(listed.allowRetries, false);
  const id = listed.jobs[0].id;
  for (const url of [
    `/queues/api/queues/exposedapi-reconcile/${id}/clean`,
    `/queues/api/queues/exposedapi-reconcile/${id}/promote`,
    '/queues/api/queues/exposedapi-reconcile/clean/delayed',
  ])
    t.equal((await app.inject({ method: 'PUT', url, headers })).statusCode, 405, url);
  t.equal(
    (await app.inject({ method: 'PUT', url: `/queues/api/queues/exposedapi-reconcile/${id}/clean` })).statusCode,
    401,
    'the credential first',
  );
  t.equal(await queue.getJobCountByTypes('delayed'), 1, 'nothing was removed or promoted');
});

t.test('no credential: not on the admin port; the loopback app serves it', async (t) => {
  const queue = await queueWithJobs(t);
  const admin = await buildAdminApp({
    log: testLogger(),
    metrics: createReconcilerMetrics(() => queue.getJobCounts()),
    queue,
    readiness: async () => ({ ready: true, details: {} }),
    dashboard: { readOnly: false, credential: undefined },
  });
  const local = await buildLocalDashboardApp({ log: testLogger(), queue, readOnly: false });
  t.teardown(() => Promise.all([admin.close(), local.close()]));
  const hidden = await admin.inject('/queues/api/queues');
  t.equal(hidden.statusCode, 404);
  t.match(hidden.json().error, /127\.0\.0\.1 only.*DASHBOARD_PASSWORD_FILE.*port-forward/);
  t.equal((await local.inject('/queues')).statusCode, 200);
});

t.test(
  'POST /resync: behind the credential, refused read-only, on the loopback app without a credential',
  async (t) => {
    const queue = await queueWithJobs(t);
    const asked: string[] = [];
    const build = (readOnly: boolean, withCredential: boolean) =>
      buildAdminApp({
        log: testLogger(),
        metrics: createReconcilerMetrics(() => queue.getJobCounts()),
        queue,
        readiness: async () => ({ ready: true, details: {} }),
        dashboard: { readOnly, credential: withCredential ? credential : undefined },
        resync: async () => {
          asked.push(readOnly ? 'read-only' : 'admin');
          return 7;
        },
      });
    const admin = await build(false, true);
    const readOnly = await build(true, true);
    const bare = await build(false, false);
    const local = await buildLocalDashboardApp({
      log: testLogger(),
      queue,
      readOnly: false,
      resync: async () => {
        asked.push('local');
        return 3;
      },
    });
    t.teardown(() => Promise.all([admin.close(), readOnly.close(), bare.close(), local.close()]));
    const headers = { authorization: 'Bearer tok-123' };

    t.equal((await admin.inject({ method: 'POST', url: '/resync' })).statusCode, 401, 'no credential, no resync');
    t.equal(
      (await admin.inject({ method: 'POST', url: '/resync', headers: { authorization: 'Bearer x' } })).statusCode,
      401,
    );
    t.equal((await admin.inject({ url: '/resync', headers })).statusCode, 404, 'only POST');
    t.same(asked, [], 'nothing refused reached the resync');
    const accepted = await admin.inject({ method: 'POST', url: '/resync', headers });
    t.equal(accepted.statusCode, 202);
    t.same(accepted.json(), { queued: 7 }, 'the keys the resync queued');

    const refused = await readOnly.inject({ method: 'POST', url: '/resync', headers });
    t.equal(refused.statusCode, 405, 'a read-only dashboard asks for no resync');
    t.match(refused.json().error, /read-only.*DASHBOARD_READ_ONLY/);

    const hidden = await bare.inject({ method: 'POST', url: '/resync' });
    t.equal(hidden.statusCode, 404, 'without a credential, not on the admin port');
    t.match(hidden.json().error, /POST \/resync.*127\.0\.0\.1 only.*port-forward/);
    t.same(
      (await local.inject({ method: 'POST', url: '/resync' })).json(),
      { queued: 3 },
      'the loopback app serves it',
    );
    t.same(asked, ['admin', 'local'], 'one resync per accepted request, none for the refused ones');
  },
);
