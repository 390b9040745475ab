// Deletes under failure: an ExposedAPI deleted while APIM answers 500, and one
// deleted with its namespace (a Terminating namespace refuses new objects,
// Events included). Either way the APIM API goes, then the finalizer, with no
// restart of the reconciler.
import t from 'tap';
import { CoreV1Api } from '@kubernetes/client-node';
import { CLEANUP_FINALIZER } from '../../../shared/exposed-api/defaults.ts';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import type { ArmRequest } from '../../fakes/arm/http.ts';
import { RECONCILER_TOKEN, reconcilerUnderTest } from '../../helpers/reconciler-env.ts';
import { helpers, NS } from '../../helpers/reconciler-process.ts';
import { exposedApi } from '../../helpers/resources.ts';

const EVENTS = 'events.events.k8s.io';

t.test('deleted while APIM answers 500: the finalizer stays and status says why, then it goes', async (t) => {
  const { world } = await reconcilerUnderTest(t);
  const { kube, azure } = world;
  const h = helpers(world);
  const name = 'deleted-in-outage';
  const apiId = apiIdFor(NS, name);
  await h.create(name, true);
  await world.giveAddress(NS, name);
  await kube.waitFor(() => h.isReady(name), 60_000);

  let outage = true;
  const isApiDelete = (r: ArmRequest) => r.method === 'DELETE' && r.subPath === `apis/${apiId}`;
  azure.arm.failNext((r) => outage && isApiDelete(r), 500, { times: 1_000_000 });
  const failedDeletes = () => azure.arm.requests.filter((r) => r.method === 'DELETE' && r.path === `apis/${apiId}`);
  await h.remove(name);
  await kube.waitFor(() => h.ready(name)?.reason === 'CleanupRetrying', 60_000);
  // Retried with backoff: more than one reconcile met the outage.
  await kube.waitFor(() => failedDeletes().filter((r) => r.status === 500).length >= 6, 60_000);
  const waiting = kube.get('exposedapis', NS, name);
  t.ok(waiting?.metadata.deletionTimestamp, 'being deleted');
  t.ok(waiting?.metadata.finalizers?.includes(CLEANUP_FINALIZER), 'the finalizer stays while APIM fails');
  t.ok(azure.arm.state().apis[apiId], 'the API is still in APIM');
  const message = String(h.ready(name)?.message);
  t.match(message, /stays until API Management confirms the API is gone/, 'status says why it waits');
  t.match(message, /500|internal server error/i, 'and what APIM answered');
  t.ok(h.status(name)?.retry?.nextRetryAt, 'and when it tries again');
  const event = kube
    .objects(EVENTS, NS)
    .find((e: any) => e.regarding?.name === name && e.reason === 'CleanupRetrying' && e.type === 'Warning');
  t.ok(event, 'a Warning Event says so too');

  outage = false;
  await kube.waitFor(() => kube.get('exposedapis', NS, name) === undefined, 60_000);
  t.notOk(azure.arm.state().apis[apiId], 'the API is gone from APIM');
  const last = failedDeletes().at(-1)?.status ?? 0;
  t.ok(last >= 200 && last < 300, `the last DELETE was accepted (${last})`);
  t.comment(`${failedDeletes().filter((r) => r.status === 500).length} API DELETEs answered 500 before APIM recovered`);
});

t.test(
  'deleted with its namespace: the APIM API and the finalizer go, the refused Event does not hold it',
  async (t) => {
    const { world, custom } = await reconcilerUnderTest(t);
    const { kube, azure } = world;
    const core = kube.kubeconfig().makeApiClient(CoreV1Api);
    const namespace = 'doomed';
    const name = 'goes-with-namespace';
    const apiId = apiIdFor(namespace, name);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await custom.createNamespacedCustomObject({
      group: 'oda.tmforum.org',
      version: 'v1',
      namespace,
      plural: 'exposedapis',
      body: exposedApi(
        { path: `/${name}/tmf-api/v4`, specification: { url: `${world.specs.url}/tmf620.json`, version: 'v4.0.0' } },
        { name, namespace, metadata: { finalizers: [CLEANUP_FINALIZER] } },
      ),
    });
    await world.giveAddress(namespace, name);
    const ready = () => (kube.get('exposedapis', namespace, name)?.status as any)?.implementation?.ready === true;
    await kube.waitFor(ready, 60_000);
    t.ok(azure.arm.state().apis[apiId], 'published');

    const before = kube.requests.length;
    await core.deleteNamespace({ name: namespace });
    const terminating = await core.readNamespace({ name: namespace });
    t.equal(terminating.status?.phase, 'Terminating');
    t.ok(terminating.metadata?.deletionTimestamp, 'with a deletionTimestamp');
    const refusal = await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'too-late' } } }).then(
      () => undefined,
      (error: { code?: number; body?: string }) => error,
    );
    t.equal(refusal?.code, 403, 'a create in it is refused');
    t.match(refusal?.body, `unable to create new content in namespace ${namespace} because it is being terminated`);

    await kube.waitFor(() => kube.get('exposedapis', namespace, name) === undefined, 60_000);
    t.notOk(azure.arm.state().apis[apiId], 'the API is gone from APIM');
    await kube.waitFor(() => kube.get('namespaces', '', namespace) === undefined);
    t.pass('the namespace went once its objects were gone');
    const eventCreates = kube.requests
      .slice(before)
      .filter((r) => r.user === RECONCILER_TOKEN && r.verb === 'create' && r.resource === EVENTS);
    t.ok(
      eventCreates.length > 0,
      'the reconciler did try to record an Event there (refused: the namespace was terminating)',
    );
  },
);
