// The stand-in's Namespaces, driven by the real @kubernetes/client-node: a
// deleted namespace terminates as on a real API server (NamespaceLifecycle
// admission and the namespace controller).
import t from 'tap';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { startKubeApiServer } from '../../fakes/kube-api-server.ts';

const EVENTS = { group: 'events.k8s.io', version: 'v1', plural: 'events' } as const;

async function refusal(promise: Promise<unknown>): Promise<{ code?: number; status?: any }> {
  try {
    await promise;
    return {};
  } catch (error) {
    const { code, body } = error as { code?: number; body?: string };
    return { code, status: JSON.parse(body ?? '{}') };
  }
}

t.test('a deleted namespace terminates, refuses new objects and goes once empty', async (t) => {
  const api = await startKubeApiServer();
  t.teardown(() => api.close());
  const core = api.kubeconfig().makeApiClient(CoreV1Api);
  const custom = api.kubeconfig().makeApiClient(CustomObjectsApi);
  const created = await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
  t.equal(created.status?.phase, 'Active');
  t.same(created.spec?.finalizers, ['kubernetes']);
  t.equal(created.metadata?.namespace, undefined, 'cluster-scoped');
  await core.createNamespacedSecret({ namespace: 'doomed', body: { metadata: { name: 'held', finalizers: ['x/y'] } } });

  await core.deleteNamespace({ name: 'doomed' });
  const terminating = await core.readNamespace({ name: 'doomed' });
  t.equal(terminating.status?.phase, 'Terminating');
  t.ok(terminating.metadata?.deletionTimestamp);

  const secret = await refusal(
    core.createNamespacedSecret({ namespace: 'doomed', body: { metadata: { name: 'new' } } }),
  );
  t.equal(secret.code, 403);
  t.match(secret.status, {
    reason: 'Forbidden',
    message:
      'secrets "new" is forbidden: unable to create new content in namespace doomed because it is being terminated',
    details: { causes: [{ reason: 'NamespaceTerminating', field: 'metadata.namespace' }] },
  });
  const event = await refusal(
    custom.createNamespacedCustomObject({
      ...EVENTS,
      namespace: 'doomed',
      body: { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e1' }, reason: 'Late' },
    }),
  );
  t.equal(event.code, 403, 'Events too');
  t.equal(
    (await refusal(core.createNamespacedSecret({ namespace: 'other', body: { metadata: { name: 'ok' } } }))).code,
    undefined,
    'other namespaces are not affected',
  );

  // The controller deleted the Secret; its finalizer holds it, and an update of it is still allowed.
  await api.waitFor(() => Boolean(api.get('secrets', 'doomed', 'held')?.metadata.deletionTimestamp));
  t.ok(api.get('namespaces', '', 'doomed'), 'the namespace waits for what is left in it');
  const held = await core.readNamespacedSecret({ namespace: 'doomed', name: 'held' });
  held.metadata = Object.assign(held.metadata ?? {}, { finalizers: [] });
  await core.replaceNamespacedSecret({ namespace: 'doomed', name: 'held', body: held });
  await api.waitFor(() => api.get('namespaces', '', 'doomed') === undefined);
  t.notOk(api.get('secrets', 'doomed', 'held'), 'the Secret went once its finalizer did');
  t.pass('the namespace went once empty');
});
