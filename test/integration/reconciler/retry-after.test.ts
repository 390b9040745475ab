// ARM's Retry-After and the backoff schedule survive a resync, and a job that replaces a backing-off
// one carries the attempt count on.
import t from 'tap';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { startReconciler } from '../../../reconciler/server.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { helpers, NS } from '../../helpers/reconciler-process.ts';

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function running(t: { teardown(fn: () => unknown): void }) {
  const world = await startReconcilerEnvironment();
  const reconciler = await startReconciler(
    { ...world.env, BACKOFF_BASE_MS: '400', BACKOFF_MAX_MS: '60000' },
    testLogger(),
  );
  t.teardown(async () => {
    await reconciler.close(1000);
    await world.close();
  });
  return { world, reconciler, h: helpers(world) };
}

t.test('a 429 with Retry-After: resyncs during the wait do not bring the call forward', async (t) => {
  const { world, reconciler, h } = await running(t);
  const name = 'throttled';
  const apiId = apiIdFor(NS, name);
  await h.create(name);
  await world.kube.waitFor(() => h.ready(name)?.reason === 'WaitingForIngressAddress', 60_000);
  world.azure.arm.failNext({ method: 'PUT', path: `apis/${apiId}` }, 429, { retryAfter: 3 });
  await world.giveAddress(NS, name);
  await world.kube.waitFor(() => world.azure.arm.requests.some((r) => r.status === 429), 60_000);
  const throttledAt = world.azure.arm.requests.find((r) => r.status === 429)?.at ?? 0;
  await world.kube.waitFor(() => h.status(name)?.retry?.attempts === 1, 60_000);
  for (let i = 0; i < 5; i++) await reconciler.resync();
  await world.kube.waitFor(() => h.isReady(name), 60_000);
  const later = world.azure.arm.requests.filter((r) => r.at > throttledAt && r.path.startsWith(`apis/${apiId}`));
  t.ok(later.length > 0, 'called again');
  t.ok(
    later.every((r) => r.at - throttledAt >= 3000),
    'no call to the API sooner than its Retry-After',
    { gapsMs: later.map((r) => r.at - throttledAt) },
  );
});

t.test('a real change during a backoff runs at once and carries the attempt count on', async (t) => {
  const { world, h } = await running(t);
  const name = 'flaky';
  const apiId = apiIdFor(NS, name);
  await h.create(name);
  await world.kube.waitFor(() => h.ready(name)?.reason === 'WaitingForIngressAddress', 60_000);
  world.azure.arm.failNext({ method: 'PUT', path: `apis/${apiId}` }, 500, { times: 1000 });
  await world.giveAddress(NS, name);
  await world.kube.waitFor(() => (h.status(name)?.retry?.attempts ?? 0) >= 2, 60_000);
  const before = h.status(name).retry.attempts as number;
  await h.custom.patchNamespacedCustomObject(
    {
      group: 'oda.tmforum.org',
      version: 'v1',
      namespace: NS,
      plural: 'exposedapis',
      name,
      body: { spec: { port: 8081 } },
    },
    merge,
  );
  await world.kube.waitFor(() => h.status(name)?.retry?.attempts !== before, 60_000);
  t.equal(h.status(name).retry.attempts, before + 1, 'the schedule continues: not attempt 1 again');
});
