// The informer with a store, against the stand-in: what it tells its handlers when its watch
// fails, is restarted, re-lists and carries on, and when the API server goes away and comes back.
import t from 'tap';
import type { KubernetesObject } from '@kubernetes/client-node';
import { startKubeApiServer, type KubeApiServer } from '../../fakes/kube-api-server.ts';
import { startInformer, type Informer } from '../../../shared/kube/informer.ts';
import { resourceTarget } from '../../../shared/kube/targets.ts';
import { createObjectStore, type WritableObjectStore } from '../../../shared/kube/object-store.ts';
import { testLogger } from '../../helpers/scan-recording.ts';

const NS = 'components';
const SERVICES = { group: '', version: 'v1', plural: 'services' };
const service = (name: string, port = 80) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS },
  spec: { ports: [{ port }] },
});

interface Watched {
  api: KubeApiServer;
  informer: Informer;
  store: WritableObjectStore<KubernetesObject>;
  /** What the handlers were told, as `add a`, `update b`, `delete c`, in order. */
  told: string[];
  lists(): number;
}

async function watched(
  t: { teardown(fn: () => unknown): void },
  names: readonly string[],
  failingTargets: readonly number[] = [],
): Promise<Watched> {
  const api = await startKubeApiServer({ seed: names.map((n) => service(n)) });
  const kubeConfig = api.kubeconfig();
  let targets = 0;
  const store = createObjectStore<KubernetesObject>();
  const told: string[] = [];
  const tell = (verb: string) => (o: KubernetesObject) => void told.push(`${verb} ${o.metadata?.name}`);
  const informer = startInformer({
    kubeConfig,
    what: 'Services',
    target: async () => {
      if (failingTargets.includes(++targets)) throw new Error('discovery failed: connect ECONNREFUSED');
      return resourceTarget(kubeConfig, SERVICES, { namespace: NS });
    },
    store,
    handlers: { onAdd: tell('add'), onUpdate: tell('update'), onDelete: tell('delete') },
    log: testLogger(),
    backoff: { initialMs: 20, maxMs: 200 },
  });
  t.teardown(async () => {
    await informer.stop();
    await api.close();
  });
  const lists = () => api.requests.filter((r) => r.verb === 'list').length;
  await api.waitFor(() => informer.state().synced && api.openWatches() === 1);
  told.length = 0;
  return { api, informer, store, told, lists };
}

/** Changes to kept, changed, gone (and a new one) made while the informer is between watches. */
const changesInTheGap = (api: KubeApiServer) => () => {
  api.seed(service('changed', 8080), service('new'));
  api.remove('services', NS, 'gone');
};

t.test('a watch that fails is restarted; the re-list tells what changed in the gap, deletions too', async (t) => {
  const w = await watched(t, ['kept', 'changed', 'gone']);
  w.api.failNext({ verb: 'watch' }, 500);
  w.api.closeWatches();
  w.api.interleave({ verb: 'list' }, changesInTheGap(w.api));
  await w.api.waitFor(() => w.lists() === 2 && w.api.openWatches() === 1, 30_000);
  await w.api.waitFor(() => w.told.length >= 3, 30_000);
  t.same([...w.told].sort(), ['add new', 'delete gone', 'update changed'], 'no add for what was known already');
  t.same(
    w.store
      .list()
      .map((o) => o.metadata?.name ?? '')
      .sort(),
    ['changed', 'kept', 'new'],
  );
  w.api.seed(service('after'));
  await w.api.waitFor(() => w.told.includes('add after'), 30_000);
});

t.test(
  'a restart whose target cannot be found (discovery failing) is retried, never an unhandled rejection',
  async (t) => {
    const w = await watched(t, ['kept'], [2]);
    w.api.failNext({ verb: 'watch' }, 500);
    w.api.closeWatches();
    await w.api.waitFor(() => w.lists() === 2 && w.api.openWatches() === 1 && !w.informer.state().reason, 30_000);
    t.pass('listed and watching again after the failed discovery');
  },
);

t.test('410 on the resumed watch: ListWatch re-lists and tells the same', async (t) => {
  const w = await watched(t, ['kept', 'changed', 'gone']);
  w.api.closeWatches();
  w.api.interleave({ verb: 'watch' }, () => {
    changesInTheGap(w.api)();
    w.api.compact();
  });
  await w.api.waitFor(() => w.lists() === 2 && w.api.openWatches() === 1, 30_000);
  await w.api.waitFor(() => w.told.length >= 3, 30_000);
  t.same([...w.told].sort(), ['add new', 'delete gone', 'update changed']);
  const resumed = w.api.requests.filter((r) => r.verb === 'watch').map((r) => r.query.resourceVersion);
  t.equal(resumed.length, 3, 'the first watch, the one that got 410, the one after the re-list');
});

for (const how of ['refuse', 'unavailable'] as const) {
  t.test(`the API server gone (${how}) and back: changes made meanwhile and right after all arrive`, async (t) => {
    const w = await watched(t, ['kept', 'changed', 'gone']);
    await w.api.goDown(how);
    await w.api.waitFor(() => w.informer.state().reason?.startsWith('watch failed') === true, 30_000);
    changesInTheGap(w.api)();
    t.ok(w.informer.state().synced, 'what was learnt is kept through the outage');
    await w.api.comeBack();
    w.api.seed(service('after'));
    await w.api.waitFor(() => w.told.length >= 4 && w.informer.state().reason === undefined, 30_000);
    t.same([...w.told].sort(), ['add after', 'add new', 'delete gone', 'update changed']);
  });
}
