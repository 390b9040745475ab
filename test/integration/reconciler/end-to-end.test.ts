import t from 'tap';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startReconciler } from '../../../reconciler/server.ts';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { fixtureObject } from '../../helpers/resources.ts';
import { TEST_SERVICE } from '../../fakes/azure-stand-ins.ts';
import { DefaultAzureCredential } from '@azure/identity';
import { createApimClient } from '../../../reconciler/clients/apim.ts';
import { subscriptionIdFor } from '../../../reconciler/render/subscription-secret.ts';

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

for (const statusSubresource of [false, true]) {
  t.test(`from ExposedAPI to APIM and back (status subresource: ${statusSubresource})`, async (t) => {
    const world = await startReconcilerEnvironment({ statusSubresource });
    const reconciler = await startReconciler(world.env, testLogger());
    t.teardown(async () => {
      await reconciler.close(1000);
      await world.close();
    });
    const { kube, azure } = world;
    const custom = kube.kubeconfig().makeApiClient(CustomObjectsApi);
    const ref = (namespace: string, name: string) => ({
      group: 'oda.tmforum.org',
      version: 'v1',
      namespace,
      plural: 'exposedapis',
      name,
    });
    const status = (namespace: string, name: string): any => (kube.get('exposedapis', namespace, name) as any)?.status;
    const ready = (namespace: string, name: string): any =>
      status(namespace, name)?.conditions?.find((c: any) => c.type === 'Ready');

    const full = fixtureObject('exposedapi-v1-full-example.yaml');
    full.spec.specification.url = `${world.specs.url}/tmf620.json`;
    full.metadata.finalizers = ['oda.tmforum.org/apim-cleanup'];
    await custom.createNamespacedCustomObject({
      group: 'oda.tmforum.org',
      version: 'v1',
      namespace: 'components',
      plural: 'exposedapis',
      body: full,
    });
    const metrics = fixtureObject('exposedapi-from-cluster-2.json');
    for (const key of ['resourceVersion', 'uid', 'creationTimestamp', 'generation']) delete metrics.metadata[key];
    await custom.createNamespacedCustomObject({
      group: 'oda.tmforum.org',
      version: 'v1',
      namespace: 'components',
      plural: 'exposedapis',
      body: metrics,
    });
    const name = full.metadata.name as string;
    const apiId = apiIdFor('components', name);

    await t.test('waits for the Ingress address and says so', async (t) => {
      await kube.waitFor(() => ready('components', name)?.reason === 'WaitingForIngressAddress');
      const ingress: any = kube.get('ingresses', 'components', name);
      t.equal(ingress.spec.ingressClassName, 'istio');
      t.equal(ingress.spec.rules[0].http.paths[0].backend.service.name, 'r1-prodcatapi');
      t.equal(ingress.metadata.ownerReferences[0].name, name, 'owned by the ExposedAPI');
      t.equal(status('components', name).implementation.ready, false);
    });

    await t.test('publishes the API with its policy and writes the ODA status', async (t) => {
      await world.giveAddress('components', name);
      await kube.waitFor(() => status('components', name)?.implementation?.ready === true, 60_000);
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
      t.equal(
        s.apiStatus.url,
        'https://apim-test.azure-api.net/r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4',
      );
      t.equal(s.apiStatus.implementation, 'r1-prodcatapi');
      t.equal(s.conditions.find((c: any) => c.type === 'Ready').status, 'True');
    });

    const sid = subscriptionIdFor(apiId);
    const secretName = `${name}-apim-key`;
    const apimClient = createApimClient(
      {
        subscriptionId: TEST_SERVICE.subscriptionId,
        resourceGroup: TEST_SERVICE.resourceGroup,
        serviceName: TEST_SERVICE.name,
        endpoint: azure.arm.url,
      },
      new DefaultAzureCredential({ disableInstanceDiscovery: true }),
    );

    await t.test(
      'the subscription key is in a Secret beside the ExposedAPI, named in status, and nowhere else',
      async (t) => {
        await kube.waitFor(() => status('components', name)?.apiStatus?.subscriptionKeySecret !== undefined, 60_000);
        t.equal(status('components', name).apiStatus.subscriptionKeySecret, secretName);
        const keys = await apimClient.listSubscriptionKeys(sid);
        t.ok(keys, 'APIM has the subscription');
        const secret: any = kube.get('secrets', 'components', secretName);
        t.ok(secret, 'the Secret exists');
        t.equal(secret.type, 'Opaque');
        t.equal(Buffer.from(secret.data.primaryKey, 'base64').toString('utf8'), keys!.primaryKey);
        t.equal(Buffer.from(secret.data.header, 'base64').toString('utf8'), 'Ocp-Apim-Subscription-Key');
        const exposed: any = kube.get('exposedapis', 'components', name);
        t.match(secret.metadata.ownerReferences, [
          { kind: 'ExposedAPI', name, uid: exposed.metadata.uid, controller: true },
        ]);
        t.equal(secret.metadata.labels['app.kubernetes.io/managed-by'], 'oda-apim-operator');
        t.notOk(JSON.stringify(exposed).includes(keys!.primaryKey), 'the key is nowhere in the ExposedAPI');
        const events = await custom.listNamespacedCustomObject({
          group: 'events.k8s.io',
          version: 'v1',
          namespace: 'components',
          plural: 'events',
        });
        t.ok((events as any).items.length > 0, 'events were recorded');
        t.notOk(JSON.stringify(events).includes(keys!.primaryKey), 'nor in an Event');
        const sub = azure.arm.requests.find((r) => r.method === 'PUT' && r.path === `subscriptions/${sid}`);
        t.ok(sub, 'the subscription was created by the operator');
      },
    );

    await t.test('a metrics API is ready without APIM publication', async (t) => {
      await kube.waitFor(() => status('components', metrics.metadata.name)?.implementation?.ready === true, 60_000);
      t.equal(ready('components', metrics.metadata.name).reason, 'InMeshOnly');
      t.notOk(azure.arm.state().apis[apiIdFor('components', metrics.metadata.name)], 'not in APIM');
      const monitor: any = kube.get('servicemonitors', 'components', metrics.metadata.name);
      t.same(monitor?.spec, {
        selector: { matchLabels: { name: metrics.spec.implementation } },
        endpoints: [{ path: metrics.spec.path, interval: '15s', scheme: 'http', targetPort: metrics.spec.port }],
      });
      t.match(
        status('components', metrics.metadata.name).conditions.find((c: any) => c.type === 'MetricsScrape'),
        {
          status: 'True',
          reason: 'ServiceMonitorReady',
        },
      );
    });

    await t.test('a resync of unchanged resources writes nothing', async (t) => {
      await world.idle();
      azure.arm.resetLog();
      kube.clearRequests();
      t.equal(await reconciler.resync(), 2);
      await kube.waitFor(
        () => azure.arm.requests.some((r) => r.method === 'GET' && r.path.endsWith('/policies/policy')),
        60_000,
      );
      await world.idle();
      t.same(
        kube.requests.filter((r) => r.verb !== 'watch').map((r) => `${r.verb} ${r.path}`),
        [],
        'no Kubernetes request at all: every read from the informer caches, no write (the Secret included)',
      );
      const armWrites = azure.arm.requests
        .filter((r) => !['GET', 'HEAD'].includes(r.method))
        .map((r) => `${r.method} ${r.path}`);
      t.same(armWrites, [], 'no APIM writes (not even listSecrets: the key is taken from the Secret)');
    });

    await t.test('a field changed by hand in APIM is put back, and status says so', async (t) => {
      const { ApiManagementClient } = await import('@azure/arm-apimanagement');
      const { DefaultAzureCredential } = await import('@azure/identity');
      const sdk = new ApiManagementClient(
        new DefaultAzureCredential({ disableInstanceDiscovery: true }),
        TEST_SERVICE.subscriptionId,
        { endpoint: azure.arm.url },
      );
      const live = await sdk.api.get(TEST_SERVICE.resourceGroup, TEST_SERVICE.name, apiId);
      await sdk.api.beginCreateOrUpdateAndWait(
        TEST_SERVICE.resourceGroup,
        TEST_SERVICE.name,
        apiId,
        { ...live, serviceUrl: 'https://somewhere-else.example', path: live.path ?? '' },
        { ifMatch: '*', updateIntervalInMs: 10 },
      );
      await world.idle();
      await reconciler.resync();
      await kube.waitFor(
        () =>
          (azure.arm.state().apis[apiId]?.properties as any)?.serviceUrl ===
          'http://10.0.0.9/r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4',
        60_000,
      );
      await kube.waitFor(() => status('components', name)?.drift?.repaired?.includes('api.serviceUrl'), 60_000);
      t.pass('serviceUrl restored and recorded in status.drift');
    });

    await t.test('a changed rate limit rewrites only the policy', async (t) => {
      await world.idle();
      azure.arm.resetLog();
      await custom.patchNamespacedCustomObject(
        { ...ref('components', name), body: { spec: { rateLimit: { limit: '7' } } } },
        merge,
      );
      await kube.waitFor(() => /calls="7"/.test(azure.arm.state().policies[apiId] ?? ''), 60_000);
      const writes = azure.arm.requests.filter(
        (r) => !['GET', 'HEAD'].includes(r.method) && !r.path.endsWith('/listSecrets'),
      );
      t.same(
        writes.map((r) => `${r.method} ${r.path}`),
        [`PUT apis/${apiId}/policies/policy`],
      );
    });

    await t.test('a lost Secret is rebuilt with the current key on the next resync', async (t) => {
      const { ApiManagementClient } = await import('@azure/arm-apimanagement');
      const sdk = new ApiManagementClient(
        new DefaultAzureCredential({ disableInstanceDiscovery: true }),
        TEST_SERVICE.subscriptionId,
        { endpoint: azure.arm.url },
      );
      await world.idle();
      const secretKey = () =>
        Buffer.from((kube.get('secrets', 'components', secretName) as any)?.data?.primaryKey ?? '', 'base64').toString(
          'utf8',
        );
      const old = secretKey();
      await sdk.subscription.regeneratePrimaryKey(TEST_SERVICE.resourceGroup, TEST_SERVICE.name, sid);
      const fresh = await apimClient.listSubscriptionKeys(sid);
      t.not(fresh!.primaryKey, old, 'APIM has a new key');
      const { CoreV1Api } = await import('@kubernetes/client-node');
      await kube
        .kubeconfig()
        .makeApiClient(CoreV1Api)
        .deleteNamespacedSecret({ namespace: 'components', name: secretName });
      await reconciler.resync();
      await kube.waitFor(() => secretKey() === fresh!.primaryKey, 60_000);
      t.pass('the Secret carries the new key');
    });

    await t.test(
      'switching API key verification off removes the subscription and the Secret from status',
      async (t) => {
        await world.idle();
        await custom.patchNamespacedCustomObject(
          { ...ref('components', name), body: { spec: { apiKeyVerification: { enabled: false } } } },
          merge,
        );
        await kube.waitFor(
          () =>
            status('components', name)?.apiStatus &&
            status('components', name).apiStatus.subscriptionKeySecret === undefined &&
            (azure.arm.state().apis[apiId]?.properties as any)?.subscriptionRequired === false,
          60_000,
        );
        t.equal(await apimClient.listSubscriptionKeys(sid), undefined, 'the subscription is gone');
        t.ok(
          kube.get('secrets', 'components', secretName),
          'the Secret is left (the operator cannot delete Secrets yet); its key no longer works',
        );
        await world.idle();
        azure.arm.resetLog();
        kube.clearRequests();
        await reconciler.resync();
        await kube.waitFor(
          () => azure.arm.requests.some((r) => r.method === 'GET' && r.path.endsWith('/policies/policy')),
          60_000,
        );
        await world.idle();
        t.equal(azure.arm.calls().writes, 0, 'and a resync then writes nothing to APIM');
        t.same(
          kube.requests
            .filter((r) => ['create', 'update', 'patch', 'delete'].includes(r.verb))
            .map((r) => `${r.verb} ${r.path}`),
          [],
          'nor to Kubernetes',
        );
        await custom.patchNamespacedCustomObject(
          { ...ref('components', name), body: { spec: { apiKeyVerification: { enabled: true } } } },
          merge,
        );
        await kube.waitFor(() => status('components', name)?.apiStatus?.subscriptionKeySecret === secretName, 60_000);
        const keys = await apimClient.listSubscriptionKeys(sid);
        t.equal(
          Buffer.from((kube.get('secrets', 'components', secretName) as any).data.primaryKey, 'base64').toString(
            'utf8',
          ),
          keys!.primaryKey,
          'on again: a new subscription, its key in the Secret',
        );
      },
    );

    await t.test('deleting the ExposedAPI removes the API and the Ingress, then the finalizer', async (t) => {
      await custom.deleteNamespacedCustomObject(ref('components', name));
      await kube.waitFor(() => kube.get('exposedapis', 'components', name) === undefined, 60_000);
      t.notOk(azure.arm.state().apis[apiId], 'API gone');
      t.equal(await apimClient.listSubscriptionKeys(sid), undefined, 'subscription gone');
      t.ok(
        azure.arm.requests.some((r) => r.method === 'DELETE' && r.path === `subscriptions/${sid}`),
        'deleted by the operator, not only with the API',
      );
      await kube.waitFor(() => kube.get('secrets', 'components', secretName) === undefined, 60_000);
      t.pass('the Secret went with its owner');
      t.notOk(kube.get('ingresses', 'components', name), 'Ingress gone');
    });
  });
}
