// The reconciler's Kubernetes adapter for what the ODA Canvas adds: the owning Component's status
// entries, the finalizer, reads from the informer caches, and the objects for scraping metrics APIs.
import t from 'tap';
import { createKubeClient } from '../../../reconciler/clients/kube.ts';
import { startClusterCache } from '../../../reconciler/cluster-cache.ts';
import { componentUpdate } from '../../../reconciler/render/component-status.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { monitoredNamespaces } from '../../../shared/namespaces.ts';
import type { KubeObject } from '../../../reconciler/clients/kube-types.ts';
import { startKubeApiServer } from '../../fakes/kube-api-server.ts';

const GROUP = 'oda.tmforum.org';
const UID = '5c0ffee0-0000-4000-8000-000000000001';

const component = (entries: Record<string, unknown>[]): KubeObject => ({
  apiVersion: `${GROUP}/v1`,
  kind: 'Component',
  metadata: { name: 'r1-productcatalog', namespace: 'components' },
  spec: { coreFunction: { exposedAPIs: [] } },
  status: { coreAPIs: entries, managementAPIs: [], securityAPIs: [], summary: 'kept' },
});

for (const subresource of [false, true]) {
  t.test(`patchComponentStatus (Component status subresource: ${subresource})`, async (t) => {
    const api = await startKubeApiServer(
      subresource ? { overrides: { 'components.oda.tmforum.org': { statusSubresource: true } } } : {},
    );
    t.teardown(() => api.close());
    const client = createKubeClient(api.kubeconfig(), { log: testLogger() });
    const key = { namespace: 'components', name: 'r1-productcatalog' };
    const [seeded] = api.seed(
      component([
        { name: 'r1-other', uid: 'other', ready: true, url: 'https://x/other' },
        { name: 'r1-productcatalog-api', uid: UID, ready: false },
      ]),
    );
    const live = (await client.getComponent(key)) as KubeObject;
    const update = componentUpdate(live, UID, { url: 'https://gw/pc', developerUI: 'https://gw/pc/docs', ready: true });
    if (update.kind !== 'patch') throw new Error('expected a patch');
    const written = await client.patchComponentStatus(key, update.operations, live.metadata.resourceVersion ?? '');
    t.not(written, 'conflict');
    const stored: any = api.get('components', 'components', 'r1-productcatalog');
    t.same(stored.status.coreAPIs, [
      { name: 'r1-other', uid: 'other', ready: true, url: 'https://x/other' },
      { name: 'r1-productcatalog-api', uid: UID, ready: true, url: 'https://gw/pc', developerUI: 'https://gw/pc/docs' },
    ]);
    t.equal(stored.status.summary, 'kept', 'nothing else of the status touched');
    t.same(stored.spec, seeded?.spec, 'nor the spec');
    const patch = api.requests.find((r) => r.verb === 'patch');
    t.equal(patch?.subresource, subresource ? 'status' : undefined, 'through /status exactly when the CRD has it');
    t.equal(patch?.contentType, 'application/json-patch+json');

    t.equal(
      await client.patchComponentStatus(key, update.operations, live.metadata.resourceVersion ?? ''),
      'conflict',
      'a stale resourceVersion is a conflict, not an error',
    );
    const fresh = (await client.getComponent(key, { fresh: true })) as KubeObject;
    const moved = [
      { op: 'test' as const, path: '/status/coreAPIs/0/uid', value: UID },
      { op: 'replace' as const, path: '/status/coreAPIs/0/ready', value: false },
    ];
    t.equal(
      await client.patchComponentStatus(key, moved, fresh.metadata.resourceVersion ?? ''),
      'conflict',
      'the entry moved (its uid test failed): a conflict too',
    );
    t.equal(await client.patchComponentStatus({ namespace: 'components', name: 'gone' }, moved, '1'), 'gone');
  });
}

t.test('addFinalizer adds it beside others, guarded by the resourceVersion', async (t) => {
  const api = await startKubeApiServer();
  t.teardown(() => api.close());
  const client = createKubeClient(api.kubeconfig(), { log: testLogger() });
  const body = (name: string, finalizers?: string[]): KubeObject => ({
    apiVersion: `${GROUP}/v1`,
    kind: 'ExposedAPI',
    metadata: { name, namespace: 'components', ...(finalizers ? { finalizers } : {}) },
    spec: { path: `/${name}`, implementation: name, port: 8080 },
  });
  const [none, some] = api.seed(body('none'), body('some', ['someone/else']));
  const added = await client.addFinalizer(
    { namespace: 'components', name: 'none' },
    'oda.tmforum.org/apim-cleanup',
    none?.metadata.resourceVersion ?? '',
  );
  t.same(added.metadata.finalizers, ['oda.tmforum.org/apim-cleanup']);
  await client.addFinalizer(
    { namespace: 'components', name: 'some' },
    'oda.tmforum.org/apim-cleanup',
    some?.metadata.resourceVersion ?? '',
  );
  t.same(api.get('exposedapis', 'components', 'some')?.metadata.finalizers, [
    'someone/else',
    'oda.tmforum.org/apim-cleanup',
  ]);
  await t.rejects(
    client.addFinalizer({ namespace: 'components', name: 'none' }, 'x/y', none?.metadata.resourceVersion ?? ''),
    { name: 'RetryableError' },
    'a stale resourceVersion',
  );
});

t.test('with an informer cache, reads make no request once listed, and writes are seen at once', async (t) => {
  const api = await startKubeApiServer();
  t.teardown(() => api.close());
  const kubeConfig = api.kubeconfig();
  const cache = startClusterCache({
    kubeConfig,
    log: testLogger(),
    namespaces: monitoredNamespaces([]),
    kinds: ['exposedapis', 'ingresses', 'secrets', 'components', 'servicemonitors'],
  });
  t.teardown(() => cache.stop());
  api.seed({
    apiVersion: `${GROUP}/v1`,
    kind: 'ExposedAPI',
    metadata: { name: 'catalog', namespace: 'shop' },
    spec: { path: '/catalog', implementation: 'catalog', port: 8080 },
  });
  const client = createKubeClient(kubeConfig, { log: testLogger(), cache });
  await api.waitFor(() => cache.synced('exposedapis') && cache.synced('ingresses') && cache.synced('secrets'));
  await api.waitFor(() => cache.store('exposedapis').size === 1);
  api.clearRequests();
  const key = { namespace: 'shop', name: 'catalog' };
  t.equal((await client.getExposedApi(key))?.metadata.name, 'catalog');
  t.equal(await client.getIngress(key), undefined);
  t.equal(await client.getSecretData(key), undefined);
  t.same(
    api.requests.filter((r) => r.verb !== 'watch'),
    [],
    'no request: all from the cache',
  );

  const ingress = {
    metadata: { name: 'catalog', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'oda-apim-operator' } },
    spec: { ingressClassName: 'istio', rules: [] },
  };
  await client.applyIngress(ingress);
  await client.applyIngress(ingress);
  t.equal(
    api.requests.filter((r) => r.verb === 'create' || r.verb === 'update').length,
    1,
    'the second apply saw the first',
  );
  const status = await client.writeStatus(
    key,
    { observedSpecHash: 'x' },
    (await client.getExposedApi(key))?.metadata.resourceVersion ?? '',
  );
  t.equal(
    (await client.getExposedApi(key))?.metadata.resourceVersion,
    status.metadata.resourceVersion,
    'its own status write is read back at once',
  );
});

t.test('Pods: listed by selector, annotated and un-annotated with a merge patch', async (t) => {
  const api = await startKubeApiServer();
  t.teardown(() => api.close());
  const client = createKubeClient(api.kubeconfig(), { log: testLogger() });
  const pod = (name: string, labels: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels, annotations: { kept: 'yes' } },
    spec: { containers: [{ name: 'c', image: 'i' }] },
  });
  api.seed(pod('a', { impl: 'm', tier: 'x' }), pod('b', { impl: 'm' }), pod('c', { impl: 'other' }));
  const found = await client.listPods('shop', { impl: 'm' });
  t.same(found.map((p) => p.metadata.name ?? '').sort(), ['a', 'b']);
  await client.annotatePod({ namespace: 'shop', name: 'a' }, { 'prometheus.io/scrape': 'true' });
  t.same(api.get('pods', 'shop', 'a')?.metadata.annotations, { kept: 'yes', 'prometheus.io/scrape': 'true' });
  await client.annotatePod({ namespace: 'shop', name: 'a' }, { 'prometheus.io/scrape': null });
  t.same(api.get('pods', 'shop', 'a')?.metadata.annotations, { kept: 'yes' });
  await client.annotatePod({ namespace: 'shop', name: 'gone' }, { x: 'y' });
  t.pass('a Pod gone meanwhile is skipped');
});
