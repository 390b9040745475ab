// The watch-fed path index against the stand-in API server, with the real client-node informer.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  SECRET,
  startKubeApiServer,
  type KubeApiServer,
  type KubeApiServerOptions,
  type KubeObject,
} from '../../fakes/kube-api-server.ts';
import { createPathIndex, type PathIndex } from '../../../webhook/path-index.ts';
import { startPathWatch, type PathWatch, type PathWatchState } from '../../../webhook/kube-path-watch.ts';
import { loadKubeConfig } from '../../../shared/kube/config.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { monitoredNamespaces } from '../../../shared/namespaces.ts';

const GROUP = 'oda.tmforum.org';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const exposedApi = (
  namespace: string,
  name: string,
  path: string,
  extra: Record<string, unknown> = {},
): KubeObject => ({
  apiVersion: `${GROUP}/v1`,
  kind: 'ExposedAPI',
  metadata: { name, namespace, ...extra },
  spec: { path },
});

interface Running {
  api: KubeApiServer;
  index: PathIndex;
  watch: PathWatch;
  states: PathWatchState[];
  custom: CustomObjectsApi;
  lists(): string[];
}

/** A stand-in with these options and a path watch on it; both end with the test. */
async function running(
  t: { teardown(fn: () => unknown): void },
  options: KubeApiServerOptions = {},
  backoff = { initialMs: 10, maxMs: 40 },
  namespaces = monitoredNamespaces([]),
): Promise<Running> {
  const api = await startKubeApiServer(options);
  const index = createPathIndex();
  const states: PathWatchState[] = [];
  const watch = startPathWatch({
    kubeConfig: api.kubeconfig(),
    index,
    log: testLogger(),
    namespaces,
    onStateChange: (s) => states.push(s),
    backoff,
  });
  t.teardown(async () => {
    await watch.stop();
    await api.close();
  });
  const lists = () => api.requests.filter((r) => r.verb === 'list').map((r) => r.path);
  return { api, index, watch, states, custom: api.kubeconfig().makeApiClient(CustomObjectsApi), lists };
}

const synced = (r: Running) => r.api.waitFor(() => r.watch.state().synced && r.api.openWatches() === 1);
const ref = (namespace: string, name: string) => ({
  group: GROUP,
  version: 'v1',
  namespace,
  plural: 'exposedapis',
  name,
});

t.test('objects present before the start are claimed once synced; lookups make no requests', async (t) => {
  const r = await running(t, { seed: [exposedApi('a', 'one', '/shop/v1'), exposedApi('b', 'two', '/Shop/V2/')] });
  t.equal(r.watch.state().synced, false, 'not synced before the first list');
  await synced(r);
  t.same(r.watch.state(), { enabled: true, synced: true });
  t.same(r.states.at(-1), { enabled: true, synced: true }, 'onStateChange told');
  const before = r.api.requests.length;
  t.equal(r.index.claimant('/shop/v2', 'c/new'), 'b/two');
  t.equal(r.index.claimant('/SHOP/v1/', 'c/new'), 'a/one');
  t.equal(r.index.claimant('/shop/v1', 'a/one'), undefined, 'the object itself is not a rival');
  t.equal(r.api.requests.length, before, 'no request per lookup');
  t.same(r.lists(), [`/apis/${GROUP}/v1/exposedapis`], 'exactly one LIST, over all namespaces');
});

t.test('creates, path updates and deletes reach the index', async (t) => {
  const r = await running(t);
  await synced(r);
  await r.custom.createNamespacedCustomObject({ ...ref('a', ''), body: exposedApi('a', 'one', '/first') });
  await r.api.waitFor(() => r.index.claimant('/first', 'x/y') === 'a/one');
  await r.custom.patchNamespacedCustomObject({ ...ref('a', 'one'), body: { spec: { path: '/second' } } }, merge);
  await r.api.waitFor(() => r.index.claimant('/second', 'x/y') === 'a/one');
  t.equal(r.index.claimant('/first', 'x/y'), undefined, 'the old path is free');
  await r.custom.patchNamespacedCustomObject(
    { ...ref('a', 'one'), body: { metadata: { finalizers: ['oda.tmforum.org/apim'] } } },
    merge,
  );
  await r.custom.deleteNamespacedCustomObject(ref('a', 'one'));
  await r.api.waitFor(() => r.api.get('exposedapis', 'a', 'one')?.metadata.deletionTimestamp !== undefined);
  await r.custom.createNamespacedCustomObject({ ...ref('b', ''), body: exposedApi('b', 'marker', '/marker') });
  await r.api.waitFor(() => r.index.claimant('/marker', 'x/y') === 'b/marker');
  t.equal(r.index.claimant('/second', 'x/y'), 'a/one', 'an object being deleted keeps its claim');
  await r.custom.patchNamespacedCustomObject({ ...ref('a', 'one'), body: { metadata: { finalizers: null } } }, merge);
  await r.api.waitFor(() => r.index.claimant('/second', 'x/y') === undefined);
  t.equal(r.index.size(), 1);
  t.equal(r.lists().length, 1, 'still the one LIST');
});

t.test('a dropped watch resumes from where it was, with no new LIST', async (t) => {
  const r = await running(t, { seed: [exposedApi('a', 'one', '/one')] });
  await synced(r);
  for (const round of [1, 2]) {
    const watches = r.api.requests.filter((q) => q.verb === 'watch').length;
    r.api.closeWatches();
    await r.api.waitFor(
      () => r.api.requests.filter((q) => q.verb === 'watch').length === watches + 1 && r.api.openWatches() === 1,
    );
    r.api.seed(exposedApi('a', `after-drop-${round}`, `/drop/${round}`));
    await r.api.waitFor(() => r.index.claimant(`/drop/${round}`, 'x/y') === `a/after-drop-${round}`);
  }
  const resumedFrom = r.api.requests.filter((q) => q.verb === 'watch').map((q) => q.query.resourceVersion);
  t.ok(
    resumedFrom.every((rv) => rv !== undefined && rv !== '' && rv !== '0'),
    'every watch names a resourceVersion',
  );
  t.equal(r.lists().length, 1, 'no re-list');
});

t.test('410 Gone leads to a re-list that also catches deletions', async (t) => {
  const cases: [string, (api: KubeApiServer) => void][] = [
    ['ERROR event on the open watch', (api) => api.expireWatches()],
    [
      'HTTP 410 on the next watch request',
      (api) => {
        api.failNext({ verb: 'watch' }, 410);
        api.closeWatches();
      },
    ],
  ];
  for (const [name, expire] of cases) {
    const r = await running(t, { seed: [exposedApi('a', 'one', '/one'), exposedApi('a', 'two', '/two')] });
    await synced(r);
    expire(r.api);
    await r.api.waitFor(() => r.lists().length === 2 && r.api.openWatches() === 1);
    t.pass(`${name}: re-listed`);
    r.api.seed(exposedApi('a', 'three', '/three'));
    await r.api.waitFor(() => r.index.claimant('/three', 'x/y') === 'a/three');
    t.equal(r.index.size(), 3, `${name}: index complete after the re-list`);
  }
});

t.test('an informer error restarts it after a backoff, with a fresh LIST', async (t) => {
  const r = await running(t, { seed: [exposedApi('a', 'one', '/one')] });
  r.api.failNext({ verb: 'list' }, 500);
  r.api.failNext({ verb: 'list' }, 503);
  await synced(r);
  t.equal(r.lists().length, 3, 'two failed LISTs, then one that worked');
  t.match(
    r.states.filter((s) => s.reason).map((s) => s.reason),
    [
      /^watch failed \(HTTP 500 InternalError: .*\); restarting in 10 ms$/,
      /^watch failed \(HTTP 503 ServiceUnavailable: .*\); restarting in 20 ms$/,
    ],
    'backoff doubles',
  );
  t.same(r.watch.state(), { enabled: true, synced: true }, 'reason cleared once synced');
  r.api.failNext({ verb: 'watch' }, 500);
  r.api.closeWatches();
  await r.api.waitFor(() => r.lists().length === 4 && r.api.openWatches() === 1);
  t.ok(r.watch.state().synced, 'stays synced through a restart (the index is kept)');
  r.api.seed(exposedApi('a', 'two', '/two'));
  await r.api.waitFor(() => r.index.claimant('/two', 'x/y') === 'a/two');
});

t.test('the watched version is the group preferred version; v1 when discovery does not name one', async (t) => {
  const preferred = await running(t, { overrides: { 'exposedapis.oda.tmforum.org': { preferredVersion: 'v1beta4' } } });
  await synced(preferred);
  t.same(preferred.lists(), [`/apis/${GROUP}/v1beta4/exposedapis`]);
  const missing = await running(t, { types: [SECRET] });
  await missing.api.waitFor(() => (missing.watch.state().reason ?? '').includes('restarting'));
  t.equal(
    missing.api.requests.find((q) => q.method === 'GET' && q.verb !== 'discovery')?.path,
    `/apis/${GROUP}/v1/exposedapis`,
    'fell back to v1',
  );
  t.match(missing.watch.state().reason, /HTTP 404 NotFound/);
  t.equal(missing.watch.state().synced, false);
});

t.test('stop() ends the watch and any pending restart', async (t) => {
  const r = await running(t, { seed: [exposedApi('a', 'one', '/one')] });
  await synced(r);
  await r.watch.stop();
  await r.api.waitFor(() => r.api.openWatches() === 0);
  const slow = await running(t, {}, { initialMs: 60_000, maxMs: 60_000 });
  slow.api.failNext({ verb: 'list' }, 500);
  await slow.api.waitFor(() => (slow.watch.state().reason ?? '').includes('restarting in 60000 ms'));
  const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
  const before = timers();
  await slow.watch.stop();
  t.equal(timers(), before - 1, 'the restart timer is cleared');
});

t.test('loadKubeConfig: KUBECONFIG, else in-cluster, else none', async (t) => {
  const api = await startKubeApiServer();
  t.teardown(() => api.close());
  const file = join(t.testdir({}), 'config');
  writeFileSync(file, api.kubeconfigYaml());
  const cases: [string, Record<string, string | undefined>, string | undefined][] = [
    ['nothing set', {}, undefined],
    ['KUBECONFIG', { KUBECONFIG: file, KUBERNETES_SERVICE_HOST: '10.0.0.1' }, api.url],
    ['in-cluster', { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, 'https://10.0.0.1:443'],
    [
      'in-cluster, IPv6',
      { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' },
      'https://[fd00::1]:6443',
    ],
  ];
  for (const [name, env, server] of cases) t.equal(loadKubeConfig(env)?.getCurrentCluster()?.server, server, name);
});

t.test('only monitored namespaces claim paths (MONITORED_NAMESPACES)', async (t) => {
  const r = await running(
    t,
    { seed: [exposedApi('components', 'one', '/shop/v1'), exposedApi('elsewhere', 'two', '/shop/v2')] },
    undefined,
    monitoredNamespaces(['components', 'odacompns-*']),
  );
  await synced(r);
  t.equal(r.index.claimant('/shop/v1', 'c/new'), 'components/one');
  t.equal(r.index.claimant('/shop/v2', 'c/new'), undefined, 'another operator serves that namespace');
  await r.custom.createNamespacedCustomObject({
    ...ref('odacompns-7', ''),
    body: exposedApi('odacompns-7', 'three', '/shop/v3'),
  });
  await r.api.waitFor(() => r.index.claimant('/shop/v3', 'x/y') === 'odacompns-7/three');
  t.pass('a glob match is watched too');
});
