import t from 'tap';
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { DefaultAzureCredential } from '@azure/identity';
import { startAzureStandIns, TEST_SERVICE } from '../../fakes/azure-stand-ins.ts';

const azure = await startAzureStandIns();
t.teardown(azure.close);
const { arm } = azure;
const RG = TEST_SERVICE.resourceGroup;
const SVC = TEST_SERVICE.name;
const fast = { updateIntervalInMs: 5 };
const credential = new DefaultAzureCredential({ disableInstanceDiscovery: true });
const client = new ApiManagementClient(credential, TEST_SERVICE.subscriptionId, {
  endpoint: arm.url,
  retryOptions: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 50 },
});

const OPENAPI = JSON.stringify({
  openapi: '3.0.3',
  info: { title: 'Orders', version: '1' },
  servers: [{ url: 'https://from-doc.example/v1' }],
  paths: {
    '/orders': { get: { operationId: 'listOrders' }, post: { operationId: 'createOrder' } },
    '/orders/{id}': { get: { operationId: 'getOrder' }, delete: {} },
  },
});

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

interface Caught {
  statusCode?: number;
  code?: string;
  message: string;
  details?: unknown;
}
async function caught(promise: Promise<unknown>): Promise<Caught> {
  try {
    await promise;
  } catch (error) {
    return error as Caught;
  }
  throw new Error('expected a failure');
}

t.test('create (long-running), get with eTag, update with ifMatch, stale ifMatch 412, delete', async (t) => {
  arm.resetLog();
  const created = await client.api.beginCreateOrUpdateAndWait(
    RG,
    SVC,
    'orders',
    { displayName: 'Orders', path: 'orders', serviceUrl: 'https://backend.example/orders', protocols: ['https'] },
    fast,
  );
  t.equal(created.serviceUrl, 'https://backend.example/orders');
  t.ok(
    arm.requests.some((r) => r.path.startsWith('tenant/operationResults/')),
    'the SDK polled the operation',
  );
  t.ok(arm.requests.every((r) => r.apiVersion === '2024-05-01'));
  const got = await client.api.get(RG, SVC, 'orders');
  t.match(got.eTag, /^".+"$/);
  const tag = await client.api.getEntityTag(RG, SVC, 'orders');
  t.equal(tag.eTag, got.eTag);
  const updated = await client.api.beginCreateOrUpdateAndWait(
    RG,
    SVC,
    'orders',
    { displayName: 'Orders v2', path: 'orders' },
    { ...fast, ifMatch: got.eTag! },
  );
  t.equal(updated.displayName, 'Orders v2');
  t.equal(updated.serviceUrl, 'https://backend.example/orders', 'a PUT without import keeps serviceUrl');
  const stale = await client.api
    .beginCreateOrUpdateAndWait(
      RG,
      SVC,
      'orders',
      { displayName: 'Orders v3', path: 'orders' },
      { ...fast, ifMatch: got.eTag! },
    )
    .catch((e: unknown) => e);
  t.equal(statusOf(stale), 412);
  t.equal(arm.requests.filter((r) => r.method === 'PUT').at(-1)?.ifMatch, got.eTag);
  const current = await client.api.get(RG, SVC, 'orders');
  await client.api.beginDeleteAndWait(RG, SVC, 'orders', current.eTag!, fast);
  t.equal(statusOf(await client.api.get(RG, SVC, 'orders').catch((e: unknown) => e)), 404);
  t.equal(statusOf(await client.api.beginDeleteAndWait(RG, SVC, 'orders', '*', fast).catch((e: unknown) => e)), 404);
  t.equal(arm.state().apis.orders, undefined);
});

t.test('import records operations and resets serviceUrl unless sent in the same request', async (t) => {
  await client.api.beginCreateOrUpdateAndWait(
    RG,
    SVC,
    'imp',
    { displayName: 'Imp', path: 'imp', serviceUrl: 'https://mine.example', format: 'openapi+json', value: OPENAPI },
    fast,
  );
  let state = arm.state().apis.imp!;
  t.equal(state.properties.serviceUrl, 'https://mine.example');
  t.same(state.operations.map((o) => `${o.method} ${o.urlTemplate}`).sort(), [
    'DELETE /orders/{id}',
    'GET /orders',
    'GET /orders/{id}',
    'POST /orders',
  ]);
  t.same(
    state.operations
      .map((o) => String(o.operationId ?? ''))
      .filter(Boolean)
      .sort(),
    ['createOrder', 'getOrder', 'listOrders'],
  );
  await client.api.beginCreateOrUpdateAndWait(
    RG,
    SVC,
    'imp',
    { path: 'imp', format: 'openapi+json', value: OPENAPI },
    fast,
  );
  state = arm.state().apis.imp!;
  t.equal(state.properties.serviceUrl, 'https://from-doc.example/v1', 'the import reset serviceUrl to the document');
  const ops = await client.apiOperation.listByApi(RG, SVC, 'imp').byPage().next();
  t.equal(ops.value.length, 4);
});

t.test('path and display-name conflicts are 400 ValidationError with targets', async (t) => {
  await client.api.beginCreateOrUpdateAndWait(RG, SVC, 'one', { displayName: 'One', path: 'shared' }, fast);
  const path = await caught(
    client.api.beginCreateOrUpdateAndWait(RG, SVC, 'two', { displayName: 'Two', path: 'shared' }, fast),
  );
  t.equal(path.statusCode, 400);
  t.equal(path.code, 'ValidationError');
  t.match(JSON.stringify(path.details), /Cannot create API 'two' with the same Path 'shared' as API 'one'/);
  const name = await client.api
    .beginCreateOrUpdateAndWait(RG, SVC, 'three', { displayName: 'one', path: 'three' }, fast)
    .catch((e: unknown) => e);
  t.match(JSON.stringify((name as { details: unknown }).details), /"target":"name"/);
});

t.test('policy round trip comes back reformatted', async (t) => {
  await client.api.beginCreateOrUpdateAndWait(RG, SVC, 'pol', { displayName: 'Pol', path: 'pol' }, fast);
  const xml =
    '<policies><inbound><base /><rate-limit-by-key calls="10" renewal-period="60" counter-key="@(context.Request.IpAddress)" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>';
  await client.apiPolicy.createOrUpdate(RG, SVC, 'pol', 'policy', { format: 'rawxml', value: xml });
  const list = await client.apiPolicy.listByApi(RG, SVC, 'pol');
  const back = list.value?.[0]?.value ?? '';
  t.not(back, xml);
  t.equal(back.replace(/>\s+</g, '><'), xml);
  const raw = await client.apiPolicy.get(RG, SVC, 'pol', 'policy', { format: 'xml' });
  t.ok(raw.eTag);
  await client.apiPolicy.delete(RG, SVC, 'pol', 'policy', '*');
  t.equal(arm.state().policies.pol, undefined);
});

t.test('429 with Retry-After is retried by the SDK; 500 too; 409 surfaces', async (t) => {
  arm.resetLog();
  arm.failNext({ method: 'GET', path: 'apis/pol' }, 429, { retryAfterMs: 20 });
  arm.failNext({ method: 'GET', path: 'apis/pol' }, 500);
  t.equal((await client.api.get(RG, SVC, 'pol')).displayName, 'Pol');
  t.same(
    arm.requests.map((r) => r.status),
    [429, 500, 200],
  );
  arm.failNext({ method: 'PUT' }, 409);
  const conflict = await client.api
    .beginCreateOrUpdateAndWait(RG, SVC, 'pol', { displayName: 'Pol', path: 'pol' }, fast)
    .catch((e: unknown) => e);
  t.equal(statusOf(conflict), 409);
  t.equal((conflict as { code: string }).code, 'PessimisticConcurrencyConflict');
  t.same(arm.calls(), { reads: 3, writes: 1, total: 4 });
});

t.test('a time-boxed outage: every matching request fails while it lasts, and phases follow each other', async (t) => {
  const { token } = (await credential.getToken('https://management.azure.com/.default')) ?? { token: '' };
  const get = () =>
    fetch(
      `${arm.url}/subscriptions/${TEST_SERVICE.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.ApiManagement/service/${SVC}/apis/pol?api-version=2024-05-01`,
      { headers: { authorization: `Bearer ${token}` } },
    );
  arm.failNext({ path: 'apis/pol' }, 500, { forMs: 1500 });
  arm.failNext({ path: 'apis/pol' }, 429, { retryAfter: 5, afterMs: 1500, forMs: 1500 });
  const phases: number[] = [];
  const retryAfters = new Set<string | null>();
  for (let last = 0; last !== 200; ) {
    const res = await get();
    last = res.status;
    if (last === 429) retryAfters.add(res.headers.get('retry-after'));
    if (phases.at(-1) !== last) phases.push(last);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.same(phases, [500, 429, 200], 'the 500s, then the 429s, then the API again');
  t.same([...retryAfters], ['5'], 'each 429 says Retry-After: 5');
});

t.test('a failure that only shows while polling is surfaced and changes nothing', async (t) => {
  arm.failNext({ method: 'PUT', path: 'apis/late' }, 400, {
    whilePolling: true,
    code: 'ValidationError',
    message: 'Named value not found.',
  });
  const error = await caught(
    client.api.beginCreateOrUpdateAndWait(RG, SVC, 'late', { displayName: 'Late', path: 'late' }, fast),
  );
  t.match(error.message, /ValidationError/);
  t.equal(arm.state().apis.late, undefined);
});

t.test('OpenID provider, product link, subscription keys, revisions and release', async (t) => {
  await client.openIdConnectProvider.createOrUpdate(RG, SVC, 'entra', {
    displayName: 'Entra',
    metadataEndpoint: 'https://login.example/v2.0/.well-known/openid-configuration',
    clientId: 'abc',
  });
  t.equal((await client.openIdConnectProvider.get(RG, SVC, 'entra')).clientId, 'abc');
  await client.product.createOrUpdate(RG, SVC, 'oda', { displayName: 'ODA' });
  await client.productApi.createOrUpdate(RG, SVC, 'oda', 'pol');
  t.equal((await client.productApi.checkEntityExists(RG, SVC, 'oda', 'pol')).body, true);
  t.equal(arm.requests.at(-1)?.status, 204);
  const keys = arm.addSubscription('sub-1');
  t.equal((await client.subscription.listSecrets(RG, SVC, 'sub-1')).primaryKey, keys.primaryKey);
  await client.api.beginCreateOrUpdateAndWait(
    RG,
    SVC,
    'pol;rev=2',
    { displayName: 'Pol', path: 'pol', apiRevision: '2' },
    fast,
  );
  t.equal((await client.api.get(RG, SVC, 'pol;rev=2')).isCurrent, false);
  await client.apiRelease.createOrUpdate(RG, SVC, 'pol', 'r2', {
    apiId: `/subscriptions/x/apis/pol;rev=2`,
    notes: 'go',
  });
  const current = await client.api.get(RG, SVC, 'pol');
  t.equal(current.apiRevision, '2');
  t.equal(current.isCurrent, true);
});

t.test('latency injection and a bad token', async (t) => {
  arm.setLatency(100, { method: 'GET' });
  const started = Date.now();
  await client.api.get(RG, SVC, 'pol');
  t.ok(Date.now() - started >= 90);
  arm.setLatency(0);
  const res = await fetch(
    `${arm.url}/subscriptions/${TEST_SERVICE.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.ApiManagement/service/${SVC}/apis/pol?api-version=2024-05-01`,
    { headers: { authorization: 'Bearer nope' } },
  );
  t.equal(res.status, 401);
  t.equal(((await res.json()) as { error: { code: string } }).error.code, 'InvalidAuthenticationToken');
});

t.test('long-running modes: Location only, synchronous, more InProgress polls', async (t) => {
  for (const [mode, polls] of [
    ['location', 1],
    ['sync', 0],
    ['async-operation', 3],
  ] as const) {
    arm.lro.mode = mode;
    arm.lro.pollsInProgress = polls;
    arm.resetLog();
    const id = `mode-${mode}`;
    const created = await client.api.beginCreateOrUpdateAndWait(RG, SVC, id, { displayName: id, path: id }, fast);
    t.equal(created.path, id, `${mode}: created`);
    const pollCount = arm.requests.filter((r) => r.path.startsWith('tenant/operationResults/')).length;
    t.equal(pollCount, mode === 'sync' ? 0 : polls + 1, `${mode}: polled ${pollCount} times`);
    await client.api.beginDeleteAndWait(RG, SVC, id, '*', fast);
    t.equal(arm.state().apis[id], undefined, `${mode}: deleted`);
  }
  arm.lro.mode = 'async-operation';
  arm.lro.pollsInProgress = 1;
});

t.test('recordBodies keeps each request as sent, without its token; off by default', async (t) => {
  const recording = await startAzureStandIns({ recordBodies: true });
  t.teardown(recording.close);
  const recorded = new ApiManagementClient(
    new DefaultAzureCredential({ disableInstanceDiscovery: true }),
    TEST_SERVICE.subscriptionId,
    { endpoint: recording.arm.url },
  );
  await recorded.api.beginCreateOrUpdateAndWait(
    RG,
    SVC,
    'recorded',
    { displayName: 'Recorded', path: 'recorded', protocols: ['https'] },
    fast,
  );
  const put = recording.arm.requests.find((r) => r.method === 'PUT');
  t.match(put?.sent?.url, /\/apis\/recorded\?api-version=/);
  t.match(JSON.parse(put?.sent?.body ?? '{}'), { properties: { displayName: 'Recorded', path: 'recorded' } });
  t.notOk(put?.sent?.headers.authorization, 'the bearer token is not kept');
  t.ok(
    recording.arm.requests.every((r) => r.sent),
    'polls and reads too',
  );

  arm.resetLog();
  await client.api.listByService(RG, SVC).next();
  t.ok(arm.requests.length > 0);
  t.notOk(
    arm.requests.some((r) => r.sent),
    'nothing kept unless asked',
  );
});
