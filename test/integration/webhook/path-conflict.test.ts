import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeApiServer } from '../../fakes/kube-api-server.ts';
import { admissionReview, get, post } from '../../helpers/admission.ts';
import { exposedApi } from '../../helpers/resources.ts';
import { startTestWebhook } from '../../helpers/webhook.ts';

const kube = await startKubeApiServer({
  seed: [exposedApi({ path: '/shop/v1' }, { namespace: 'team-a', name: 'shop' })],
});
const kubeconfig = join(mkdtempSync(join(tmpdir(), 'apim-kube-')), 'config');
writeFileSync(kubeconfig, kube.kubeconfigYaml());
const webhook = await startTestWebhook({ KUBECONFIG: kubeconfig });
t.teardown(async () => {
  await webhook.close();
  await kube.close();
});

const validate = async (review: object) => (await post(webhook.agent, `${webhook.url}/validate`, review)).json.response;
const readiness = async () => JSON.parse((await get(webhook.agent, `${webhook.url}/readyz`)).text);

t.test('the path check turns on once the watch has listed the cluster', async (t) => {
  await kube.waitFor(() => kube.openWatches() > 0);
  for (let i = 0; i < 100 && (await readiness()).pathConflictCheck !== 'on'; i++)
    await new Promise((r) => setTimeout(r, 20));
  t.equal((await readiness()).pathConflictCheck, 'on');
});

t.test('a second ExposedAPI on a claimed path is denied, from the cache', async (t) => {
  kube.clearRequests();
  const rival = await validate(
    admissionReview(exposedApi({ path: '/Shop/v1/' }, { namespace: 'team-b', name: 'copycat' })),
  );
  t.equal(rival.allowed, false);
  t.match(rival.status.message, /spec\.path: "\/Shop\/v1\/" is already claimed by ExposedAPI team-a\/shop/);
  const owner = await validate(
    admissionReview(exposedApi({ path: '/shop/v1', port: 9090 }, { namespace: 'team-a', name: 'shop' }), {
      operation: 'UPDATE',
      oldObject: exposedApi({ path: '/shop/v1' }, { namespace: 'team-a', name: 'shop' }),
    }),
  );
  t.equal(owner.allowed, true, 'the holder itself may update');
  const other = await validate(
    admissionReview(exposedApi({ path: '/shop/v2' }, { namespace: 'team-b', name: 'other' })),
  );
  t.equal(other.allowed, true);
  t.same(
    kube.requests.filter((r) => r.verb !== 'watch'),
    [],
    'admission made no request to the API server',
  );
});

t.test('a path freed by a delete can be taken', async (t) => {
  const { CustomObjectsApi } = await import('@kubernetes/client-node');
  const custom = kube.kubeconfig().makeApiClient(CustomObjectsApi);
  await custom.deleteNamespacedCustomObject({
    group: 'oda.tmforum.org',
    version: 'v1',
    namespace: 'team-a',
    plural: 'exposedapis',
    name: 'shop',
  });
  let allowed = false;
  for (let i = 0; i < 100 && !allowed; i++) {
    allowed = (
      await validate(admissionReview(exposedApi({ path: '/shop/v1' }, { namespace: 'team-b', name: 'copycat' })))
    ).allowed;
    if (!allowed) await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(allowed, 'admitted once the watch saw the delete');
});
