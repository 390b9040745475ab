import t from 'tap';
import { CustomObjectsApi, NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startKubeApiServer } from '../../fakes/kube-api-server.ts';
import { startWatcher, type WatchReason } from '../../../reconciler/watch.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { monitoredNamespaces } from '../../../shared/namespaces.ts';
import { exposedApi } from '../../helpers/resources.ts';

const byText = (a: unknown, b: unknown): number => String(a).localeCompare(String(b));
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const ref = (namespace: string, name: string) => ({
  group: 'oda.tmforum.org',
  version: 'v1',
  namespace,
  plural: 'exposedapis',
  name,
});

t.test('queues what matters, ignores status writes, follows owned Ingresses, resyncs everything', async (t) => {
  const kube = await startKubeApiServer({
    seed: [
      exposedApi({}, { namespace: 'a', name: 'one' }),
      exposedApi({ path: '/two' }, { namespace: 'b', name: 'two' }),
    ],
  });
  const queued: [string, WatchReason][] = [];
  const resyncs: { keys: number; ms: number }[] = [];
  const watcher = startWatcher({
    kubeConfig: kube.kubeconfig(),
    enqueue: async (key, reason) => void queued.push([key, reason]),
    onResync: (keys, ms) => void resyncs.push({ keys, ms }),
    resyncIntervalMs: 3_600_000,
    log: testLogger(),
    namespaces: monitoredNamespaces([]),
    readiness: false,
  });
  t.teardown(async () => {
    await watcher.stop();
    await kube.close();
  });
  const custom = kube.kubeconfig().makeApiClient(CustomObjectsApi);
  const kinds = ['exposedapis', 'components', 'ingresses', 'secrets', 'servicemonitors'] as const;
  await kube.waitFor(() => kinds.every((k) => watcher.cache.synced(k)) && kube.openWatches() === kinds.length);
  t.same(
    queued.sort(byText),
    [
      ['a/one', 'added'],
      ['b/two', 'added'],
    ],
    'every existing ExposedAPI at start',
  );

  queued.length = 0;
  await custom.patchNamespacedCustomObject(
    { ...ref('a', 'one'), body: { status: { apiStatus: { url: 'https://gw/one' } } } },
    merge,
  );
  await custom.patchNamespacedCustomObject({ ...ref('b', 'two'), body: { spec: { port: 9090 } } }, merge);
  await kube.waitFor(() => queued.length > 0);
  t.same(queued, [['b/two', 'changed']], "a status write (the operator's own) queues nothing; a spec change does");

  queued.length = 0;
  const networking = kube.kubeconfig().makeApiClient(NetworkingV1Api);
  await networking.createNamespacedIngress({
    namespace: 'a',
    body: {
      metadata: {
        name: 'one',
        labels: { 'app.kubernetes.io/managed-by': 'oda-apim-operator', 'oda.tmforum.org/exposedapi': 'one' },
      },
      spec: { rules: [] },
    },
  });
  await networking.createNamespacedIngress({
    namespace: 'a',
    body: { metadata: { name: 'unrelated' }, spec: { rules: [] } },
  });
  await networking.patchNamespacedIngressStatus(
    { namespace: 'a', name: 'one', body: { status: { loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } } } },
    merge,
  );
  await kube.waitFor(() => queued.some(([, reason]) => reason === 'ingress'));
  t.ok(
    queued.every(([key]) => key === 'a/one'),
    'only the owner of an operator-owned Ingress is queued',
    { queued },
  );

  queued.length = 0;
  t.equal(await watcher.resync(), 2);
  t.same(queued.sort(byText), [
    ['a/one', 'resync'],
    ['b/two', 'resync'],
  ]);
  t.ok(watcher.state().lastResyncAt, 'the last resync is visible');
  t.equal(resyncs.length, 1, 'the resync was reported once, for its metrics');
  t.equal(resyncs[0]?.keys, 2, 'with the keys it queued');
  t.ok((resyncs[0]?.ms ?? -1) >= 0, 'and how long it took');
});

t.test('what may cut a wait short: a change always, a resync never, the rest unless backing off', async (t) => {
  const { mayCutWait } = await import('../../../reconciler/watch.ts');
  const healthy = { status: { implementation: { ready: true } } };
  const failing = { status: { retry: { attempts: 3 } } };
  t.equal(mayCutWait('changed', failing), true);
  t.equal(mayCutWait('resync', healthy), false);
  for (const reason of ['added', 'ingress', 'owned', 'component', 'endpoints'] as const) {
    t.equal(mayCutWait(reason, healthy), true, `${reason}, healthy`);
    t.equal(mayCutWait(reason, failing), false, `${reason}, backing off after a failure`);
  }
});

t.test('the periodic resync spreads its keys over the interval; one asked for runs at once', async (t) => {
  const kube = await startKubeApiServer({ seed: [exposedApi({}, { namespace: 'a', name: 'one' })] });
  const calls: [string, WatchReason, number, boolean][] = [];
  const watcher = startWatcher({
    kubeConfig: kube.kubeconfig(),
    enqueue: async (key, reason, options) =>
      void calls.push([key, reason, options.delayMs ?? 0, options.replace ?? false]),
    resyncIntervalMs: 200,
    log: testLogger(),
    namespaces: monitoredNamespaces([]),
    readiness: false,
    random: () => 0.5,
  });
  t.teardown(async () => {
    await watcher.stop();
    await kube.close();
  });
  await kube.waitFor(() => calls.some(([, reason]) => reason === 'resync'));
  t.same(
    calls.find(([, reason]) => reason === 'resync'),
    ['a/one', 'resync', 90, false],
    'at half the draw of 90% of the interval, never replacing',
  );
  calls.length = 0;
  await watcher.resync();
  t.same(calls.filter(([, reason]) => reason === 'resync')[0], ['a/one', 'resync', 0, false]);
});
