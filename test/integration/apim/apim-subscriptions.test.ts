import t from 'tap';
import { SUBSCRIPTION_KEY_FORM } from '../../helpers/test-secrets.ts';
import { DefaultAzureCredential } from '@azure/identity';
import { createApimClient, sameScope, type ApimClient } from '../../../reconciler/clients/apim.ts';
import { PermanentError } from '../../../shared/errors.ts';
import { startAzureStandIns, TEST_SERVICE } from '../../fakes/azure-stand-ins.ts';

const azure = await startAzureStandIns();
t.teardown(azure.close);
const { arm } = azure;
const writes: string[] = [];
const client: ApimClient = createApimClient(
  {
    subscriptionId: TEST_SERVICE.subscriptionId,
    resourceGroup: TEST_SERVICE.resourceGroup,
    serviceName: TEST_SERVICE.name,
    endpoint: arm.url,
  },
  new DefaultAzureCredential({ disableInstanceDiscovery: true }),
  {
    pollIntervalMs: 5,
    takeBudget: async (kind, op) => {
      if (kind === 'writes') writes.push(op);
    },
  },
);
const svcId = `/subscriptions/${TEST_SERVICE.subscriptionId}/resourceGroups/${TEST_SERVICE.resourceGroup}/providers/Microsoft.ApiManagement/service/${TEST_SERVICE.name}`;

await client.putApi('ns1-orders', {
  displayName: 'ns1 orders',
  path: 'ns1/orders',
  serviceUrl: 'https://backend.example/orders',
  protocols: ['https'],
  subscriptionRequired: true,
  description: 'x',
});

t.test("sameScope: the short form and APIM's full ARM id are the same scope", async (t) => {
  t.ok(sameScope(`${svcId}/apis/ns1-orders`, '/apis/ns1-orders'));
  t.ok(sameScope('/APIS/ns1-orders', '/apis/ns1-orders'));
  t.notOk(sameScope(`${svcId}/apis`, '/apis/ns1-orders'));
  t.notOk(sameScope(`${svcId}/apis/ns1-orders-2`, '/apis/ns1-orders'));
  t.notOk(sameScope(undefined, '/apis/ns1-orders'));
});

t.test('ensureSubscription creates an active subscription scoped to the API, then writes nothing', async (t) => {
  writes.length = 0;
  t.equal(
    await client.ensureSubscription('oda-apim-ns1-orders', {
      displayName: 'ExposedAPI ns1/orders',
      scope: '/apis/ns1-orders',
    }),
    true,
  );
  t.same(writes, ['putSubscription']);
  const keys = await client.listSubscriptionKeys('oda-apim-ns1-orders');
  t.match(keys, { primaryKey: SUBSCRIPTION_KEY_FORM });
  writes.length = 0;
  arm.resetLog();
  t.equal(
    await client.ensureSubscription('oda-apim-ns1-orders', {
      displayName: 'ExposedAPI ns1/orders',
      scope: '/apis/ns1-orders',
    }),
    false,
  );
  t.same(writes, [], 'no write when it is right (APIM answers the scope as a full ARM id)');
  t.same(
    arm.requests.map((r) => `${r.method} ${r.path}`),
    ['GET subscriptions/oda-apim-ns1-orders'],
  );
  t.same(await client.listSubscriptionKeys('oda-apim-ns1-orders'), keys, 'the key is unchanged');
});

t.test('ensureSubscription puts back a changed display name, scope or state, keeping the key', async (t) => {
  const before = await client.listSubscriptionKeys('oda-apim-ns1-orders');
  // Someone suspends it and widens its scope by hand.
  const { ApiManagementClient } = await import('@azure/arm-apimanagement');
  const sdk = new ApiManagementClient(
    new DefaultAzureCredential({ disableInstanceDiscovery: true }),
    TEST_SERVICE.subscriptionId,
    { endpoint: arm.url },
  );
  await sdk.subscription.createOrUpdate(TEST_SERVICE.resourceGroup, TEST_SERVICE.name, 'oda-apim-ns1-orders', {
    displayName: 'renamed',
    scope: '/apis',
    state: 'suspended',
  });
  writes.length = 0;
  t.equal(
    await client.ensureSubscription('oda-apim-ns1-orders', {
      displayName: 'ExposedAPI ns1/orders',
      scope: '/apis/ns1-orders',
    }),
    true,
  );
  t.same(writes, ['putSubscription']);
  const live = await sdk.subscription.get(TEST_SERVICE.resourceGroup, TEST_SERVICE.name, 'oda-apim-ns1-orders');
  t.match(live, { displayName: 'ExposedAPI ns1/orders', state: 'active', scope: `${svcId}/apis/ns1-orders` });
  t.same(await client.listSubscriptionKeys('oda-apim-ns1-orders'), before);
  t.equal((live as { primaryKey?: string }).primaryKey, undefined, 'a GET does not carry the keys');
});

t.test('a scope naming a missing API is a PermanentError', async (t) => {
  const error = await client.ensureSubscription('oda-apim-nope', { displayName: 'nope', scope: '/apis/nope' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, PermanentError);
  t.match((error as Error).message, /scope/);
});

t.test('deleteSubscription deletes once; an absent one is no write', async (t) => {
  writes.length = 0;
  t.equal(await client.deleteSubscription('oda-apim-ns1-orders'), true);
  t.same(writes, ['deleteSubscription']);
  t.equal(await client.listSubscriptionKeys('oda-apim-ns1-orders'), undefined);
  writes.length = 0;
  t.equal(await client.deleteSubscription('oda-apim-ns1-orders'), false);
  t.same(writes, []);
});

t.test("the stand-in drops an API's subscriptions with the API", async (t) => {
  await client.ensureSubscription('oda-apim-ns1-orders', {
    displayName: 'ExposedAPI ns1/orders',
    scope: '/apis/ns1-orders',
  });
  const other = arm.addSubscription('all-apis');
  const api = await client.getApi('ns1-orders');
  await client.deleteApi('ns1-orders', api!.etag);
  t.equal(await client.listSubscriptionKeys('oda-apim-ns1-orders'), undefined);
  t.same(
    await client.listSubscriptionKeys('all-apis'),
    { primaryKey: other.primaryKey },
    'an all-APIs subscription stays',
  );
});
