// The operator's Kubernetes calls share their connections to the API server:
// client-node 2.x alone opens a new one (a TCP and TLS handshake) for every
// call and every watch. Counted on the stand-in's TLS handshakes, through the
// kubeconfig the product loads (shared/kube/config.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { CoreV1Api, type KubeConfig, Watch } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../../shared/kube/config.ts';
import { reuseConnections } from '../../../shared/kube/pooled-connections.ts';
import { makeCerts } from '../../helpers/certs.ts';
import { startKubeApiServer } from '../../fakes/kube-api-server.ts';

const certs = makeCerts('kube-stand-in');
const api = await startKubeApiServer({
  tls: { cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile), ca: certs.ca },
  requireToken: 'operator-token',
});
t.teardown(() => api.close());

/** A kubeconfig file that names the CA by path, as an in-cluster service account's does. */
function kubeconfigFile(caFile: string): string {
  const file = join(certs.dir, `kubeconfig-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'stand-in', cluster: { server: api.url, 'certificate-authority': caFile } }],
      users: [{ name: 'operator', user: { token: 'operator-token' } }],
      contexts: [{ name: 'stand-in', context: { cluster: 'stand-in', user: 'operator', namespace: 'default' } }],
      'current-context': 'stand-in',
    }),
  );
  return file;
}

async function handshakesDuring(run: () => Promise<unknown>): Promise<number> {
  const before = api.connectionsAccepted();
  await run();
  return api.connectionsAccepted() - before;
}

const list = (core: CoreV1Api) => core.listNamespacedSecret({ namespace: 'default' });
const inSequence = (core: CoreV1Api, n: number) => async () => {
  for (let i = 0; i < n; i++) await list(core);
};
const atOnce = (core: CoreV1Api, n: number) => () => Promise.all(Array.from({ length: n }, () => list(core)));
/**
 * undici may open a second connection for a call that follows the first one's
 * answer at once, before that connection is free again; from then on they are
 * reused. So "reused" here means: a few first calls make at most 2, and every
 * later one none.
 */
const WARM_UP = 5;

t.test('calls in sequence and at once reuse their connections', async (t) => {
  const core = loadKubeConfig({ KUBECONFIG: kubeconfigFile(certs.caFile) })!.makeApiClient(CoreV1Api);
  const first = await handshakesDuring(inSequence(core, WARM_UP));
  t.ok(first >= 1 && first <= 2, `the first ${WARM_UP} calls: ${first} handshakes`);
  t.equal(await handshakesDuring(inSequence(core, 50)), 0, '50 more calls, one after another: no handshake');
  const parallel = await handshakesDuring(atOnce(core, 20));
  t.ok(parallel <= 20, `20 calls at once: ${parallel} new handshakes, at most one each`);
  t.equal(await handshakesDuring(atOnce(core, 20)), 0, 'the next 20 at once reuse those connections');
});

t.test('a watch and calls beside it: the calls still reuse their connections', async (t) => {
  const kubeConfig = loadKubeConfig({ KUBECONFIG: kubeconfigFile(certs.caFile) })!;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const watching = await new Watch(kubeConfig).watch(
    '/api/v1/namespaces/default/secrets',
    {},
    () => undefined,
    () => undefined,
  );
  t.teardown(() => watching.abort());
  await api.waitFor(() => api.openWatches() === 1);
  await inSequence(core, WARM_UP)();
  t.equal(
    await handshakesDuring(inSequence(core, 20)),
    0,
    '20 calls while the watch holds its connection: no handshake',
  );
});

t.test('a CA file that changes gets a new connection, and the calls go on', async (t) => {
  const caFile = join(certs.dir, 'rotating-ca.crt');
  writeFileSync(caFile, certs.ca);
  const core = loadKubeConfig({ KUBECONFIG: kubeconfigFile(caFile) })!.makeApiClient(CoreV1Api);
  await inSequence(core, WARM_UP)();
  t.equal(await handshakesDuring(inSequence(core, 5)), 0, 'before: connections reused');
  // The same CA written again (as a projected volume's rotation rewrites the file): other bytes, other TLS settings.
  writeFileSync(caFile, `${certs.ca.toString()}\n`);
  const after = await handshakesDuring(inSequence(core, WARM_UP));
  t.ok(after >= 1 && after <= 2, `after: ${after} new handshakes`);
  t.equal(await handshakesDuring(inSequence(core, 5)), 0, 'and those connections are reused');
});

t.test('a client-node without the method it replaces is refused at start-up, with what to do', async (t) => {
  t.throws(() => reuseConnections(Object.create(null) as KubeConfig), {
    message: /no longer has KubeConfig\.createDispatcher: update shared\/kube\/pooled-connections\.ts/,
  });
});
