import t from 'tap';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startReconciler } from '../../../reconciler/server.ts';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { silentLogger } from '../../../shared/log.ts';
import { startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { fixtureObject } from '../../helpers/resources.ts';
import { TEST_SERVICE } from '../../fakes/azure-stand-ins.ts';

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

for (const statusSubresource of [false, true]) {
  t.test(`from ExposedAPI to APIM and back (status subresource: ${statusSubresource})`, async (t) => {
    const world = await startReconcilerEnvironment({ statusSubresource });
    const reconciler = await startReconciler(world.env, silentLogger());
    t.teardown(async () => {
      await reconciler.close(1000);
      await world.close();
    });
    const { kube, azure } = world;
    const custom = kube.kubeconfig().makeApiClient(CustomObjectsApi);
    const ref = (namespace: string, name: string) => ({ group: 'oda.tmforum.org', version: 'v1', namespace, plural: 'exposedapis', name });
    const status = (namespace: string, name: string): any => (kube.get('exposedapis', namespace, name) as any)?.status;

    const full = fixtureObject('exposedapi-v1-full-example.yaml');
    full.spec.specification.url = `${world.specs.url}/tmf620.json`;
    full.metadata.finalizers = ['oda.tmforum.org/apim-cleanup'];
    await custom.createNamespacedCustomObject({ group: 'oda.tmforum.org', version: 'v1', namespace: 'components', plural: 'exposedapis', body: full });
    const metrics = fixtureObject('exposedapi-from-cluster-2.json');
    for (const key of ['resourceVersion', 'uid', 'creationTimestamp', 'generation']) delete metrics.metadata[key];
    await custom.createNamespacedCustomObject({ group: 'oda.tmforum.org', version: 'v1', namespace: 'components', plural: 'exposedapis', body: metrics });
    const name = full.metadata.name as string;
    const apiId = apiIdFor('components', name);

    await t.test('waits for the Ingress address and says so', async (t) => {
      await kube.waitFor(() => status('components', name)?.conditions?.[0]?.reason === 'WaitingForIngressAddress');
      const ingress: any = kube.get('ingresses', 'components', name);
      t.equal(ingress.spec.ingressClassName, 'istio');
      t.equal(ingress.spec.rules[0].http.paths[0].backend.service.name, 'r1-prodcatapi');
      t.equal(ingress.metadata.ownerReferences[0].name, name, 'owned by the ExposedAPI');
      t.equal(status('components', name).implementation.ready, false);
    });

    await t.test('publishes the API with its policy and writes the ODA status', async (t) => {
      await world.giveAddress('components', name);
      await kube.waitFor(() => status('components', name)?.implementation?.ready === true, 20_000);
      const api = azure.arm.state().apis[apiId]?.properties as any;
      t.ok(api, 'the API exists in APIM');
      t.equal(api.serviceUrl, 'http://10.0.0.9/r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4');
      t.equal(api.path, 'r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4');
      t.equal(api.subscriptionRequired, true);
      const policy = azure.arm.state().policies[apiId] ?? '';
      t.match(policy, /rate-limit-by-key[^>]*calls="100"/);
      t.match(policy, /quota-by-key/);
      t.match(policy, /validate-jwt/);
      t.match(policy, /https:\/\/allowed-origin\.com/);
      const s = status('components', name);
      t.equal(s.apiStatus.url, 'https://apim-test.azure-api.net/r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4');
      t.equal(s.apiStatus.implementation, 'r1-prodcatapi');
      t.equal(s.conditions.find((c: any) => c.type === 'Ready').status, 'True');
    });

    await t.test('a metrics API is ready without APIM publication', async (t) => {
      await kube.waitFor(() => status('components', metrics.metadata.name)?.implementation?.ready === true, 20_000);
      t.equal(status('components', metrics.metadata.name).conditions[0].reason, 'InMeshOnly');
      t.notOk(azure.arm.state().apis[apiIdFor('components', metrics.metadata.name)], 'not in APIM');
    });

    await t.test('a resync of unchanged resources writes nothing', async (t) => {
      await world.idle();
      azure.arm.resetLog();
      kube.clearRequests();
      t.equal(await reconciler.resync(), 2);
      await kube.waitFor(() => azure.arm.requests.some((r) => r.method === 'GET' && r.path.endsWith('/policies/policy')), 20_000);
      await world.idle();
      t.ok(kube.requests.filter((r) => r.verb === 'get').length >= 2, 'both resources were read again', { requests: kube.requests.map((r) => `${r.verb} ${r.path}`) });
      const writes = kube.requests.filter((r) => ['create', 'update', 'patch', 'delete'].includes(r.verb));
      t.same(writes.map((r) => `${r.verb} ${r.path}`), [], 'no Kubernetes writes');
      t.equal(azure.arm.calls().writes, 0, 'no APIM writes');
    });

    await t.test('a field changed by hand in APIM is put back, and status says so', async (t) => {
      const { ApiManagementClient } = await import('@azure/arm-apimanagement');
      const { DefaultAzureCredential } = await import('@azure/identity');
      const sdk = new ApiManagementClient(new DefaultAzureCredential({ disableInstanceDiscovery: true }), TEST_SERVICE.subscriptionId, { endpoint: azure.arm.url });
      const live = await sdk.api.get(TEST_SERVICE.resourceGroup, TEST_SERVICE.name, apiId);
      await sdk.api.beginCreateOrUpdateAndWait(TEST_SERVICE.resourceGroup, TEST_SERVICE.name, apiId, { ...live, serviceUrl: 'https://somewhere-else.example', path: live.path ?? '' }, { ifMatch: '*', updateIntervalInMs: 10 });
      await world.idle();
      await reconciler.resync();
      await kube.waitFor(() => (azure.arm.state().apis[apiId]?.properties as any)?.serviceUrl === 'http://10.0.0.9/r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4', 20_000);
      await kube.waitFor(() => status('components', name)?.drift?.repaired?.includes('api.serviceUrl'), 20_000);
      t.pass('serviceUrl restored and recorded in status.drift');
    });

    await t.test('a changed rate limit rewrites only the policy', async (t) => {
      await world.idle();
      azure.arm.resetLog();
      await custom.patchNamespacedCustomObject({ ...ref('components', name), body: { spec: { rateLimit: { limit: '7' } } } }, merge);
      await kube.waitFor(() => /calls="7"/.test(azure.arm.state().policies[apiId] ?? ''), 20_000);
      const writes = azure.arm.requests.filter((r) => !['GET', 'HEAD'].includes(r.method));
      t.same(writes.map((r) => `${r.method} ${r.path}`), [`PUT apis/${apiId}/policies/policy`]);
    });

    await t.test('deleting the ExposedAPI removes the API and the Ingress, then the finalizer', async (t) => {
      await custom.deleteNamespacedCustomObject(ref('components', name));
      await kube.waitFor(() => kube.get('exposedapis', 'components', name) === undefined, 20_000);
      t.notOk(azure.arm.state().apis[apiId], 'API gone');
      t.notOk(kube.get('ingresses', 'components', name), 'Ingress gone');
    });
  });
}
