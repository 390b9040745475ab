import t from 'tap';
import { DefaultAzureCredential } from '@azure/identity';
import { createApimClient, type ApiDefinition, type ApimClient } from '../../../reconciler/clients/apim.ts';
import { PermanentError, RetryableError } from '../../../shared/errors.ts';
import { startAzureStandIns, TEST_SERVICE } from '../../fakes/azure-stand-ins.ts';

const azure = await startAzureStandIns();
t.teardown(azure.close);
const { arm } = azure;
const calls: { op: string; status: number | 'error' }[] = [];
const writes: string[] = [];
const reads: string[] = [];
// The production credential path: DefaultAzureCredential from the environment (AZURE_AUTHORITY_HOST names the Entra stand-in).
const credential = new DefaultAzureCredential({ disableInstanceDiscovery: true });
const client: ApimClient = createApimClient(
  {
    subscriptionId: TEST_SERVICE.subscriptionId,
    resourceGroup: TEST_SERVICE.resourceGroup,
    serviceName: TEST_SERVICE.name,
    endpoint: arm.url,
  },
  credential,
  {
    pollIntervalMs: 5,
    takeBudget: async (kind, op) => void (kind === 'writes' ? writes : reads).push(op),
    onCall: (op, status) => void calls.push({ op, status }),
  },
);

const OPENAPI = JSON.stringify({
  openapi: '3.0.3',
  info: { title: 'Catalog', version: '1' },
  servers: [{ url: 'https://from-doc.example' }],
  paths: { '/items': { get: { operationId: 'listItems' }, post: { operationId: 'createItem' } } },
});

function definition(over: Partial<ApiDefinition> = {}): ApiDefinition {
  return {
    displayName: 'ns1 catalog',
    path: 'ns1/catalog',
    serviceUrl: 'https://gateway.example/ns1/catalog',
    protocols: ['https'],
    subscriptionRequired: false,
    description: 'Managed by oda-apim-operator',
    ...over,
  };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

t.test('getApi of a missing API is undefined', async (t) => {
  t.equal(await client.getApi('ns1-missing'), undefined);
  t.same(calls.at(-1), { op: 'getApi', status: 404 });
});

t.test('putApi awaits the long-running operation; the import keeps serviceUrl sent in the same request', async (t) => {
  await client.ensureOpenIdProvider('entra', {
    displayName: 'Entra ID',
    metadataEndpoint: `${azure.entra.url}/t/v2.0/.well-known/openid-configuration`,
    clientId: 'aud',
  });
  arm.resetLog();
  reads.length = 0;
  writes.length = 0;
  const state = await client.putApi(
    'ns1-catalog',
    definition({
      openidProviderId: 'entra',
      subscriptionKeyHeader: 'X-Key',
      import: { format: 'openapi+json', value: OPENAPI },
    }),
  );
  t.equal(state.serviceUrl, 'https://gateway.example/ns1/catalog');
  t.match(state.etag, /^".+"$/);
  t.equal(state.openidProviderId, 'entra');
  t.equal(state.subscriptionKeyHeader, 'X-Key');
  t.equal(arm.state().apis['ns1-catalog']?.operations.length, 2);
  t.ok(
    arm.requests.some((r) => r.path.startsWith('tenant/operationResults/')),
    'the operation was polled',
  );
  const polls = arm.requests.filter((r) => r.method === 'GET').length;
  t.ok(polls > 0);
  t.same(writes, ['putApi'], 'the PUT took a write');
  t.same(reads, Array(polls).fill('putApi'), 'and each poll and the final read took a read from the budget');
  const read = await client.getApi('ns1-catalog');
  t.same(read, state);
  t.same(read && { ...read, etag: 'x' }, {
    id: 'ns1-catalog',
    etag: 'x',
    displayName: 'ns1 catalog',
    path: 'ns1/catalog',
    serviceUrl: 'https://gateway.example/ns1/catalog',
    protocols: ['https'],
    subscriptionRequired: false,
    subscriptionKeyHeader: 'X-Key',
    subscriptionKeyQuery: 'subscription-key',
    description: 'Managed by oda-apim-operator',
    openidProviderId: 'entra',
    apiRevision: '1',
    isCurrent: true,
  });
});

t.test('ensureOpenIdProvider writes only when something differs', async (t) => {
  writes.length = 0;
  reads.length = 0;
  const p = {
    displayName: 'Entra ID',
    metadataEndpoint: `${azure.entra.url}/t/v2.0/.well-known/openid-configuration`,
    clientId: 'aud',
  };
  await client.ensureOpenIdProvider('entra', p);
  t.same(writes, []);
  await client.ensureOpenIdProvider('entra', { ...p, clientId: 'aud2' });
  t.same(writes, ['putOpenIdProvider']);
  t.ok(reads.length >= 2, 'each read takes from the read budget, each write from the write budget', { reads });
});

t.test('putApi with the current ETag succeeds; a stale one is a RetryableError (412)', async (t) => {
  const current = (await client.getApi('ns1-catalog'))!;
  const updated = await client.putApi('ns1-catalog', definition({ displayName: 'ns1 catalog v2' }), current.etag);
  t.equal(updated.displayName, 'ns1 catalog v2');
  t.not(updated.etag, current.etag);
  t.equal(updated.openidProviderId, undefined, 'authentication settings were cleared');
  const stale = await failure(client.putApi('ns1-catalog', definition(), current.etag));
  t.type(stale, RetryableError);
  t.match(stale.message, /412/);
});

t.test("a path conflict is a PermanentError that carries APIM's details", async (t) => {
  const error = await failure(client.putApi('ns2-catalog', definition({ displayName: 'ns2 catalog' })));
  t.type(error, PermanentError);
  t.match(error.message, /Cannot create API 'ns2-catalog' with the same Path 'ns1\/catalog' as API 'ns1-catalog'/);
});

t.test('429 with Retry-After is surfaced with retryAfterMs, not waited out by the SDK', async (t) => {
  arm.failNext({ method: 'GET', path: 'apis/ns1-catalog' }, 429, { retryAfter: 7 });
  const error = await failure(client.getApi('ns1-catalog'));
  t.type(error, RetryableError);
  t.equal((error as RetryableError).retryAfterMs, 7000);
  arm.failNext({ method: 'PUT', path: 'apis/ns1-catalog' }, 409);
  const conflict = await failure(client.putApi('ns1-catalog', definition()));
  t.type(conflict, RetryableError);
  t.match(conflict.message, /PessimisticConcurrencyConflict/);
});

t.test('a 500 is retried by the SDK once; repeated ones become a RetryableError', async (t) => {
  arm.failNext({ method: 'GET', path: 'apis/ns1-catalog' }, 500);
  t.equal((await client.getApi('ns1-catalog'))?.id, 'ns1-catalog');
  arm.failNext({ method: 'GET', path: 'apis/ns1-catalog' }, 500, { times: 3 });
  t.type(await failure(client.getApi('ns1-catalog')), RetryableError);
});

t.test("each of the SDK's retries of a write takes from the ARM budget, as its first try does", async (t) => {
  writes.length = 0;
  arm.resetLog();
  arm.failNext({ method: 'PUT', path: 'apis/ns1-catalog/policies/policy' }, 500, { times: 3 });
  t.type(await failure(client.putPolicy('ns1-catalog', '<policies><inbound /></policies>')), RetryableError);
  const sent = arm.requests.filter((r) => r.method === 'PUT').length;
  t.equal(sent, 3, 'one try and two retries');
  t.same(writes, ['putPolicy', 'putPolicy', 'putPolicy'], 'three writes taken from the budget');
});

t.test('a failure that shows only while polling is classified', async (t) => {
  arm.failNext({ method: 'PUT', path: 'apis/ns3-late' }, 500, { whilePolling: true });
  t.type(await failure(client.putApi('ns3-late', definition({ displayName: 'late', path: 'late' }))), RetryableError);
  arm.failNext({ method: 'PUT', path: 'apis/ns3-late' }, 400, {
    whilePolling: true,
    code: 'ValidationError',
    message: 'Named value not found.',
  });
  const error = await failure(client.putApi('ns3-late', definition({ displayName: 'late', path: 'late' })));
  t.type(error, PermanentError);
  t.match(error.message, /Named value not found/);
});

t.test('policy text round-trips (reformatted by APIM); a missing policy is undefined', async (t) => {
  t.equal(await client.getPolicy('ns1-catalog'), undefined);
  const xml =
    '<policies><inbound><base /><validate-jwt header-name="Authorization" failed-validation-httpcode="401"><openid-config url="https://login.example/.well-known/openid-configuration" /><audiences><audience>api://x</audience></audiences></validate-jwt></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>';
  const stored = await client.putPolicy('ns1-catalog', xml);
  t.same(calls.at(-1), { op: 'putPolicy', status: 201 }, 'the write reported with its status');
  const back = await client.getPolicy('ns1-catalog');
  t.same(calls.at(-1), { op: 'getPolicy', status: 200 }, 'the read reported with its status');
  t.not(back, xml, 'APIM reformats');
  t.equal(back?.replace(/>\s+</g, '><'), xml);
  t.equal(stored, back, 'the write answers with the text APIM stored');
  t.equal(await client.getPolicy('ns9-missing-api'), undefined);
});

t.test('listSubscriptionKeys; deleteApi, also when already gone', async (t) => {
  const keys = arm.addSubscription('ns1-catalog-sub');
  t.same(await client.listSubscriptionKeys('ns1-catalog-sub'), { primaryKey: keys.primaryKey });
  t.equal(await client.listSubscriptionKeys('missing'), undefined);
  const current = (await client.getApi('ns1-catalog'))!;
  await client.deleteApi('ns1-catalog', current.etag);
  t.equal(arm.state().apis['ns1-catalog'], undefined);
  await client.deleteApi('ns1-catalog', '*');
  t.ok(writes.includes('deleteApi'));
});

t.test('every call was reported and carried a token for the ARM endpoint', async (t) => {
  t.ok(calls.length > 10);
  t.ok(calls.every((c) => c.status === 'error' || (c.status >= 200 && c.status < 600)));
  t.ok(azure.entra.tokens.some((tok) => tok.scopes.includes(`${arm.url}/.default`)));
});
