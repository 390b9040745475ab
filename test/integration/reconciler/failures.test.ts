import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { RECONCILE_REQUEST_ANNOTATION } from '../../../reconciler/reconcile.ts';
import { startReconciler } from '../../../reconciler/server.ts';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { RECONCILE_QUEUE } from '../../../shared/jobs.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { exposedApi, fixtureText, seedExposedApi } from '../../helpers/resources.ts';
import { REDIS_URL } from '../../helpers/webhook.ts';
import { TEST_SERVICE } from '../../fakes/azure-stand-ins.ts';

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const NS = 'components';
const FINALIZER = 'oda.tmforum.org/apim-cleanup';

t.test('every failure class, through the real SDKs', async (t) => {
  const world = await startReconcilerEnvironment();
  const reconciler = await startReconciler(world.env, testLogger());
  const queue = new Queue(RECONCILE_QUEUE, { connection: { url: REDIS_URL } as never, prefix: world.env.QUEUE_PREFIX });
  // A spec URL that answers 503 until told otherwise.
  let specDown = 2;
  const flaky = createServer((_req, res) => {
    if (specDown > 0) {
      specDown -= 1;
      res.writeHead(503, { 'retry-after': '0' }).end('down for maintenance');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(fixtureText('TMF620-ProductCatalog-v4.0.0.swagger.json'));
  });
  await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
  const flakyUrl = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/tmf620.json`;
  t.teardown(async () => {
    await reconciler.close(1000);
    await queue.close();
    await new Promise((resolve) => {
      flaky.closeAllConnections();
      flaky.close(resolve);
    });
    await world.close();
  });
  const { kube, azure } = world;
  const custom = kube.kubeconfig().makeApiClient(CustomObjectsApi);
  const ref = (name: string, namespace = NS) => ({
    group: 'oda.tmforum.org',
    version: 'v1',
    namespace,
    plural: 'exposedapis',
    name,
  });
  const status = (name: string, namespace = NS): any => (kube.get('exposedapis', namespace, name) as any)?.status;
  const ready = (name: string, namespace = NS): any =>
    status(name, namespace)?.conditions?.find((c: any) => c.type === 'Ready');
  const isReady = (name: string, namespace = NS) =>
    status(name, namespace)?.implementation?.ready === true && ready(name, namespace)?.status === 'True';
  const specUrl = `${world.specs.url}/tmf620.json`;
  const create = async (name: string, spec: Record<string, unknown> = {}, finalizer = false) => {
    const body = exposedApi(
      { path: `/${name}/tmf-api/v4`, specification: { url: specUrl, version: 'v4.0.0' }, ...spec },
      { name, ...(finalizer ? { metadata: { finalizers: [FINALIZER] } } : {}) },
    );
    await custom.createNamespacedCustomObject({
      group: 'oda.tmforum.org',
      version: 'v1',
      namespace: NS,
      plural: 'exposedapis',
      body,
    });
  };
  const apiPut = (apiId: string) => ({ method: 'PUT', path: new RegExp(`^apis/${apiId}$`) });
  const putsOf = (apiId: string) => azure.arm.requests.filter((r) => r.method === 'PUT' && r.path === `apis/${apiId}`);
  const failedJob = async (key: string) => (await queue.getFailed()).find((j) => j.data.key === key);
  const waitForFailedJob = async (key: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await failedJob(key);
      if (job) return job;
      if (Date.now() > deadline) throw new Error(`no failed job for ${key} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /** Jobs of the key that would run again: waiting, delayed (a backoff) or active. */
  const pendingJobs = async (key: string) => {
    const found: string[] = [];
    for (const state of ['waiting', 'delayed', 'active', 'prioritized'] as const) {
      for (const job of await queue.getJobs([state]))
        if (job?.data.key === key)
          found.push(`${state} ${job.id} delay=${job.delay} attemptsMade=${job.attemptsMade} ts=${job.timestamp}`);
    }
    return found;
  };
  const sdk = async () => {
    const { ApiManagementClient } = await import('@azure/arm-apimanagement');
    const { DefaultAzureCredential } = await import('@azure/identity');
    return new ApiManagementClient(
      new DefaultAzureCredential({ disableInstanceDiscovery: true }),
      TEST_SERVICE.subscriptionId,
      { endpoint: azure.arm.url },
    );
  };

  await t.test('APIM 429 with Retry-After on the API PUT: retried, status shows the retry, then Ready', async (t) => {
    const name = 'throttled';
    const apiId = apiIdFor(NS, name);
    azure.arm.failNext(apiPut(apiId), 429, { retryAfter: 1, times: 2 });
    await create(name);
    await world.giveAddress(NS, name);
    await kube.waitFor(() => status(name)?.retry?.attempts >= 1, 60_000);
    const retry = status(name).retry;
    t.match(retry.lastError, /429|throttl|exceeded/i, 'lastError names the throttling', { retry });
    t.ok(Date.parse(retry.nextRetryAt) > 0, 'nextRetryAt is a date');
    t.equal(ready(name).reason, 'RetryingAfterError');
    await kube.waitFor(() => isReady(name), 60_000);
    t.ok(putsOf(apiId).filter((r) => r.status === 429).length === 2, 'both throttled PUTs were seen');
    t.ok(azure.arm.state().apis[apiId], 'API created');
    const events = kube.objects('events.events.k8s.io', NS).concat(kube.objects('events', NS)) as any[];
    t.ok(
      events.some((e) => JSON.stringify(e).includes('RetryingAfterError') && JSON.stringify(e).includes(name)),
      'a Warning event says it retries',
    );
  });

  await t.test('status.retry is cleared once Ready', async (t) => {
    await kube.waitFor(() => isReady('throttled'));
    t.notOk(status('throttled').retry, 'retry cleared once Ready', { retry: status('throttled').retry });
  });

  await t.test('APIM 500 (beyond the SDK retries): retried with backoff, then Ready', async (t) => {
    const name = 'server-error';
    const apiId = apiIdFor(NS, name);
    azure.arm.failNext(apiPut(apiId), 500, { times: 5 });
    await create(name);
    await world.giveAddress(NS, name);
    await kube.waitFor(() => isReady(name), 60_000);
    t.equal(putsOf(apiId).filter((r) => r.status === 500).length, 5);
    t.ok(azure.arm.state().apis[apiId]);
  });

  await t.test('412 stale ETag and 409 PessimisticConcurrencyConflict: retried, then Ready', async (t) => {
    const name = 'conflicted';
    const apiId = apiIdFor(NS, name);
    azure.arm.failNext(apiPut(apiId), 412);
    azure.arm.failNext(apiPut(apiId), 409);
    await create(name);
    await world.giveAddress(NS, name);
    await kube.waitFor(() => isReady(name), 60_000);
    t.same(
      putsOf(apiId)
        .map((r) => r.status)
        .slice(0, 2),
      [412, 409],
    );
  });

  await t.test(
    'path conflict with an API someone else made: Ready=False, permanent, not retried; a new path succeeds',
    async (t) => {
      const client = await sdk();
      await client.api.beginCreateOrUpdateAndWait(
        TEST_SERVICE.resourceGroup,
        TEST_SERVICE.name,
        'someone-elses-api',
        { displayName: 'Someone else', path: 'taken-path/v1', protocols: ['https'] },
        { updateIntervalInMs: 10 },
      );
      const name = 'path-clash';
      const apiId = apiIdFor(NS, name);
      await create(name, { path: '/taken-path/v1' });
      await world.giveAddress(NS, name);
      const job = await waitForFailedJob(`${NS}/${name}`);
      t.match(job.failedReason, /ValidationError|path/i, "the job failed with APIM's refusal");
      await kube.waitFor(() => ready(name)?.status === 'False' && ready(name)?.reason !== 'WaitingForIngressAddress');
      t.not(ready(name).reason, 'RetryingAfterError', 'a permanent reason');
      t.match(ready(name).message, /path|ValidationError/i);
      t.notOk(status(name).retry, 'no retry announced');
      const puts = putsOf(apiId).length;
      t.ok(puts >= 1);
      t.notOk(
        (await pendingJobs(`${NS}/${name}`)).some((j) => j.includes(` ${job.id} `)),
        'the failed job is not retried',
      );
      await new Promise((r) => setTimeout(r, 1500)); // longer than BACKOFF_MAX_MS: a retry would have happened
      t.equal(putsOf(apiId).length, puts, 'APIM is not hammered');
      t.ok(azure.arm.state().apis['someone-elses-api'], 'the other API is untouched');

      await custom.patchNamespacedCustomObject({ ...ref(name), body: { spec: { path: '/free-path/v1' } } }, merge);
      await kube.waitFor(() => isReady(name), 60_000);
      t.equal((azure.arm.state().apis[apiId]?.properties as { path?: string } | undefined)?.path, 'free-path/v1');
    },
  );

  await t.test(
    'after a permanent failure whose cause was outside the resource, the reconcile-requested-at annotation runs it again',
    async (t) => {
      const client = await sdk();
      await client.api.beginCreateOrUpdateAndWait(
        TEST_SERVICE.resourceGroup,
        TEST_SERVICE.name,
        'earlier-operators-api',
        { displayName: 'Made by the earlier operator', path: 'migrated/v1', protocols: ['https'] },
        { updateIntervalInMs: 10 },
      );
      const name = 'migrated';
      const apiId = apiIdFor(NS, name);
      await create(name, { path: '/migrated/v1' });
      await world.giveAddress(NS, name);
      await waitForFailedJob(`${NS}/${name}`);
      await kube.waitFor(() => ready(name)?.status === 'False' && ready(name)?.reason !== 'WaitingForIngressAddress');
      const puts = putsOf(apiId).length;

      // Retried from the dashboard (BullMQ's job.retry, as bull-board calls it): it runs again, and fails the same way.
      const failed = await waitForFailedJob(`${NS}/${name}`);
      await failed.retry('failed');
      await kube.waitFor(() => putsOf(apiId).length > puts, 30_000);
      await waitForFailedJob(`${NS}/${name}`);
      const afterRetry = putsOf(apiId).length;

      // Asking without removing the cause: it runs once more and fails the same way.
      const request = (at: string) =>
        custom.patchNamespacedCustomObject(
          { ...ref(name), body: { metadata: { annotations: { [RECONCILE_REQUEST_ANNOTATION]: at } } } },
          merge,
        );
      await request('1');
      await kube.waitFor(() => putsOf(apiId).length > afterRetry, 30_000);
      await kube.waitFor(() => ready(name)?.status === 'False' && !status(name)?.retry);
      t.not(ready(name).reason, 'RetryingAfterError', 'still permanent');

      await client.api.beginDeleteAndWait(TEST_SERVICE.resourceGroup, TEST_SERVICE.name, 'earlier-operators-api', '*', {
        updateIntervalInMs: 10,
      });
      await request('2');
      await kube.waitFor(() => isReady(name), 60_000);
      t.equal((azure.arm.state().apis[apiId]?.properties as { path?: string } | undefined)?.path, 'migrated/v1');
    },
  );

  await t.test(
    "an API id present in APIM but not the operator's: Ready=False, never modified or deleted",
    async (t) => {
      const name = 'not-mine';
      const apiId = apiIdFor(NS, name);
      const client = await sdk();
      await client.api.beginCreateOrUpdateAndWait(
        TEST_SERVICE.resourceGroup,
        TEST_SERVICE.name,
        apiId,
        { displayName: 'Hand made', path: 'hand-made', protocols: ['https'], description: 'made by hand' },
        { updateIntervalInMs: 10 },
      );
      const before = JSON.stringify(azure.arm.state().apis[apiId]);
      const policyBefore = azure.arm.state().policies[apiId];
      await create(name, {}, true);
      await world.giveAddress(NS, name);
      await waitForFailedJob(`${NS}/${name}`);
      await kube.waitFor(() => ready(name)?.status === 'False' && /did not create/.test(ready(name)?.message ?? ''));
      t.not(ready(name).reason, 'RetryingAfterError');
      await custom.deleteNamespacedCustomObject(ref(name));
      await kube.waitFor(() => kube.get('exposedapis', NS, name) === undefined, 60_000);
      t.equal(JSON.stringify(azure.arm.state().apis[apiId]), before, 'API unchanged');
      t.equal(azure.arm.state().policies[apiId], policyBefore, 'policy unchanged');
      const writes = azure.arm.requests.filter(
        (r) => r.method !== 'GET' && r.method !== 'HEAD' && r.path.startsWith(`apis/${apiId}`),
      );
      t.same(
        writes.map((r) => `${r.method} ${r.path}`),
        [`PUT apis/${apiId}`],
        "only the test's own PUT",
      );
      t.notOk(kube.get('ingresses', NS, name), 'its Ingress was cleaned up');
    },
  );

  await t.test('unparseable inline OpenAPI (seed form): Ready=False InvalidSpecification, not retried', async (t) => {
    const body = seedExposedApi({ specification: 'this: is: not [openapi', path: '/garbage-inline' });
    body.metadata = { name: 'garbage-inline', namespace: NS };
    await custom.createNamespacedCustomObject({
      group: 'oda.tmforum.org',
      version: 'v1beta3',
      namespace: NS,
      plural: 'exposedapis',
      body,
    });
    await world.giveAddress(NS, 'garbage-inline');
    const job = await waitForFailedJob(`${NS}/garbage-inline`).catch((error: unknown) => {
      throw new Error(`${String(error)}; status ${JSON.stringify(status('garbage-inline'))}`);
    });
    await kube.waitFor(() => ready('garbage-inline')?.status === 'False');
    t.match(ready('garbage-inline').reason, /Invalid(Specification|OpenApiDocument)/, 'reason', {
      condition: ready('garbage-inline'),
    });
    t.notOk(
      (await pendingJobs(`${NS}/garbage-inline`)).some((j) => j.includes(` ${job.id} `)),
      'the failed job is not retried',
    );
    t.notOk(azure.arm.state().apis[apiIdFor(NS, 'garbage-inline')]);
  });

  await t.test('a spec URL serving something that is not OpenAPI: Ready=False, not retried', async (t) => {
    const name = 'not-openapi';
    await create(name, { specification: { url: `${world.specs.url}/not-openapi.json`, version: 'v1' } });
    await world.giveAddress(NS, name);
    const job = await waitForFailedJob(`${NS}/${name}`);
    t.match(job.failedReason, /specification/);
    await kube.waitFor(() => ready(name)?.status === 'False' && ready(name)?.reason !== 'WaitingForIngressAddress');
    t.not(ready(name).reason, 'RetryingAfterError', 'permanent');
    t.match(ready(name).message, /spec/i);
    t.notOk(
      (await pendingJobs(`${NS}/${name}`)).some((j) => j.includes(` ${job.id} `)),
      'the failed job is not retried',
    );
    const hits = world.specs.hits.get('/not-openapi.json');
    t.notOk(azure.arm.state().apis[apiIdFor(NS, name)], 'nothing published');
    t.ok(hits, 'fetched');
  });

  await t.test(
    'a spec URL serving something that is not OpenAPI gets an InvalidSpecification-like reason',
    async (t) => {
      await kube.waitFor(
        () => ready('not-openapi')?.status === 'False' && ready('not-openapi')?.reason !== 'WaitingForIngressAddress',
      );
      t.match(ready('not-openapi').reason, /Invalid(Specification|OpenApiDocument)/, 'reason', {
        condition: ready('not-openapi'),
      });
    },
  );

  await t.test('a spec URL that answers 503: transient, retried, then Ready', async (t) => {
    const name = 'spec-503';
    await create(name, { specification: { url: flakyUrl, version: 'v4.0.0' } });
    await world.giveAddress(NS, name);
    await kube.waitFor(() => isReady(name), 60_000);
    t.equal(specDown, 0, 'both 503s were served');
    t.ok(azure.arm.state().apis[apiIdFor(NS, name)]);
  });

  await t.test('Kubernetes 409 on the status write: retried, ends Ready', async (t) => {
    const name = 'status-conflict';
    await create(name);
    await kube.waitFor(() => ready(name)?.reason === 'WaitingForIngressAddress');
    await world.idle();
    kube.failNext({ verb: 'patch', resource: 'exposedapis.oda.tmforum.org', name }, 409, {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: 'the object has been modified; please apply your changes to the latest version and try again',
    });
    await world.giveAddress(NS, name);
    await kube.waitFor(() => isReady(name), 60_000);
    const patches = kube.requests.filter((r) => r.verb === 'patch' && r.name === name);
    t.ok(patches.length >= 2, 'the status write was made again after the conflict', { patches: patches.length });
  });
});
