import t from 'tap';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { startReconciler } from '../../../reconciler/server.ts';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { silentLogger } from '../../../shared/log.ts';
import { startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { exposedApi, fixtureText, seedExposedApi } from '../../helpers/resources.ts';

t.test('every ODA form and the seed form end up published', async (t) => {
  const world = await startReconcilerEnvironment();
  const reconciler = await startReconciler(world.env, silentLogger());
  t.teardown(async () => {
    await reconciler.close(1000);
    await world.close();
  });
  const custom = world.kube.kubeconfig().makeApiClient(CustomObjectsApi);
  const forms: [string, Record<string, any>][] = [
    ['v1beta3 seed form, inline OpenAPI 3 YAML', { ...seedExposedApi({ path: '/seed/inventory', specification: fixtureText('TMF639-Resource_Inventory_Management-v5.0.0.oas.yaml') }), metadata: { name: 'seed', namespace: 'components' } }],
    ['v1beta3 list of URLs', exposedApi({ path: '/b3/catalog', specification: [`${world.specs.url}/tmf620.json`] }, { version: 'v1beta3', name: 'beta3' })],
    ['v1beta4 list of {url, version}', exposedApi({ path: '/b4/inventory', specification: [{ url: `${world.specs.url}/tmf639.yaml`, version: 'v5' }] }, { version: 'v1beta4', name: 'beta4' })],
  ];
  for (const [, object] of forms) {
    const [, version] = String(object.apiVersion).split('/');
    await custom.createNamespacedCustomObject({ group: 'oda.tmforum.org', version: version ?? 'v1', namespace: 'components', plural: 'exposedapis', body: object });
  }
  for (const [name, object] of forms) {
    await world.giveAddress('components', object.metadata.name);
    await world.kube.waitFor(() => (world.kube.get('exposedapis', 'components', object.metadata.name) as any)?.status?.implementation?.ready === true, 30_000);
    const api = world.azure.arm.state().apis[apiIdFor('components', object.metadata.name)];
    t.ok(api, `${name}: published`);
    t.ok((api?.operations.length ?? 0) > 0, `${name}: the document's operations were imported (${api?.operations.length})`);
    t.equal((api?.properties as any)?.path, object.spec.path.slice(1), `${name}: path`);
  }
  const seedPolicy = world.azure.arm.state().policies[apiIdFor('components', 'seed')] ?? '';
  t.match(seedPolicy, /<rate-limit-by-key calls="100" renewal-period="60"/, 'the seed form\'s {limit, period}');
  t.match(seedPolicy, /<origin>https:\/\/app\.example\.com<\/origin>/, 'the seed form\'s CORS lists');
});
