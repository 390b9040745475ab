// The stand-in Kubernetes API, driven by the real @kubernetes/client-node: CRUD,
// conflicts, patches, generation rules, finalizers and garbage collection.
import t from 'tap';
import {
  ApisApi,
  CoreV1Api,
  CustomObjectsApi,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { startKubeApiServer, type KubeObject } from '../../fakes/kube-api-server.ts';

const GROUP = 'oda.tmforum.org';
const PLURAL = 'exposedapis';
const STALE_STATUS = {
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  reason: 'Conflict',
  code: 409,
  message:
    'Operation cannot be fulfilled on exposedapis.oda.tmforum.org "shop": the object has been modified; please apply your changes to the latest version and try again',
};

function exposedApi(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'ExposedAPI',
    metadata: { name, ...extra },
    spec: { path: `/${name}`, implementation: name, port: 8080 },
  };
}

/** The Status an ApiException carries (client-node 2 gives the body as the raw text). */
async function statusOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    const body = (error as { body?: unknown }).body;
    return typeof body === 'string' ? JSON.parse(body) : (body as Record<string, unknown>);
  }
  throw new Error('expected the call to fail');
}

async function withServer(
  t: { teardown(fn: () => unknown): void },
  options: Parameters<typeof startKubeApiServer>[0] = {},
) {
  const api = await startKubeApiServer(options);
  t.teardown(() => api.close());
  const kc = api.kubeconfig();
  return {
    api,
    custom: kc.makeApiClient(CustomObjectsApi),
    core: kc.makeApiClient(CoreV1Api),
    net: kc.makeApiClient(NetworkingV1Api),
    kc,
  };
}

const ref = (namespace: string, name: string, version = 'v1') => ({
  group: GROUP,
  version,
  namespace,
  plural: PLURAL,
  name,
});
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

t.test('discovery names the group, its preferred version and its resources', async (t) => {
  const { kc, custom } = await withServer(t, {
    overrides: { 'exposedapis.oda.tmforum.org': { statusSubresource: true } },
  });
  const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
  const oda = groups.groups.find((g) => g.name === GROUP);
  t.same(oda?.preferredVersion, { groupVersion: `${GROUP}/v1`, version: 'v1' });
  t.same(
    oda?.versions.map((v) => v.version),
    ['v1', 'v1beta4', 'v1beta3', 'v1beta2'],
    'the versions of the ExposedAPI and Component CRDs',
  );
  const resources = await custom.getAPIResources({ group: GROUP, version: 'v1beta3' });
  t.same(
    resources.resources.map((r) => r.name),
    ['exposedapis', 'exposedapis/status', 'components'],
  );
  const plain = await withServer(t);
  const group = await (await fetch(`${plain.api.url}/apis/${GROUP}`)).json();
  t.same(group.preferredVersion, { groupVersion: `${GROUP}/v1`, version: 'v1' });
  const without = await plain.custom.getAPIResources({ group: GROUP, version: 'v1' });
  t.same(
    without.resources.map((r) => r.name),
    ['exposedapis', 'components'],
  );
});

t.test('create, get through another version, list with selectors', async (t) => {
  const { api, custom } = await withServer(t);
  const created = await custom.createNamespacedCustomObject({
    ...ref('shop', ''),
    body: exposedApi('catalog', { labels: { tier: 'gold' } }),
  });
  t.match(created.metadata, {
    name: 'catalog',
    namespace: 'shop',
    generation: 1,
    resourceVersion: /^\d+$/,
    uid: /[0-9a-f-]{36}/,
    creationTimestamp: /Z$/,
  });
  await custom.createNamespacedCustomObject({
    ...ref('shop', ''),
    body: exposedApi('', { generateName: 'gen-', labels: { tier: 'silver' } }),
  });
  await custom.createNamespacedCustomObject({
    ...ref('other', ''),
    body: exposedApi('catalog', { labels: { tier: 'gold' } }),
  });
  const viaBeta = await custom.getNamespacedCustomObject(ref('shop', 'catalog', 'v1beta3'));
  t.equal(viaBeta.apiVersion, `${GROUP}/v1beta3`, 'read through v1beta3: same object, apiVersion rewritten');
  t.equal(viaBeta.metadata.uid, created.metadata.uid);
  t.equal(api.objects('exposedapis')[0]?.apiVersion, `${GROUP}/v1`, 'stored once, in the storage version');

  const cases: [string, { labelSelector?: string; fieldSelector?: string; namespace?: string }, string[]][] = [
    ['all namespaces', {}, ['other/catalog', 'shop/catalog', 'shop/gen-']],
    ['one namespace', { namespace: 'shop' }, ['shop/catalog', 'shop/gen-']],
    ['label equality', { labelSelector: 'tier=gold' }, ['other/catalog', 'shop/catalog']],
    ['label in', { labelSelector: 'tier in (silver,bronze)' }, ['shop/gen-']],
    ['label inequality', { labelSelector: 'tier!=gold' }, ['shop/gen-']],
    ['field name', { fieldSelector: 'metadata.name=catalog', namespace: 'shop' }, ['shop/catalog']],
  ];
  for (const [name, query, expected] of cases) {
    const { namespace, ...selectors } = query;
    const list = namespace
      ? await custom.listNamespacedCustomObject({
          group: GROUP,
          version: 'v1',
          plural: PLURAL,
          namespace,
          ...selectors,
        })
      : await custom.listClusterCustomObject({ group: GROUP, version: 'v1', plural: PLURAL, ...selectors });
    const keys = list.items.map(
      (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name?.startsWith('gen-') ? 'gen-' : o.metadata.name}`,
    );
    t.same(keys, expected, name);
    t.equal(list.metadata.resourceVersion, api.resourceVersion(), `${name}: list carries the current resourceVersion`);
  }
});

t.test('errors are Status bodies with the API server reason and code', async (t) => {
  const { custom, api } = await withServer(t);
  await custom.createNamespacedCustomObject({ ...ref('shop', ''), body: exposedApi('shop') });
  const cases: [string, () => Promise<unknown>, number, string][] = [
    [
      'AlreadyExists',
      () => custom.createNamespacedCustomObject({ ...ref('shop', ''), body: exposedApi('shop') }),
      409,
      'AlreadyExists',
    ],
    ['NotFound', () => custom.getNamespacedCustomObject(ref('shop', 'missing')), 404, 'NotFound'],
    [
      'Invalid name',
      () => custom.createNamespacedCustomObject({ ...ref('shop', ''), body: exposedApi('Not_Valid') }),
      422,
      'Invalid',
    ],
    [
      'Invalid update without resourceVersion',
      () => custom.replaceNamespacedCustomObject({ ...ref('shop', 'shop'), body: exposedApi('shop') }),
      422,
      'Invalid',
    ],
    [
      'MethodNotAllowed',
      () =>
        fetch(`${api.url}/apis/${GROUP}/v1/namespaces/shop/${PLURAL}`, { method: 'PUT' }).then(async (r) => {
          throw { body: await r.text() };
        }),
      405,
      'MethodNotAllowed',
    ],
  ];
  for (const [name, call, code, reason] of cases)
    t.match(await statusOf(call()), { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason }, name);
});

t.test('an update with a stale resourceVersion is a 409 Conflict; a no-op update changes nothing', async (t) => {
  const { custom, api } = await withServer(t);
  const first = await custom.createNamespacedCustomObject({ ...ref('ns', ''), body: exposedApi('shop') });
  const second = await custom.replaceNamespacedCustomObject({
    ...ref('ns', 'shop'),
    body: { ...first, spec: { ...first.spec, port: 9090 } },
  });
  t.equal(second.metadata.generation, 2);
  const status = await statusOf(
    custom.replaceNamespacedCustomObject({
      ...ref('ns', 'shop'),
      body: { ...first, spec: { ...first.spec, port: 1 } },
    }),
  );
  t.match(status, { ...STALE_STATUS, details: { name: 'shop', group: GROUP, kind: PLURAL } });
  const rv = api.resourceVersion();
  const same = await custom.replaceNamespacedCustomObject({ ...ref('ns', 'shop'), body: second });
  t.equal(same.metadata.resourceVersion, second.metadata.resourceVersion, 'no-op: same resourceVersion');
  t.equal(api.resourceVersion(), rv, 'no-op: nothing written');
});

t.test('patches: merge, JSON, strategic (as merge), apply', async (t) => {
  const { custom, api } = await withServer(t);
  await custom.createNamespacedCustomObject({
    ...ref('ns', ''),
    body: exposedApi('shop', { labels: { a: '1', b: '2' } }),
  });
  const cases: [string, string, unknown, (o: KubeObject) => unknown, unknown][] = [
    [
      'merge',
      PatchStrategy.MergePatch,
      { metadata: { labels: { b: null, c: '3' } } },
      (o) => o.metadata.labels,
      { a: '1', c: '3' },
    ],
    [
      'json',
      PatchStrategy.JsonPatch,
      [{ op: 'replace', path: '/spec/port', value: 9000 }],
      (o) => (o.spec as { port: number }).port,
      9000,
    ],
    [
      'strategic',
      PatchStrategy.StrategicMergePatch,
      { spec: { implementation: 'svc2' } },
      (o) => (o.spec as { implementation: string }).implementation,
      'svc2',
    ],
    [
      'apply',
      PatchStrategy.ServerSideApply,
      { apiVersion: `${GROUP}/v1`, kind: 'ExposedAPI', metadata: { name: 'shop' }, spec: { path: '/applied' } },
      (o) => (o.spec as { path: string }).path,
      '/applied',
    ],
  ];
  for (const [name, contentType, body, read, expected] of cases) {
    const patched = await custom.patchNamespacedCustomObject(
      { ...ref('ns', 'shop'), body, fieldManager: 'test' },
      setHeaderOptions('Content-Type', contentType),
    );
    t.same(read(patched), expected, name);
    t.equal(api.requests.at(-1)?.contentType, contentType, `${name}: the log names the patch type`);
  }
  const applied = await custom.patchNamespacedCustomObject(
    { ...ref('ns', 'fresh'), body: exposedApi('fresh'), fieldManager: 'test' },
    setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
  );
  t.equal(applied.metadata.generation, 1, 'apply creates what is missing');
  const stale = await statusOf(
    custom.patchNamespacedCustomObject(
      { ...ref('ns', 'shop'), body: { metadata: { resourceVersion: '1' }, spec: { port: 1 } } },
      merge,
    ),
  );
  t.match(stale, { code: 409, reason: 'Conflict' }, 'a resourceVersion in a patch is a precondition');
});

t.test('generation and status: without and with the status subresource', async (t) => {
  // [write, changes generation?, without subresource, with subresource]
  type Write = 'spec' | 'status via main' | 'labels' | 'status via /status';
  const expectations: [Write, number | 'absent', number | 'absent'][] = [
    ['spec', 1, 1],
    ['status via main', 1, 0],
    ['labels', 0, 0],
    ['status via /status', 'absent', 0],
  ];
  for (const withSubresource of [false, true]) {
    const { custom } = await withServer(
      t,
      withSubresource ? { overrides: { 'exposedapis.oda.tmforum.org': { statusSubresource: true } } } : {},
    );
    await custom.createNamespacedCustomObject({
      ...ref('ns', ''),
      body: { ...exposedApi('shop'), status: { ignored: withSubresource } },
    });
    for (const [write, without, within] of expectations) {
      const before = await custom.getNamespacedCustomObject(ref('ns', 'shop'));
      const expected = withSubresource ? within : without;
      const n = Number(before.metadata.resourceVersion);
      const call =
        write === 'spec'
          ? custom.patchNamespacedCustomObject({ ...ref('ns', 'shop'), body: { spec: { port: n } } }, merge)
          : write === 'status via main'
            ? custom.patchNamespacedCustomObject({ ...ref('ns', 'shop'), body: { status: { n } } }, merge)
            : write === 'labels'
              ? custom.patchNamespacedCustomObject(
                  { ...ref('ns', 'shop'), body: { metadata: { labels: { n: String(n) } } } },
                  merge,
                )
              : custom.patchNamespacedCustomObjectStatus(
                  { ...ref('ns', 'shop'), body: { status: { n }, spec: { port: -1 } } },
                  merge,
                );
      const label = `${withSubresource ? 'with' : 'without'} subresource: ${write}`;
      if (expected === 'absent') {
        t.match(await statusOf(call), { code: 404, reason: 'NotFound' }, `${label}: /status is 404`);
        continue;
      }
      const after = await call;
      t.equal(after.metadata.generation - before.metadata.generation, expected, `${label}: generation +${expected}`);
      if (withSubresource && write === 'status via main') t.same(after.status, before.status, `${label}: status kept`);
      if (write === 'status via /status')
        t.same([after.spec.port, after.status], [before.spec.port, { n }], `${label}: only status changed`);
    }
    if (withSubresource)
      t.equal(
        (await custom.getNamespacedCustomObject(ref('ns', 'shop'))).status?.ignored,
        undefined,
        'create drops status when there is a subresource',
      );
  }
});

t.test('finalizers hold a deletion; removing the last one deletes', async (t) => {
  const { custom, api } = await withServer(t);
  await custom.createNamespacedCustomObject({
    ...ref('ns', ''),
    body: exposedApi('shop', { finalizers: ['oda.tmforum.org/apim'] }),
  });
  const deleting = await custom.deleteNamespacedCustomObject(ref('ns', 'shop'));
  t.match(deleting.metadata, {
    deletionTimestamp: /Z$/,
    deletionGracePeriodSeconds: 0,
    generation: 2,
    finalizers: ['oda.tmforum.org/apim'],
  });
  t.ok(api.get('exposedapis', 'ns', 'shop'), 'still there while a finalizer remains');
  const again = await custom.deleteNamespacedCustomObject(ref('ns', 'shop'));
  t.equal(again.metadata.resourceVersion, deleting.metadata.resourceVersion, 'a second delete changes nothing');
  t.match(
    await statusOf(
      custom.patchNamespacedCustomObject(
        { ...ref('ns', 'shop'), body: { metadata: { finalizers: ['a', 'oda.tmforum.org/apim'] } } },
        merge,
      ),
    ),
    { code: 422, reason: 'Invalid' },
    'no new finalizer on a deleting object',
  );
  const last = await custom.patchNamespacedCustomObject(
    { ...ref('ns', 'shop'), body: { metadata: { finalizers: null } } },
    merge,
  );
  t.same(last.metadata.finalizers, undefined);
  t.equal(api.get('exposedapis', 'ns', 'shop'), undefined, 'gone once the last finalizer is removed');
  t.match(await statusOf(custom.getNamespacedCustomObject(ref('ns', 'shop'))), { code: 404 });
});

t.test('deleting an owner deletes what names it in ownerReferences', async (t) => {
  const { custom, core, net, api } = await withServer(t);
  const owner = await custom.createNamespacedCustomObject({ ...ref('ns', ''), body: exposedApi('shop') });
  const other = await custom.createNamespacedCustomObject({ ...ref('ns', ''), body: exposedApi('other') });
  const owned = (uids: string[]) => ({
    ownerReferences: uids.map((uid, i) => ({
      apiVersion: `${GROUP}/v1`,
      kind: 'ExposedAPI',
      name: i ? 'other' : 'shop',
      uid,
      controller: i === 0,
    })),
  });
  await net.createNamespacedIngress({
    namespace: 'ns',
    body: { metadata: { name: 'shop', ...owned([owner.metadata.uid]) }, spec: {} },
  });
  await core.createNamespacedSecret({
    namespace: 'ns',
    body: { metadata: { name: 'held', finalizers: ['x/y'], ...owned([owner.metadata.uid]) } },
  });
  await core.createNamespacedSecret({
    namespace: 'ns',
    body: { metadata: { name: 'shared', ...owned([owner.metadata.uid, other.metadata.uid]) } },
  });
  await core.createNamespacedSecret({
    namespace: 'other-ns',
    body: { metadata: { name: 'elsewhere', ...owned([owner.metadata.uid]) } },
  });
  await custom.deleteNamespacedCustomObject(ref('ns', 'shop'));
  t.same(api.objects('ingresses'), [], 'owned Ingress deleted');
  t.match(
    api.get('secrets', 'ns', 'held')?.metadata,
    { deletionTimestamp: /Z$/ },
    'a dependent with a finalizer is marked deleting',
  );
  t.same(
    api.get('secrets', 'ns', 'shared')?.metadata.ownerReferences?.map((r) => r.name),
    ['other'],
    'a dependent with another live owner loses only the dead reference',
  );
  t.ok(api.get('secrets', 'other-ns', 'elsewhere'), 'owner references do not cross namespaces');
});

t.test('built-in types: status subresource of Ingress, list items without kind', async (t) => {
  const { net, core } = await withServer(t);
  const ingress = await net.createNamespacedIngress({
    namespace: 'ns',
    body: {
      metadata: { name: 'i' },
      spec: { ingressClassName: 'istio' },
      status: { loadBalancer: { ingress: [{ ip: '1.1.1.1' }] } },
    },
  });
  t.same(ingress.status, undefined, 'status is dropped on create');
  const withStatus = await net.replaceNamespacedIngressStatus({
    namespace: 'ns',
    name: 'i',
    // oxlint-disable-next-line typescript/no-misused-spread -- the typed model as the body, with a status
    body: { ...ingress, status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } } },
  });
  t.equal(withStatus.status?.loadBalancer?.ingress?.[0]?.ip, '10.0.0.1');
  t.equal(withStatus.metadata?.generation, 1, 'status writes do not move the generation');
  const list = await fetch(`${(await withServer(t)).api.url}/api/v1/namespaces/ns/secrets`).then((r) => r.json());
  t.equal(list.kind, 'SecretList');
  await core.createNamespacedSecret({ namespace: 'ns', body: { metadata: { name: 's' }, stringData: { a: 'b' } } });
  t.equal((await core.listNamespacedSecret({ namespace: 'ns' })).items[0]?.metadata?.name, 's');
});

t.test('less common requests: dryRun, pages, deletecollection, bad selectors and patches', async (t) => {
  const { custom, api } = await withServer(t);
  for (const name of ['a', 'b', 'c'])
    await custom.createNamespacedCustomObject({
      ...ref('ns', ''),
      body: exposedApi(name, { labels: { app: name === 'c' ? 'x' : 'y' } }),
    });
  const dry = await custom.createNamespacedCustomObject({ ...ref('ns', ''), body: exposedApi('dry'), dryRun: 'All' });
  t.equal(dry.metadata.name, 'dry');
  t.equal(api.get('exposedapis', 'ns', 'dry'), undefined, 'dryRun stores nothing');
  const first = await custom.listNamespacedCustomObject({
    group: GROUP,
    version: 'v1',
    plural: PLURAL,
    namespace: 'ns',
    limit: 2,
  });
  const rest = await custom.listNamespacedCustomObject({
    group: GROUP,
    version: 'v1',
    plural: PLURAL,
    namespace: 'ns',
    limit: 2,
    _continue: first.metadata.continue,
  });
  t.same(
    [...first.items, ...rest.items].map((o: KubeObject) => o.metadata.name),
    ['a', 'b', 'c'],
    'limit and continue page through',
  );
  t.equal(first.metadata.remainingItemCount, 1);
  const cases: [string, () => Promise<unknown>, number][] = [
    [
      'bad label selector',
      () =>
        custom.listNamespacedCustomObject({
          group: GROUP,
          version: 'v1',
          plural: PLURAL,
          namespace: 'ns',
          labelSelector: 'a in (b',
        }),
      400,
    ],
    [
      'unsupported field selector',
      () =>
        custom.listNamespacedCustomObject({
          group: GROUP,
          version: 'v1',
          plural: PLURAL,
          namespace: 'ns',
          fieldSelector: 'spec.path=/a',
        }),
      400,
    ],
    [
      'failing JSON patch test',
      () =>
        custom.patchNamespacedCustomObject({ ...ref('ns', 'a'), body: [{ op: 'test', path: '/spec/port', value: 1 }] }),
      422,
    ],
    [
      'apply without fieldManager',
      () =>
        custom.patchNamespacedCustomObject(
          { ...ref('ns', 'a'), body: {} },
          setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
        ),
      422,
    ],
    [
      'unknown patch type',
      () =>
        custom.patchNamespacedCustomObject(
          { ...ref('ns', 'a'), body: {} },
          setHeaderOptions('Content-Type', 'application/json'),
        ),
      415,
    ],
    ['status of a type without the subresource', () => custom.getNamespacedCustomObjectStatus(ref('ns', 'a')), 404],
    [
      'wrong apiVersion in the body',
      () =>
        custom.createNamespacedCustomObject({
          ...ref('ns', ''),
          body: { ...exposedApi('w'), apiVersion: `${GROUP}/v1beta3` },
        }),
      400,
    ],
  ];
  for (const [name, call, code] of cases) t.match(await statusOf(call()), { kind: 'Status', code }, name);
  await custom.deleteCollectionNamespacedCustomObject({
    group: GROUP,
    version: 'v1',
    plural: PLURAL,
    namespace: 'ns',
    labelSelector: 'app=y',
  });
  t.same(
    api.objects('exposedapis').map((o) => o.metadata.name),
    ['c'],
    'deletecollection honours the selector',
  );
});

t.test('recordBodies keeps each request as sent, without its token; off by default', async (t) => {
  const recording = await withServer(t, { recordBodies: true });
  const body = exposedApi('catalog');
  await recording.custom.createNamespacedCustomObject({ ...ref('shop', ''), body });
  const [create] = recording.api.requests.filter((r) => r.verb === 'create');
  t.equal(create?.sent?.method, 'POST');
  t.equal(create?.sent?.url, '/apis/oda.tmforum.org/v1/namespaces/shop/exposedapis');
  t.match(JSON.parse(create?.sent?.body ?? '{}'), { metadata: { name: 'catalog' } }, 'the body as sent');
  t.match(create?.sent?.headers, { 'content-type': /json/ });
  t.notOk(create?.sent?.headers.authorization, 'the bearer token is not kept');

  const plain = await withServer(t);
  await plain.custom.createNamespacedCustomObject({ ...ref('shop', ''), body });
  t.notOk(
    plain.api.requests.some((r) => r.sent),
    'nothing kept unless asked',
  );
});
