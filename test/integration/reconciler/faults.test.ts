// Faults under load, against two reconciler processes: Redis SIGKILLed in the
// middle of a burst (with its append-only file, and without one). Every
// ExposedAPI ends Ready, and no API is ever written by two reconciles at once.
// RELIABILITY_FULL=1 runs the documented size (500 APIs); the default suite a
// smaller burst with the same assertions.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { RECONCILE_QUEUE } from '../../../shared/jobs.ts';
import type { ArmRequestRecord } from '../../fakes/arm-apim-server.ts';
import { startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { childEnv, helpers, NS, spawnReconciler, until, type Spawned } from '../../helpers/reconciler-process.ts';
import { ownRedis } from '../../helpers/redis-server.ts';

const FULL = process.env.RELIABILITY_FULL === '1';
const APIS = FULL ? 500 : 40;
const RESYNC_SECONDS = 15;

/** Writes to one API whose time in flight overlaps another write to it: two reconciles at once. */
function overlappingWrites(requests: readonly ArmRequestRecord[]): string[] {
  const byApi = new Map<string, ArmRequestRecord[]>();
  for (const r of requests) {
    const api = /^apis\/([^/;]+)/.exec(r.path)?.[1];
    if (!api || r.method === 'GET' || r.method === 'HEAD') continue;
    byApi.set(api, [...(byApi.get(api) ?? []), r]);
  }
  const overlaps: string[] = [];
  for (const [api, writes] of byApi) {
    const sorted = [...writes].sort((a, b) => a.receivedAt - b.receivedAt);
    for (let i = 1; i < sorted.length; i++) {
      const [before, after] = [sorted[i - 1] as ArmRequestRecord, sorted[i] as ArmRequestRecord];
      if (after.receivedAt < before.at)
        overlaps.push(`${api}: ${before.method} ${before.path} and ${after.method} ${after.path}`);
    }
  }
  return overlaps;
}

for (const persistence of ['aof', 'none'] as const) {
  t.test(
    `Redis SIGKILLed mid-burst of ${APIS} APIs (${persistence === 'aof' ? 'append-only file' : 'nothing on disk'})`,
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'faults-redis-'));
      const redis = await ownRedis({
        args:
          persistence === 'aof'
            ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir, '--maxmemory-policy', 'noeviction']
            : ['--dir', dir],
      });
      const world = await startReconcilerEnvironment();
      const env = childEnv(world, {
        REDIS_URL: redis.url,
        RECONCILE_CONCURRENCY: '8',
        RESYNC_INTERVAL_SECONDS: String(RESYNC_SECONDS),
        LOG_LEVEL: 'warn',
      });
      const processes: Spawned[] = [spawnReconciler(env), spawnReconciler(env)];
      const queue = new Queue(RECONCILE_QUEUE, {
        connection: { url: redis.url, maxRetriesPerRequest: null } as never,
        prefix: world.env.QUEUE_PREFIX,
      });
      queue.on('error', () => undefined);
      t.teardown(async () => {
        for (const p of processes) {
          if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
          await p.exited;
        }
        await queue.close();
        await redis.stop();
        await world.close();
      });
      const { kube, azure } = world;
      const h = helpers(world);
      const names = Array.from({ length: APIS }, (_, i) => `burst-${i}`);
      // Slow writes keep many reconciles in flight when Redis dies.
      azure.arm.setLatency(150, { method: 'PUT' });
      const started = Date.now();
      for (const name of names) await h.create(name);
      // Two processes starting on a busy machine: the Ingresses come when they are up.
      await kube.waitFor(() => names.every((n) => kube.get('ingresses', NS, n) !== undefined), 120_000);
      // The load balancer gives each Ingress its address as soon as it exists.
      await Promise.all(names.map((name) => world.giveAddress(NS, name))).catch((error: unknown) => {
        throw new Error(
          `${String(error)}; the processes said: ${processes.map((p) => p.output().slice(-2000)).join('\n---\n')}`,
        );
      });
      await kube.waitFor(() => names.filter((n) => h.isReady(n)).length >= APIS / 4, 120_000);
      const readyBefore = names.filter((n) => h.isReady(n)).length;

      await redis.stop(); // SIGKILL
      await redis.start();
      const restartedAt = Date.now();
      const keysWithJobs = await until('the restarted Redis answers', async () => {
        const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);
        return new Set(jobs.map((j) => j?.data.key));
      });
      const lost = names.filter((n) => !h.isReady(n) && !keysWithJobs.has(`${NS}/${n}`));
      azure.arm.setLatency(0);

      await kube.waitFor(() => names.every((n) => h.isReady(n)), (RESYNC_SECONDS * 3 + 120) * 1000);
      const allReadyMs = Date.now() - started;
      const recoveryMs = Date.now() - restartedAt;
      t.comment(
        `${APIS} APIs, ${persistence}: ${readyBefore} Ready before the kill; ${lost.length} keys had lost their job; all Ready ${allReadyMs} ms after the burst began, ${recoveryMs} ms after the restart`,
      );
      if (persistence === 'none')
        t.ok(lost.length > 0, 'without a file every pending job is gone, and the resync brings the keys back');
      t.same(overlappingWrites(azure.arm.requests), [], 'no API was ever written by two reconciles at once');
      t.ok(
        names.every((n) => azure.arm.state().apis[apiIdFor(NS, n)]),
        'every API is in APIM',
      );
      for (const p of processes) t.equal(p.child.exitCode, null, 'both processes survived the outage');
    },
  );
}

/** A process serving every key of `count` new APIs whose PUTs take `putMs`, once all of them are in flight in it. */
async function inFlightInOneProcess(
  t: { teardown(fn: () => unknown): void },
  count: number,
  putMs: number,
  extra: Record<string, string>,
) {
  const world = await startReconcilerEnvironment();
  const env = childEnv(world, { RECONCILE_CONCURRENCY: String(count), LOG_LEVEL: 'warn', ...extra });
  const processes: Spawned[] = [];
  t.teardown(async () => {
    for (const p of processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
    await world.close();
  });
  const h = helpers(world);
  const first = spawnReconciler(env);
  processes.push(first);
  const names = Array.from({ length: count }, (_, i) => `in-flight-${i}`);
  for (const name of names) await h.create(name);
  await world.kube.waitFor(() => names.every((n) => world.kube.get('ingresses', NS, n) !== undefined), 120_000);
  const started = h.slowPuts(
    putMs,
    names.map((n) => apiIdFor(NS, n)),
    true,
  );
  await Promise.all(names.map((name) => world.giveAddress(NS, name)));
  await world.kube.waitFor(() => started.size === count, 120_000);
  const second = () => {
    const p = spawnReconciler(env);
    processes.push(p);
    return p;
  };
  return { world, h, names, first, second };
}

t.test('a worker SIGKILLed with 32 reconciles in flight: the other takes every job over', async (t) => {
  const { world, h, names, first, second } = await inFlightInOneProcess(t, 32, 2000, {});
  const other = second();
  const killedAt = Date.now();
  first.child.kill('SIGKILL');
  await first.exited;
  // Its jobs stay locked until the lock lapses (30 s), then the other process's stalled check takes them.
  await world.kube.waitFor(() => names.every((n) => h.isReady(n)), 180_000);
  t.comment(`32 in-flight reconciles finished by the other process ${Date.now() - killedAt} ms after the SIGKILL`);
  t.same(overlappingWrites(world.azure.arm.requests), [], 'no API written by both processes at once');
  t.equal(other.child.exitCode, null, 'the other process is still up');
});

t.test('SIGTERM with 16 reconciles in flight: exits within the grace plus 5 s; the other finishes', async (t) => {
  const grace = 2;
  const { world, h, names, first, second } = await inFlightInOneProcess(t, 16, 6000, {
    SHUTDOWN_GRACE_SECONDS: String(grace),
  });
  const signalledAt = Date.now();
  first.child.kill('SIGTERM');
  const code = await first.exited;
  const exitMs = Date.now() - signalledAt;
  t.equal(code, 0, 'exit code 0', { output: first.output().slice(-2000) });
  t.ok(exitMs <= (grace + 5) * 1000, `exited ${exitMs} ms after SIGTERM (grace ${grace} s)`);
  const other = second();
  const startedAt = Date.now();
  await world.kube.waitFor(() => names.every((n) => h.isReady(n)), 120_000);
  t.comment(`SIGTERM: exit after ${exitMs} ms; the other process finished all 16 in ${Date.now() - startedAt} ms`);
  t.same(overlappingWrites(world.azure.arm.requests), [], 'no API written by both processes at once');
  t.equal(other.child.exitCode, null);
});
