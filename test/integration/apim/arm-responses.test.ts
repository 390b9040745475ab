// The APIM client's pipeline policy sees every answer ARM sends (retried
// attempts and polls too), counts 429s by operation and keeps ARM's remaining
// request budget as gauges.
import t from 'tap';
import { DefaultAzureCredential } from '@azure/identity';
import { createApimClient } from '../../../reconciler/clients/apim.ts';
import type { ArmResponse } from '../../../reconciler/clients/arm-responses.ts';
import { armResponseRecorder, createReconcilerMetrics } from '../../../reconciler/metrics.ts';
import { startAzureStandIns, TEST_SERVICE } from '../../fakes/azure-stand-ins.ts';

const azure = await startAzureStandIns();
t.teardown(azure.close);
const { arm } = azure;
const metrics = createReconcilerMetrics(async () => ({}));
const seen: ArmResponse[] = [];
const calls: { op: string; status: number | 'error' }[] = [];
const record = armResponseRecorder(metrics);
const client = createApimClient(
  { ...TEST_SERVICE, serviceName: TEST_SERVICE.name, endpoint: arm.url },
  new DefaultAzureCredential({ disableInstanceDiscovery: true }),
  {
    pollIntervalMs: 5,
    onCall: (op, status) => void calls.push({ op, status }),
    onArmResponse: (response) => {
      seen.push(response);
      record(response);
    },
  },
);
const scrape = () => metrics.registry.metrics();
const definition = {
  displayName: 'ns1 orders',
  path: 'ns1/orders',
  serviceUrl: 'https://gateway.example/ns1/orders',
  protocols: ['https'],
  subscriptionRequired: false,
  description: 'Managed by oda-apim-operator',
};

t.test('every attempt is seen: a 500 the SDK retried, and the answer after it', async (t) => {
  seen.length = 0;
  arm.failNext({ method: 'GET', path: 'apis/ns1-absent' }, 500);
  t.equal(await client.getApi('ns1-absent'), undefined);
  t.same(
    seen.map((r) => [r.operation, r.status]),
    [
      ['getApi', 500],
      ['getApi', 404],
    ],
  );
  t.same(calls.at(-1), { op: 'getApi', status: 404 }, 'the call itself reports only its final answer');
});

t.test('429s are counted by operation, polls of a long-running write included', async (t) => {
  arm.failNext({ method: 'GET', path: 'apis/ns1-absent' }, 429, { retryAfter: 1 });
  await t.rejects(client.getApi('ns1-absent'));
  await client.putApi('ns1-orders', definition);
  t.ok(seen.filter((r) => r.operation === 'putApi').length >= 2, 'the PUT and its polls are attributed to putApi');
  arm.failNext({ method: 'PUT', path: 'apis/ns1-orders' }, 429, { retryAfter: 1 });
  await t.rejects(client.putApi('ns1-orders', definition));
  const text = await scrape();
  t.match(text, /apim_operator_arm_throttled_total\{operation="getApi"\} 1\n/);
  t.match(text, /apim_operator_arm_throttled_total\{operation="putApi"\} 1\n/);
});

t.test("ARM's remaining reads and writes: the gauges follow the last answers, counting down", async (t) => {
  const reads = seen.flatMap((r) => (r.remaining.reads === undefined ? [] : [r.remaining.reads]));
  const writes = seen.flatMap((r) => (r.remaining.writes === undefined ? [] : [r.remaining.writes]));
  t.ok(reads.length > 1 && writes.length > 1, 'reads and writes both report a budget');
  t.same(
    reads,
    [...reads].sort((a, b) => b - a),
    'the read budget only goes down',
  );
  const text = await scrape();
  const remaining = arm.rateLimitRemaining();
  t.match(text, new RegExp(`apim_operator_arm_ratelimit_remaining\\{kind="reads"\\} ${remaining.reads}\\n`));
  t.match(text, new RegExp(`apim_operator_arm_ratelimit_remaining\\{kind="writes"\\} ${remaining.writes}\\n`));
  t.ok(remaining.writes < 1200, 'the writes spent the budget');
});
