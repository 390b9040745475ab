// What a full resync of unchanged ExposedAPIs costs: no Kubernetes request
// (informer caches), and in ARM one paged listing of the APIs and of the
// operator's subscriptions plus one policy read per API, at most 1.05 × N
// requests; drift in an API, its policy or its subscription is still found
// and put back.
import t from 'tap';
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { DefaultAzureCredential } from '@azure/identity';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { subscriptionIdFor } from '../../../reconciler/render/subscription-secret.ts';
import { TEST_SERVICE } from '../../fakes/azure-stand-ins.ts';
import { reconcilerUnderTest } from '../../helpers/reconciler-env.ts';
import { helpers, NS } from '../../helpers/reconciler-process.ts';

/** More than one page of each listing (APIM pages by 100). */
const KEYED = 110;
const UNKEYED = 20;
const N = KEYED + UNKEYED;

t.test(`a resync of ${N} unchanged ExposedAPIs`, async (t) => {
  const { world, reconciler } = await reconcilerUnderTest(t);
  const { kube, azure } = world;
  const names = Array.from({ length: N }, (_, i) => `cost-${String(i).padStart(3, '0')}`);
  const keyed = (name: string) => names.indexOf(name) < KEYED;
  const h = helpers(world);
  for (const name of names) {
    await h.createWith(name, {
      path: `/${name}/v1`,
      specification: { url: `${world.specs.url}/small.json`, version: 'v1' },
      apiKeyVerification: { enabled: keyed(name) },
    });
  }
  await kube.waitFor(() => names.every((n) => kube.get('ingresses', NS, n) !== undefined), 120_000);
  await Promise.all(names.map((n) => world.giveAddress(NS, n)));
  const ready = () => names.every((n) => (kube.get('exposedapis', NS, n) as any)?.status?.implementation?.ready);
  await kube.waitFor(ready, 180_000);
  await world.idle();

  const policyReads = () =>
    azure.arm.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/policies/policy')).length;
  const resync = async () => {
    azure.arm.resetLog();
    kube.clearRequests();
    t.equal(await reconciler.resync(), N);
    await kube.waitFor(() => policyReads() >= N, 120_000);
    await world.idle();
  };

  await t.test('sends no Kubernetes request and at most 1.05 × N to ARM', async (t) => {
    await resync();
    t.same(
      kube.requests.filter((r) => r.verb !== 'watch').map((r) => `${r.verb} ${r.path}`),
      [],
      'every Kubernetes read from the informer caches, no write',
    );
    const byKind: Record<string, number> = {};
    for (const r of azure.arm.requests) {
      const what = `${r.method} ${r.path.replace(/^apis\/[^/?]+/, 'apis/*').replace(/\?.*$/, '')}`;
      byKind[what] = (byKind[what] ?? 0) + 1;
    }
    t.same(
      byKind,
      {
        'GET apis': Math.ceil(N / 100),
        'GET subscriptions': Math.ceil(KEYED / 100),
        'GET apis/*/policies/policy': N,
      },
      'the listings, page by page, and one policy read per API: nothing else',
    );
    t.ok(azure.arm.requests.length <= 1.05 * N, `${azure.arm.requests.length} ARM requests for ${N} APIs`);
  });

  await t.test('still finds drift in the API, its policy and its subscription, and puts it back', async (t) => {
    const sdk = new ApiManagementClient(
      new DefaultAzureCredential({ disableInstanceDiscovery: true }),
      TEST_SERVICE.subscriptionId,
      { endpoint: azure.arm.url },
    );
    const rg = TEST_SERVICE.resourceGroup;
    const svc = TEST_SERVICE.name;
    const [edited, policy, suspended, dropped, removed] = names.map((n) => apiIdFor(NS, n));
    const policyBefore = azure.arm.state().policies[policy!];
    const live = await sdk.api.get(rg, svc, edited!);
    await sdk.api.beginCreateOrUpdateAndWait(
      rg,
      svc,
      edited!,
      { ...live, serviceUrl: 'https://somewhere-else.example', path: live.path ?? '' },
      { ifMatch: '*', updateIntervalInMs: 10 },
    );
    await sdk.apiPolicy.createOrUpdate(rg, svc, policy!, 'policy', {
      format: 'xml',
      value:
        '<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>',
    });
    const sub = await sdk.subscription.get(rg, svc, subscriptionIdFor(suspended!));
    await sdk.subscription.createOrUpdate(rg, svc, subscriptionIdFor(suspended!), {
      scope: sub.scope ?? '',
      displayName: sub.displayName ?? '',
      state: 'suspended',
    });
    await sdk.subscription.delete(rg, svc, subscriptionIdFor(dropped!), '*');
    await sdk.api.beginDeleteAndWait(rg, svc, removed!, '*', { deleteRevisions: true, updateIntervalInMs: 10 });

    await resync();
    const state = azure.arm.state();
    t.match((state.apis[edited!]?.properties as any)?.serviceUrl, /^http:\/\/10\.0\.0\.9\//, 'serviceUrl put back');
    t.equal(state.policies[policy!], policyBefore, 'the policy put back');
    t.equal((await sdk.subscription.get(rg, svc, subscriptionIdFor(suspended!))).state, 'active', 'active again');
    t.equal((await sdk.subscription.get(rg, svc, subscriptionIdFor(dropped!))).state, 'active', 'made again');
    t.ok(state.apis[removed!], 'the removed API made again');
    const writes = azure.arm.requests
      .filter((r) => !['GET', 'HEAD'].includes(r.method))
      .map((r) => `${r.method} ${r.path.replace(/\?.*$/, '')}`);
    for (const expected of [
      `PUT apis/${edited}`,
      `PUT apis/${policy}/policies/policy`,
      `PUT subscriptions/${subscriptionIdFor(suspended!)}`,
      `PUT subscriptions/${subscriptionIdFor(dropped!)}`,
      `PUT apis/${removed}`,
    ])
      t.ok(writes.includes(expected), `wrote ${expected}`);
    t.notOk(
      writes.some(
        (w) => w.startsWith('PUT apis/') && ![edited, policy, removed].some((id) => w.includes(`apis/${id}`)),
      ),
      'no other API written',
    );
  });

  await t.test('a resync after the repair writes nothing', async (t) => {
    await resync();
    t.same(
      azure.arm.requests.filter((r) => !['GET', 'HEAD'].includes(r.method)).map((r) => `${r.method} ${r.path}`),
      [],
    );
  });
});
