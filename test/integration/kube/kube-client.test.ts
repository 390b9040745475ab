// The reconciler's Kubernetes adapter, driven through the real client-node
// against the stand-in API server, with and without the status subresource.
import t from 'tap';
import { PermanentError, RetryableError } from '../../../shared/errors.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { createKubeClient, type KubeClient, type KubeClientOptions } from '../../../reconciler/clients/kube.ts';
import { classify, retryAfterMs } from '../../../reconciler/clients/kube-errors.ts';
import { startKubeApiServer, type KubeApiServer, type KubeObject } from '../../fakes/kube-api-server.ts';
import pkg from '../../../package.json' with { type: 'json' };

const GROUP = 'oda.tmforum.org';
const FINALIZER = 'oda.tmforum.org/apim';
const MODES = [false, true] as const;

function exposedApi(namespace: string, name: string, metadata: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'ExposedAPI',
    metadata: { namespace, name, ...metadata },
    spec: { path: `/${name}`, implementation: name, port: 8080 },
  };
}

interface Setup {
  api: KubeApiServer;
  client: KubeClient;
  calls: [string, number | 'error'][];
}

async function setup(
  t: { teardown(fn: () => unknown): void },
  subresource: boolean,
  options: Partial<KubeClientOptions> = {},
): Promise<Setup> {
  const api = await startKubeApiServer(
    subresource ? { overrides: { 'exposedapis.oda.tmforum.org': { statusSubresource: true } } } : {},
  );
  t.teardown(() => api.close());
  const calls: [string, number | 'error'][] = [];
  const client = createKubeClient(api.kubeconfig(), {
    statusSubresource: 'detect',
    log: testLogger(),
    onCall: (op, status) => calls.push([op, status]),
    ...options,
  });
  return { api, client, calls };
}

const writes = (api: KubeApiServer, resource: string) =>
  api.requests.filter((r) => r.resource === resource && ['create', 'update', 'patch', 'delete'].includes(r.verb))
    .length;

const mode = (subresource: boolean) => (subresource ? 'with /status' : 'without /status');

t.test('getExposedApi reads the live object, or undefined when missing', async (t) => {
  for (const subresource of MODES) {
    const { api, client, calls } = await setup(t, subresource);
    api.seed(exposedApi('shop', 'catalog'));
    const found = await client.getExposedApi({ namespace: 'shop', name: 'catalog' });
    t.match(
      found,
      {
        apiVersion: `${GROUP}/v1`,
        kind: 'ExposedAPI',
        metadata: { name: 'catalog', namespace: 'shop', resourceVersion: /^\d+$/ },
        spec: { port: 8080 },
      },
      mode(subresource),
    );
    t.equal(
      await client.getExposedApi({ namespace: 'shop', name: 'missing' }),
      undefined,
      `${mode(subresource)}: missing`,
    );
    t.same(
      calls.filter(([op]) => op === 'getExposedApi').map(([, s]) => s),
      [200, 404],
      'onCall reports each call with its status',
    );
  }
});

t.test('a version given at construction is the one read through', async (t) => {
  const { api, client } = await setup(t, false, { version: 'v1beta3' });
  api.seed(exposedApi('shop', 'catalog'));
  t.equal((await client.getExposedApi({ namespace: 'shop', name: 'catalog' }))?.apiVersion, `${GROUP}/v1beta3`);
  t.notOk(
    api.requests.some((r) => r.verb === 'discovery'),
    'no discovery needed',
  );
});

t.test('writeStatus: generation moves only without the subresource; stale resourceVersion is retryable', async (t) => {
  for (const subresource of MODES) {
    const { api, client, calls } = await setup(t, subresource);
    api.seed(exposedApi('shop', 'catalog'));
    const key = { namespace: 'shop', name: 'catalog' };
    const before = await client.getExposedApi(key);
    const rv = before?.metadata.resourceVersion ?? '';
    const written = await client.writeStatus(key, { apiStatus: { name: 'catalog' }, observedGeneration: 1 }, rv);
    t.same(
      written.status,
      { apiStatus: { name: 'catalog' }, observedGeneration: 1 },
      `${mode(subresource)}: status written`,
    );
    t.equal(
      written.metadata.generation,
      subresource ? 1 : 2,
      `${mode(subresource)}: generation ${subresource ? 'kept' : 'moved'}`,
    );
    t.equal(
      api.requests.find((r) => r.verb === 'patch')?.subresource,
      subresource ? 'status' : undefined,
      `${mode(subresource)}: path`,
    );
    t.equal(api.requests.find((r) => r.verb === 'patch')?.contentType, 'application/json-patch+json');
    await t.rejects(
      client.writeStatus(key, { observedGeneration: 9 }, rv),
      RetryableError,
      `${mode(subresource)}: stale resourceVersion`,
    );
    t.same(
      api.get('exposedapis', 'shop', 'catalog')?.status,
      { apiStatus: { name: 'catalog' }, observedGeneration: 1 },
      'the stale write changed nothing',
    );
    await client.writeStatus(key, { implementation: { ready: true } }, written.metadata.resourceVersion ?? '');
    t.same(
      api.get('exposedapis', 'shop', 'catalog')?.status,
      { implementation: { ready: true } },
      `${mode(subresource)}: the status is replaced whole, nothing stale stays`,
    );
    t.equal(calls.filter(([op]) => op === 'discoverResources').length, 1, 'discovery read once');
  }
});

t.test('writeStatus on a gone object is retryable; statusSubresource given skips discovery', async (t) => {
  const { api, client } = await setup(t, true, { statusSubresource: true });
  await t.rejects(client.writeStatus({ namespace: 'shop', name: 'gone' }, {}, '1'), RetryableError);
  t.notOk(
    api.requests.some((r) => r.path.endsWith(`/${GROUP}/v1`)),
    'no resource discovery',
  );
});

t.test('removeFinalizer lets a deleting object go; gone or absent finalizer is success', async (t) => {
  for (const subresource of MODES) {
    const { api, client } = await setup(t, subresource);
    const key = { namespace: 'shop', name: 'catalog' };
    api.seed(exposedApi('shop', 'catalog', { finalizers: [FINALIZER] }));
    await fetch(`${api.url}/apis/${GROUP}/v1/namespaces/shop/exposedapis/catalog`, { method: 'DELETE' });
    const deleting = await client.getExposedApi(key);
    t.match(deleting?.metadata, { deletionTimestamp: /Z$/, finalizers: [FINALIZER] });
    await client.removeFinalizer(key, FINALIZER, deleting?.metadata.resourceVersion ?? '');
    t.equal(api.get('exposedapis', 'shop', 'catalog'), undefined, `${mode(subresource)}: deleted`);
    t.equal(api.requests.find((r) => r.verb === 'patch')?.contentType, 'application/json-patch+json');
    await client.removeFinalizer(key, FINALIZER, deleting?.metadata.resourceVersion ?? '');
    api.seed(exposedApi('shop', 'other', { finalizers: ['someone/else'] }));
    const other = await client.getExposedApi({ namespace: 'shop', name: 'other' });
    const rv = api.resourceVersion();
    await client.removeFinalizer(
      { namespace: 'shop', name: 'other' },
      FINALIZER,
      other?.metadata.resourceVersion ?? '',
    );
    t.equal(api.resourceVersion(), rv, 'absent finalizer: no write');
  }
});

t.test('removeFinalizer racing with another writer: retryable, nothing lost', async (t) => {
  const { api, client } = await setup(t, false);
  const key = { namespace: 'shop', name: 'catalog' };
  api.seed(exposedApi('shop', 'catalog', { finalizers: ['first/one', FINALIZER] }));
  const read = await client.getExposedApi(key);
  // Another writer changes labels after our read: our resourceVersion is stale (409).
  await fetch(`${api.url}/apis/${GROUP}/v1/namespaces/shop/exposedapis/catalog`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/merge-patch+json' },
    body: JSON.stringify({ metadata: { labels: { team: 'a' } } }),
  });
  await t.rejects(
    client.removeFinalizer(key, FINALIZER, read?.metadata.resourceVersion ?? ''),
    RetryableError,
    'stale: 409',
  );
  t.match(
    api.get('exposedapis', 'shop', 'catalog')?.metadata,
    { labels: { team: 'a' }, finalizers: ['first/one', FINALIZER] },
    'nothing lost',
  );

  // The other writer removes the first finalizer between our read and our patch: the index test fails.
  let race = true;
  const racing = createKubeClient(api.kubeconfig(), {
    statusSubresource: false,
    log: testLogger(),
    onCall: (op) => {
      if (op !== 'getExposedApi' || !race) return;
      race = false;
      const live = api.get('exposedapis', 'shop', 'catalog');
      api.seed({ ...live, metadata: { ...live?.metadata, finalizers: [FINALIZER, 'last/one'] } });
    },
  });
  const fresh = await client.getExposedApi(key);
  await t.rejects(
    racing.removeFinalizer(key, FINALIZER, fresh?.metadata.resourceVersion ?? ''),
    RetryableError,
    'list moved: retryable',
  );
  t.same(
    api.get('exposedapis', 'shop', 'catalog')?.metadata.finalizers,
    [FINALIZER, 'last/one'],
    'the other finalizer kept',
  );

  const latest = await client.getExposedApi(key);
  await client.removeFinalizer(key, FINALIZER, latest?.metadata.resourceVersion ?? '');
  t.match(
    api.get('exposedapis', 'shop', 'catalog')?.metadata,
    { labels: { team: 'a' }, finalizers: ['last/one'] },
    'retry removes only ours',
  );
});

function ingress(port: number, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: 'catalog',
      namespace: 'shop',
      labels: { 'app.kubernetes.io/managed-by': 'apim-operator', ...labels },
    },
    spec: {
      ingressClassName: 'istio',
      rules: [
        {
          http: {
            paths: [
              {
                path: '/catalog',
                pathType: 'Prefix',
                backend: { service: { name: 'catalog', port: { number: port } } },
              },
            ],
          },
        },
      ],
    },
  };
}

t.test("applyIngress creates, skips a no-op, updates keeping the live status and others' labels", async (t) => {
  const { api, client } = await setup(t, false);
  const key = { namespace: 'shop', name: 'catalog' };
  t.equal(await client.getIngress(key), undefined);
  const created = await client.applyIngress(ingress(8080));
  t.match(created, { metadata: { name: 'catalog', uid: /./ }, spec: { ingressClassName: 'istio' } });
  t.equal(writes(api, 'ingresses.networking.k8s.io'), 1);
  await client.applyIngress(ingress(8080));
  t.equal(writes(api, 'ingresses.networking.k8s.io'), 1, 'same desired state: no write');

  const live = api.get('ingresses', 'shop', 'catalog');
  api.seed({
    ...live,
    metadata: { ...live?.metadata, labels: { ...live?.metadata.labels, 'added-by': 'someone' } },
    status: { loadBalancer: { ingress: [{ ip: '10.0.0.7' }] } },
  });
  await client.applyIngress(ingress(8080));
  t.equal(writes(api, 'ingresses.networking.k8s.io'), 1, 'a label added by someone else is no reason to write');
  const updated = await client.applyIngress(ingress(9090));
  t.equal(writes(api, 'ingresses.networking.k8s.io'), 2);
  t.match(updated, {
    metadata: { labels: { 'added-by': 'someone', 'app.kubernetes.io/managed-by': 'apim-operator' } },
    status: { loadBalancer: { ingress: [{ ip: '10.0.0.7' }] } },
  });
  t.equal((await client.getIngress(key))?.spec?.rules instanceof Array, true);
  t.same(
    (
      api.get('ingresses', 'shop', 'catalog')?.spec as
        | { rules: { http: { paths: { backend: { service: { port: { number: number } } } }[] } }[] }
        | undefined
    )?.rules[0]?.http.paths[0]?.backend.service.port.number,
    9090,
  );

  api.failNext({ verb: 'update', resource: 'ingresses.networking.k8s.io' }, 409);
  await t.rejects(client.applyIngress(ingress(7070)), RetryableError, 'a conflict on update is retryable');
});

t.test('deleteIngress: deletes, and a missing one is fine', async (t) => {
  const { api, client } = await setup(t, false);
  await client.deleteIngress({ namespace: 'shop', name: 'nothing' });
  await client.applyIngress(ingress(8080));
  await client.deleteIngress({ namespace: 'shop', name: 'catalog' });
  t.same(api.objects('ingresses'), []);
});

t.test('recordEvent: identical repeats grow one series; failures are swallowed', async (t) => {
  const { api, client } = await setup(t, false);
  api.seed(exposedApi('shop', 'catalog'));
  const regarding = await client.getExposedApi({ namespace: 'shop', name: 'catalog' });
  if (!regarding) throw new Error('seed failed');
  const event = {
    type: 'Warning',
    reason: 'ApimRejected',
    message: 'the OpenAPI document is invalid',
    action: 'Reconcile',
  } as const;
  await client.recordEvent(regarding, event);
  await client.recordEvent(regarding, event);
  const events = api.objects('events.events.k8s.io', 'shop');
  t.equal(events.length, 1, 'one Event');
  t.match(events[0], {
    apiVersion: 'events.k8s.io/v1',
    type: 'Warning',
    reason: 'ApimRejected',
    note: 'the OpenAPI document is invalid',
    action: 'Reconcile',
    eventTime: /\.\d{6}Z$/,
    reportingController: /./,
    reportingInstance: /./,
    series: { count: 2, lastObservedTime: /\.\d{6}Z$/ },
    regarding: { kind: 'ExposedAPI', name: 'catalog', namespace: 'shop', uid: regarding.metadata.uid },
  });
  await Promise.all([client.recordEvent(regarding, event), client.recordEvent(regarding, event)]);
  t.match(
    api.objects('events.events.k8s.io', 'shop'),
    [{ series: { count: 4 } }],
    'concurrent repeats do not fork the series',
  );
  await client.recordEvent(regarding, { ...event, message: 'something else' });
  t.equal(api.objects('events.events.k8s.io', 'shop').length, 2, 'another message is another Event');

  api.failNext({ resource: 'events.events.k8s.io' }, 500);
  await client.recordEvent(regarding, { ...event, reason: 'Other' });
  api.failNext({ resource: 'events.events.k8s.io' }, 'reset');
  await client.recordEvent(regarding, { ...event, reason: 'Other' });
  t.pass('failures did not throw');

  const first = api
    .objects('events.events.k8s.io', 'shop')
    .find((e) => e.reason === 'ApimRejected' && e.note === event.message);
  await fetch(`${api.url}/apis/events.k8s.io/v1/namespaces/shop/events/${first?.metadata.name}`, { method: 'DELETE' });
  await client.recordEvent(regarding, event);
  t.equal(
    api.objects('events.events.k8s.io', 'shop').filter((e) => e.reason === 'ApimRejected').length,
    2,
    'an expired Event starts a new series',
  );
});

t.test('applySecret: creates, skips a no-op, updates what differs', async (t) => {
  const { api, client } = await setup(t, false);
  const secret = (value: string) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'apim-key', namespace: 'shop' },
    type: 'Opaque',
    stringData: { key: value },
  });
  await client.applySecret(secret('one'));
  t.same(api.get('secrets', 'shop', 'apim-key')?.data, { key: Buffer.from('one').toString('base64') });
  await client.applySecret(secret('one'));
  t.equal(writes(api, 'secrets'), 1, 'same data: no write');
  await client.applySecret(secret('two'));
  t.equal(writes(api, 'secrets'), 2);
  t.same(api.get('secrets', 'shop', 'apim-key')?.data, { key: Buffer.from('two').toString('base64') });
  await t.rejects(client.applySecret({ metadata: { name: 'x' } }), PermanentError, 'a Secret without a namespace');
});

t.test('errors are classified: retryable or permanent, with the API server message', async (t) => {
  const { api, client } = await setup(t, false);
  api.seed(exposedApi('shop', 'catalog'));
  const key = { namespace: 'shop', name: 'catalog' };
  const cases: [number | 'reset', typeof RetryableError | typeof PermanentError][] = [
    [409, RetryableError],
    [429, RetryableError],
    [500, RetryableError],
    [503, RetryableError],
    ['reset', RetryableError],
    [400, PermanentError],
    [403, PermanentError],
    [422, PermanentError],
  ];
  for (const [status, expected] of cases) {
    api.failNext({ verb: 'get', resource: 'exposedapis.oda.tmforum.org' }, status);
    await t.rejects(client.getExposedApi(key), expected, String(status));
  }
  api.failNext({ verb: 'get' }, 403, {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    code: 403,
    reason: 'Forbidden',
    message: 'exposedapis is forbidden: User cannot get',
  });
  await t.rejects(client.getExposedApi(key), { message: /Forbidden: exposedapis is forbidden: User cannot get/ });
  const throttled = classify({ code: 429, body: '{}', headers: { 'retry-after': '7' } }, 'x');
  t.ok(throttled instanceof RetryableError && throttled.retryAfterMs === 7000, 'Retry-After honoured');
  t.equal(retryAfterMs('Thu, 01 Jan 1970 00:00:10 GMT', 4000), 6000, 'Retry-After as an HTTP date');
  t.equal(retryAfterMs('soon'), undefined);
});

t.test("calls go over undici's request, naming the operator as their user agent, bodies intact", async (t) => {
  const api = await startKubeApiServer({ recordBodies: true });
  t.teardown(() => api.close());
  const client = createKubeClient(api.kubeconfig(), { statusSubresource: 'detect', log: testLogger() });
  api.seed(exposedApi('shop', 'catalog', { finalizers: [] }));
  const found = await client.getExposedApi({ namespace: 'shop', name: 'catalog' });
  await client.addFinalizer({ namespace: 'shop', name: 'catalog' }, FINALIZER, found?.metadata.resourceVersion ?? '');
  t.same(api.get('exposedapis', 'shop', 'catalog')?.metadata.finalizers, [FINALIZER], 'the patch body arrived whole');
  const sent = api.requests.filter((r) => r.sent).map((r) => r.sent!);
  t.ok(sent.length >= 2, 'the read and the patch were recorded');
  for (const request of sent)
    t.equal(request.headers['user-agent'], `apim-operator/${pkg.version}`, `${request.method} ${request.url}`);
  const patch = sent.find((r) => r.method === 'PATCH');
  t.match(
    patch?.headers['content-type'],
    /^application\/(json-patch|merge-patch)\+json/,
    'a patch type the API server takes',
  );
});
