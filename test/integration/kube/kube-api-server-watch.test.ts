// The stand-in's watches, faults, TLS and kubeconfig, driven by the real client.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { startKubeApiServer, type KubeApiServer, type KubeObject } from '../../fakes/kube-api-server.ts';

const GROUP = 'oda.tmforum.org';
const PATH = `/apis/${GROUP}/v1/namespaces/ns/exposedapis`;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const exposedApi = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: `${GROUP}/v1`,
  kind: 'ExposedAPI',
  metadata: { name, namespace: 'ns', labels },
  spec: { path: `/${name}` },
});

interface Recorded {
  events: [string, string][];
  /** Set when the client's done callback ran: null for a clean end. */
  ended?: unknown;
  controller: AbortController;
}

/** Opens a watch with client-node's Watch and records "TYPE name" (or the Status reason) per event. */
async function watch(api: KubeApiServer, path: string, query: Record<string, string>): Promise<Recorded> {
  const recorded: Recorded = { events: [], controller: new AbortController() };
  recorded.controller = await new Watch(api.kubeconfig()).watch(
    path,
    query,
    (type, object) =>
      recorded.events.push([
        type,
        type === 'ERROR' ? `${object.code} ${object.reason}` : (object.metadata?.name ?? ''),
      ]),
    (error) => {
      recorded.ended = error ?? null;
    },
  );
  return recorded;
}

async function server(
  t: { teardown(fn: () => unknown): void },
  options: Parameters<typeof startKubeApiServer>[0] = {},
) {
  const api = await startKubeApiServer(options);
  t.teardown(() => api.close());
  return { api, custom: api.kubeconfig().makeApiClient(CustomObjectsApi) };
}

const ref = (name = '') => ({ group: GROUP, version: 'v1', namespace: 'ns', plural: 'exposedapis', name });

t.test('a watch resumes after a resourceVersion; without one it starts with the current state', async (t) => {
  const { api, custom } = await server(t, { seed: [exposedApi('a')] });
  const after = api.resourceVersion();
  api.seed(exposedApi('b'), exposedApi('c'));
  const resumed = await watch(api, PATH, { resourceVersion: after });
  const fresh = await watch(api, PATH, {});
  await custom.patchNamespacedCustomObject({ ...ref('a'), body: { spec: { port: 1 } } }, merge);
  await custom.deleteNamespacedCustomObject(ref('b'));
  const expectedLive: [string, string][] = [
    ['MODIFIED', 'a'],
    ['DELETED', 'b'],
  ];
  await api.waitFor(() => resumed.events.length === 4 && fresh.events.length === 5);
  t.same(resumed.events, [['ADDED', 'b'], ['ADDED', 'c'], ...expectedLive]);
  t.same(fresh.events, [['ADDED', 'a'], ['ADDED', 'b'], ['ADDED', 'c'], ...expectedLive]);
  resumed.controller.abort();
  fresh.controller.abort();
  await api.waitFor(() => api.openWatches() === 0);
});

t.test('a filtered watch sees an object leave and enter its selector', async (t) => {
  const { api, custom } = await server(t, { seed: [exposedApi('a', { team: 'x' })] });
  const recorded = await watch(api, `/apis/${GROUP}/v1/exposedapis`, {
    labelSelector: 'team=x',
    resourceVersion: api.resourceVersion(),
  });
  const label = (team: string) =>
    custom.patchNamespacedCustomObject({ ...ref('a'), body: { metadata: { labels: { team } } } }, merge);
  await label('y');
  await label('x');
  api.seed(exposedApi('other', { team: 'y' }));
  await custom.patchNamespacedCustomObject({ ...ref('a'), body: { spec: { port: 2 } } }, merge);
  await api.waitFor(() => recorded.events.length === 3);
  t.same(recorded.events, [
    ['DELETED', 'a'],
    ['ADDED', 'a'],
    ['MODIFIED', 'a'],
  ]);
  recorded.controller.abort();
});

t.test('how watches end', async (t) => {
  const cases: [string, (api: KubeApiServer) => Promise<Recorded>, [string, string][]][] = [
    [
      'a resourceVersion older than the history: ERROR 410 Expired, then the end',
      async (api) => {
        for (let i = 0; i < 5; i++) api.seed(exposedApi(`o${i}`));
        return watch(api, PATH, { resourceVersion: '1' });
      },
      [['ERROR', '410 Expired']],
    ],
    [
      'the stand-in drops its watches',
      async (api) => {
        const recorded = await watch(api, PATH, { resourceVersion: api.resourceVersion() });
        api.closeWatches();
        return recorded;
      },
      [],
    ],
    [
      'the stand-in expires its watches',
      async (api) => {
        const recorded = await watch(api, PATH, { resourceVersion: api.resourceVersion() });
        api.expireWatches();
        return recorded;
      },
      [['ERROR', '410 Expired']],
    ],
    [
      'timeoutSeconds passes',
      (api) => watch(api, PATH, { resourceVersion: api.resourceVersion(), timeoutSeconds: '1' }),
      [],
    ],
  ];
  for (const [name, run, events] of cases) {
    const { api } = await server(t, { watchHistory: 2 });
    const recorded = await run(api);
    await api.waitFor(() => recorded.ended !== undefined);
    t.same(recorded.events, events, name);
    t.equal(recorded.ended, null, `${name}: the client sees a clean end`);
  }
});

t.test('bookmarks are sent when allowed', async (t) => {
  const { api } = await server(t, { bookmarkIntervalMs: 20 });
  const recorded = await watch(api, PATH, { resourceVersion: api.resourceVersion(), allowWatchBookmarks: 'true' });
  await api.waitFor(() => recorded.events.some(([type]) => type === 'BOOKMARK'));
  recorded.controller.abort();
  t.pass('BOOKMARK received');
});

t.test('failNext injects one fault per call, and the request log names verbs', async (t) => {
  const { api, custom } = await server(t, { seed: [exposedApi('a')] });
  api.failNext({ verb: 'get', resource: 'exposedapis.oda.tmforum.org' }, 503);
  api.failNext({ verb: 'list' }, 'reset');
  const failed = await custom.getNamespacedCustomObject(ref('a')).catch((e: { code: number; body: string }) => e);
  t.match(failed, { code: 503 });
  t.match(JSON.parse((failed as { body: string }).body), { kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
  await t.rejects(custom.listNamespacedCustomObject(ref()), 'reset drops the connection');
  t.equal(
    (await custom.getNamespacedCustomObject(ref('a'))).metadata.name,
    'a',
    'only the next matching request fails',
  );
  t.same(
    api.requests.map((r) => [r.verb, r.namespace, r.name]),
    [
      ['get', 'ns', 'a'],
      ['list', 'ns', undefined],
      ['get', 'ns', 'a'],
    ],
  );
});

/** A CA and serving certificate for 127.0.0.1: certs/generate.sh when there, else openssl directly. */
function makeCerts(dir: string): { ca: Buffer; cert: Buffer; key: Buffer } {
  if (existsSync('certs/generate.sh')) {
    execFileSync('bash', ['certs/generate.sh', '--out', dir, '--service', 'kube-stand-in'], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
  } else {
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    run(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=stand-in-ca',
    );
    run(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'tls.key',
      '-out',
      'tls.csr',
      '-subj',
      '/CN=127.0.0.1',
    );
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    run(
      'x509',
      '-req',
      '-in',
      'tls.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'tls.crt',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    );
  }
  const read = (name: string) => readFileSync(join(dir, name));
  return { ca: read('ca.crt'), cert: read('tls.crt'), key: read('tls.key') };
}

t.test('https with a bearer token, through a kubeconfig file', async (t) => {
  const dir = t.testdir({});
  const { api } = await server(t, { tls: makeCerts(dir), requireToken: true, seed: [exposedApi('a')] });
  t.match(api.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const file = join(dir, 'kubeconfig.yaml');
  writeFileSync(file, api.kubeconfigYaml());
  const fromFile = new KubeConfig();
  fromFile.loadFromFile(file);
  const list = await fromFile
    .makeApiClient(CustomObjectsApi)
    .listClusterCustomObject({ group: GROUP, version: 'v1', plural: 'exposedapis' });
  t.same(
    list.items.map((o: KubeObject) => o.metadata.name),
    ['a'],
  );
  const recorded = await watch(api, PATH, { resourceVersion: api.resourceVersion() });
  api.seed(exposedApi('b'));
  await api.waitFor(() => recorded.events.length === 1);
  recorded.controller.abort();
  const anonymous = await fetch(`${api.url.replace('https', 'http')}/apis`).catch(() => 'refused');
  t.equal(anonymous, 'refused', 'no plain http on the https port');
  const noToken = new KubeConfig();
  noToken.loadFromOptions({
    clusters: fromFile.clusters,
    contexts: fromFile.contexts,
    currentContext: fromFile.currentContext,
    users: [{ name: 'stand-in' }],
  });
  const status = await noToken
    .makeApiClient(CustomObjectsApi)
    .listClusterCustomObject({ group: GROUP, version: 'v1', plural: 'exposedapis' })
    .catch((e: { code: number }) => e.code);
  t.equal(status, 401, 'no bearer token: 401');
});
