import t from 'tap';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { reconcilerUnderTest } from '../../helpers/reconciler-env.ts';
import { exposedApi, fixtureText, seedExposedApi } from '../../helpers/resources.ts';
import { canvasExposedApis, everyCanvasFormComponent, implementationsOf } from '../../helpers/canvas-component.ts';

t.test('every ODA form and the seed form end up published', async (t) => {
  const { world, custom } = await reconcilerUnderTest(t);
  const forms: [string, Record<string, any>][] = [
    [
      'v1beta3 seed form, inline OpenAPI 3 YAML',
      {
        ...seedExposedApi({
          path: '/seed/inventory',
          specification: fixtureText('TMF639-Resource_Inventory_Management-v5.0.0.oas.yaml'),
        }),
        metadata: { name: 'seed', namespace: 'components' },
      },
    ],
    [
      'v1beta3 list of URLs',
      exposedApi(
        { path: '/b3/catalog', specification: [`${world.specs.url}/tmf620.json`] },
        { version: 'v1beta3', name: 'beta3' },
      ),
    ],
    [
      'v1beta4 list of {url, version}',
      exposedApi(
        { path: '/b4/inventory', specification: [{ url: `${world.specs.url}/tmf639.yaml`, version: 'v5' }] },
        { version: 'v1beta4', name: 'beta4' },
      ),
    ],
  ];
  for (const [, object] of forms) {
    const [, version] = String(object.apiVersion).split('/');
    await custom.createNamespacedCustomObject({
      group: 'oda.tmforum.org',
      version: version ?? 'v1',
      namespace: 'components',
      plural: 'exposedapis',
      body: object,
    });
  }
  for (const [name, object] of forms) {
    await world.giveAddress('components', object.metadata.name);
    await world.kube.waitFor(
      () =>
        (world.kube.get('exposedapis', 'components', object.metadata.name) as any)?.status?.implementation?.ready ===
        true,
      60_000,
    );
    const api = world.azure.arm.state().apis[apiIdFor('components', object.metadata.name)];
    t.ok(api, `${name}: published`);
    t.ok(
      (api?.operations.length ?? 0) > 0,
      `${name}: the document's operations were imported (${api?.operations.length})`,
    );
    t.equal((api?.properties as any)?.path, object.spec.path.slice(1), `${name}: path`);
  }
  const seedPolicy = world.azure.arm.state().policies[apiIdFor('components', 'seed')] ?? '';
  t.match(seedPolicy, /<rate-limit-by-key calls="100" renewal-period="60"/, "the seed form's {limit, period}");
  t.match(seedPolicy, /<origin>https:\/\/app\.example\.com<\/origin>/, "the seed form's CORS lists");
});

t.test('every ExposedAPI the Canvas component operator makes, blanks and all, reaches Ready', async (t) => {
  const { world, custom } = await reconcilerUnderTest(t, { requireReadyEndpoints: true });
  const [component] = world.kube.seed(everyCanvasFormComponent({ specs: world.specs.url }));
  for (const service of implementationsOf(component as never)) world.implementation('components', service);
  const children = canvasExposedApis(component as never);
  for (const { object } of children) {
    await custom.createNamespacedCustomObject({
      group: 'oda.tmforum.org',
      version: 'v1',
      namespace: 'components',
      plural: 'exposedapis',
      body: object,
    });
  }
  for (const { object } of children) {
    const name = object.metadata.name;
    if (object.spec.apiType === 'openapi' && object.spec.segment === 'coreFunction')
      await world.giveAddress('components', name);
    await world.kube.waitFor(
      () => (world.kube.get('exposedapis', 'components', name) as any)?.status?.implementation?.ready === true,
      60_000,
    );
    const status = (world.kube.get('exposedapis', 'components', name) as any).status;
    t.equal(status.apiStatus.name, name, `${name}: ready, apiStatus.name is the resource name`);
    const api = world.azure.arm.state().apis[apiIdFor('components', name)];
    // Only core OpenAPI APIs go to APIM; metrics and the management and security segments stay in the mesh.
    if (object.spec.apiType !== 'openapi' || object.spec.segment !== 'coreFunction') {
      t.notOk(api, `${name}: in the mesh only`);
      t.equal(status.conditions.find((c: any) => c.type === 'InMeshOnly')?.status, 'True');
      continue;
    }
    const policy = world.azure.arm.state().policies[apiIdFor('components', name)] ?? '';
    t.notMatch(policy, /<quota|<include-fragment/, `${name}: the blank quota and template make no policy`);
    const hasDocument = object.spec.specification.some((s: any) => s.url);
    t.equal((api?.operations.length ?? 0) > 0, hasDocument, `${name}: operations imported only from a document`);
  }
});

t.test('a new document reaches a live API through a revision made current only once complete', async (t) => {
  const { world, custom } = await reconcilerUnderTest(t);
  const object = exposedApi(
    { path: '/rev/catalog', specification: { url: `${world.specs.url}/tmf620.json` } },
    { name: 'revised' },
  );
  await custom.createNamespacedCustomObject({
    group: 'oda.tmforum.org',
    version: 'v1',
    namespace: 'components',
    plural: 'exposedapis',
    body: object,
  });
  await world.giveAddress('components', 'revised');
  const apiId = apiIdFor('components', 'revised');
  await world.kube.waitFor(
    () => (world.kube.get('exposedapis', 'components', 'revised') as any)?.status?.implementation?.ready === true,
    60_000,
  );
  const before = world.azure.arm.state().apis[apiId];
  t.equal(before?.current, '1');
  world.azure.arm.resetLog();
  const { PatchStrategy, setHeaderOptions } = await import('@kubernetes/client-node');
  await custom.patchNamespacedCustomObject(
    {
      group: 'oda.tmforum.org',
      version: 'v1',
      namespace: 'components',
      plural: 'exposedapis',
      name: 'revised',
      body: { spec: { specification: { url: `${world.specs.url}/tmf639.yaml` } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await world.kube.waitFor(() => world.azure.arm.state().apis[apiId]?.current === '2', 60_000);
  await world.idle();
  const after = world.azure.arm.state().apis[apiId];
  t.not(after?.operations.length, before?.operations.length, "the new document's operations are live");
  t.same(after?.revisions, ['2'], 'the old revision is removed once the new one is current');
  t.equal((after?.properties as any)?.serviceUrl, 'http://10.0.0.9/rev/catalog', 'serviceUrl kept through the import');
  t.match(world.azure.arm.state().policies[apiId], /validate-jwt/, 'the new revision carries the policy');
  const writes = world.azure.arm.requests
    .filter((r) => !['GET', 'HEAD'].includes(r.method))
    .map((r) => `${r.method} ${r.path}`);
  const order = [
    'PUT apis/' + apiId + ';rev=2',
    'PUT apis/' + apiId + ';rev=2/policies/policy',
    'PUT apis/' + apiId + '/releases/rev-2',
  ].map((w) => writes.indexOf(w));
  t.ok(
    order.every((i) => i >= 0) && order[0]! < order[1]! && order[1]! < order[2]!,
    'import, then policy, then release',
    { writes },
  );
});

t.test('a permanent failure says why, and a resync does not try the same spec again', async (t) => {
  const { world, reconciler, custom } = await reconcilerUnderTest(t);
  const broken = {
    ...seedExposedApi({ path: '/broken', specification: 'this: is not\nan: OpenAPI document\n' }),
    metadata: { name: 'broken', namespace: 'components' },
  };
  await custom.createNamespacedCustomObject({
    group: 'oda.tmforum.org',
    version: 'v1beta3',
    namespace: 'components',
    plural: 'exposedapis',
    body: broken,
  });
  await world.giveAddress('components', 'broken');
  const ready = () =>
    (world.kube.get('exposedapis', 'components', 'broken') as any)?.status?.conditions?.find(
      (c: any) => c.type === 'Ready',
    );
  await world.kube.waitFor(() => ready()?.reason === 'InvalidOpenApiDocument', 60_000);
  t.equal(ready().status, 'False');
  t.match(ready().message, /spec\.specification \(inline document\): .*not an OpenAPI document/);
  t.equal(
    (world.kube.get('exposedapis', 'components', 'broken') as any).status.retry,
    undefined,
    'no retry state: it waits for a change',
  );
  await world.idle();
  world.azure.arm.resetLog();
  world.kube.clearRequests();
  t.equal(await reconciler.resync(), 1);
  await world.idle();
  t.same(
    world.azure.arm.requests.map((r) => `${r.method} ${r.path.replace(/\?.*$/, '')}`),
    ['GET apis', 'GET subscriptions'],
    "no APIM call for a spec that failed for good: only the resync's own listings of APIM",
  );
  t.same(
    world.kube.requests.filter((r) => r.verb !== 'watch').map((r) => `${r.verb} ${r.path}`),
    [],
    'no Kubernetes request: read from the cache, nothing written',
  );

  const { PatchStrategy, setHeaderOptions } = await import('@kubernetes/client-node');
  await custom.patchNamespacedCustomObject(
    {
      group: 'oda.tmforum.org',
      version: 'v1beta3',
      namespace: 'components',
      plural: 'exposedapis',
      name: 'broken',
      body: { spec: { specification: fixtureText('TMF639-Resource_Inventory_Management-v5.0.0.oas.yaml') } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await world.kube.waitFor(() => ready()?.status === 'True', 60_000);
  t.pass('a fixed spec is published');
});
