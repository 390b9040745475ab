// Implementation readiness as the ODA Canvas means it: Ready needs the API served and a ready
// endpoint of its Service; readiness changes are Kubernetes-only reconciles.
import t from 'tap';
import { startReconciler } from '../../../reconciler/server.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { reconcilerUnderTest, startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { exposedApi } from '../../helpers/resources.ts';
import { helpers, NS } from '../../helpers/reconciler-process.ts';

const metric = async (adminUrl: string, pattern: RegExp): Promise<number> => {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  return Number(pattern.exec(text)?.[1] ?? 0);
};

t.test('endpoint readiness flapping: a reconcile each time, no APIM call, a status change each time', async (t) => {
  const world = await startReconcilerEnvironment({ requireReadyEndpoints: true });
  const reconciler = await startReconciler(world.env, testLogger());
  t.teardown(async () => {
    await reconciler.close(1000);
    await world.close();
  });
  const { kube, azure } = world;
  const h = helpers(world);
  const name = 'flapping';
  const condition = (type: string): any => h.status(name)?.conditions?.find((c: any) => c.type === type);
  await h.create(name);
  await world.giveAddress(NS, name);
  await kube.waitFor(() => condition('Published')?.status === 'True', 60_000);
  t.match(condition('ImplementationReady'), { status: 'False', reason: 'ServiceNotFound' });
  t.match(condition('Ready'), { status: 'False', reason: 'ServiceNotFound' });
  t.equal(h.status(name).implementation.ready, false, 'published is not enough: nothing serves it');

  world.implementation(NS, 'r1-prodcatapi', { endpoints: [false] });
  await kube.waitFor(() => condition('ImplementationReady')?.reason === 'NoReadyEndpoints', 60_000);
  await world.idle();
  azure.arm.resetLog();
  kube.clearRequests();
  const queuedBefore = await metric(reconciler.adminUrl, /apim_operator_enqueued_total\{reason="endpoints"\} (\d+)/);
  const readiness: boolean[] = [];
  for (const ready of [true, false, true]) {
    world.implementation(NS, 'r1-prodcatapi', { endpoints: [false, ready] });
    await kube.waitFor(() => h.status(name)?.implementation?.ready === ready, 60_000);
    readiness.push(h.status(name).implementation.ready);
    await world.idle();
  }
  t.same(readiness, [true, false, true]);
  t.equal(
    (await metric(reconciler.adminUrl, /apim_operator_enqueued_total\{reason="endpoints"\} (\d+)/)) - queuedBefore,
    3,
    'three reconciles queued',
  );
  t.same(
    azure.arm.requests.map((r) => `${r.method} ${r.path}`),
    [],
    'no APIM call: only readiness changed',
  );
  const statusWrites = kube.requests.filter((r) => r.verb === 'patch' && r.resource === 'exposedapis.oda.tmforum.org');
  t.equal(statusWrites.length, 3, 'three status changes');
  t.same(
    kube.requests.filter((r) => r.verb !== 'watch' && r.verb !== 'patch').map((r) => `${r.verb} ${r.path}`),
    [],
    'and no read: everything came from the caches',
  );
  t.match(condition('Ready'), { status: 'True', reason: 'Published' });
});

t.test('an ExternalName Service counts as ready', async (t) => {
  const world = await startReconcilerEnvironment({ requireReadyEndpoints: true });
  const reconciler = await startReconciler(world.env, testLogger());
  t.teardown(async () => {
    await reconciler.close(1000);
    await world.close();
  });
  const h = helpers(world);
  world.implementation(NS, 'r1-prodcatapi', { type: 'ExternalName' });
  await h.create('external');
  await world.giveAddress(NS, 'external');
  await world.kube.waitFor(() => h.isReady('external'), 60_000);
  t.match(
    h.status('external').conditions.find((c: any) => c.type === 'ImplementationReady'),
    { status: 'True', reason: 'ExternalNameService' },
  );
});

t.test('an in-mesh API waiting for its endpoints is not a failure: it turns Ready with them', async (t) => {
  const { world, custom } = await reconcilerUnderTest(t, { requireReadyEndpoints: true });
  world.implementation(NS, 'r1-metrics', { endpoints: [false] });
  await custom.createNamespacedCustomObject({
    group: 'oda.tmforum.org',
    version: 'v1',
    namespace: NS,
    plural: 'exposedapis',
    body: exposedApi(
      { apiType: 'prometheus', implementation: 'r1-metrics', path: '/r1/metrics', port: 4000 },
      { name: 'in-mesh' },
    ),
  });
  const condition = (type: string): any =>
    (world.kube.get('exposedapis', NS, 'in-mesh') as any)?.status?.conditions?.find((c: any) => c.type === type);
  await world.kube.waitFor(() => condition('Ready')?.reason === 'NoReadyEndpoints', 60_000);
  t.match(condition('InMeshOnly'), { status: 'True' });
  world.implementation(NS, 'r1-metrics', { endpoints: [true] });
  await world.kube.waitFor(() => condition('Ready')?.status === 'True', 60_000);
  t.match(condition('ImplementationReady'), { status: 'True', reason: 'EndpointsReady' });
});

t.test('MONITORED_NAMESPACES: an ExposedAPI elsewhere is left untouched', async (t) => {
  const world = await startReconcilerEnvironment();
  const reconciler = await startReconciler({ ...world.env, MONITORED_NAMESPACES: `${NS},odacompns-*` }, testLogger());
  t.teardown(async () => {
    await reconciler.close(1000);
    await world.close();
  });
  const { kube } = world;
  const body = (namespace: string, name: string) => ({
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    metadata: { name, namespace },
    spec: { name, apiType: 'openapi', implementation: 'svc', path: `/${namespace}/${name}`, port: 8080 },
  });
  kube.seed(body('elsewhere', 'theirs'), body('odacompns-7', 'ours'));
  await kube.waitFor(() => kube.get('ingresses', 'odacompns-7', 'ours') !== undefined, 60_000);
  await reconciler.resync();
  await world.idle();
  const theirs: any = kube.get('exposedapis', 'elsewhere', 'theirs');
  t.notOk(theirs.status, 'no status written');
  t.notOk(theirs.metadata.finalizers, 'no finalizer added');
  t.notOk(kube.get('ingresses', 'elsewhere', 'theirs'), 'no Ingress');
  t.notOk(
    kube.requests.some((r) => r.namespace === 'elsewhere'),
    'not one request about that namespace',
  );
  t.ok(kube.get('exposedapis', 'odacompns-7', 'ours')?.metadata?.finalizers, 'a glob match is served');
});
