// ARM throttling as ARM does it (per-principal token buckets answering 429
// with Retry-After, and the remaining budget on every answer), scaled down to
// test size: a create burst plus a full resync through the shared budget gets
// no 429 at all; the same run without a budget does, so the test can fail.
// RELIABILITY_FULL=1 runs 5,000 APIs against ARM's own bucket sizes.
import t from 'tap';
import { startReconciler } from '../../../reconciler/server.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { ARM_BUCKETS } from '../../fakes/arm/rate-limit.ts';
import { startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { helpers, NS } from '../../helpers/reconciler-process.ts';

const FULL = process.env.RELIABILITY_FULL === '1';
const APIS = FULL ? 5000 : 16;
/** ARM's buckets, or at test size the same shape, faster so that the test is short. */
const ARM = FULL ? ARM_BUCKETS : { reads: { capacity: 40, perSecond: 6 }, writes: { capacity: 20, perSecond: 3 } };
/** The operator's settings for it: below ARM's refill, as the README advises. */
const BUDGET = FULL ? { reads: 20, writes: 8 } : { reads: 5, writes: 2 };

async function burstAndResync(t: { teardown(fn: () => unknown): void }, budget: { reads: number; writes: number }) {
  const world = await startReconcilerEnvironment();
  const reconciler = await startReconciler(
    {
      ...world.env,
      APIM_READS_PER_SECOND: String(budget.reads),
      APIM_WRITES_PER_SECOND: String(budget.writes),
      RECONCILE_CONCURRENCY: '16',
      BACKOFF_BASE_MS: '200',
      BACKOFF_MAX_MS: '5000',
    },
    testLogger(),
  );
  t.teardown(async () => {
    await reconciler.close(1000);
    await world.close();
  });
  const h = helpers(world);
  world.azure.arm.throttleLikeArm(ARM);
  const names = Array.from({ length: APIS }, (_, i) => `throttled-${i}`);
  const started = Date.now();
  for (const name of names) await h.create(name);
  await world.kube.waitFor(
    () => names.every((n) => world.kube.get('ingresses', NS, n) !== undefined),
    FULL ? 3_600_000 : 600_000,
  );
  // 50 at a time, as an ingress controller would: 5,000 requests at once reset connections to the stand-in.
  for (let i = 0; i < names.length; i += 50)
    await Promise.all(names.slice(i, i + 50).map((n) => world.giveAddress(NS, n)));
  await world.kube.waitFor(() => names.every((n) => h.isReady(n)), FULL ? 3_600_000 : 300_000);
  const createdMs = Date.now() - started;
  const before = world.azure.arm.requests.length;
  await reconciler.resync();
  // The resync spreads its keys over the interval; wait until every API was looked at again.
  await world.kube.waitFor(() => world.azure.arm.requests.length - before >= APIS, FULL ? 3_600_000 : 300_000);
  return { throttled: world.azure.arm.throttled(), createdMs, calls: world.azure.arm.calls() };
}

t.test(`with the budget: ${APIS} APIs created at once and resynced, no 429`, async (t) => {
  const run = await burstAndResync(t, BUDGET);
  t.comment(`${APIS} APIs Ready in ${run.createdMs} ms; ARM calls ${JSON.stringify(run.calls)}; 429s ${run.throttled}`);
  t.equal(run.throttled, 0, 'ARM never answered 429');
});

t.test('without a budget (10,000/s): ARM answers 429s', async (t) => {
  const run = await burstAndResync(t, { reads: 10_000, writes: 10_000 });
  t.comment(`without a budget: ${run.throttled} 429s`);
  t.ok(run.throttled > 0, 'the same run gets 429s');
});
