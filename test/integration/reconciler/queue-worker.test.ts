import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { RECONCILE_JOB, RECONCILE_QUEUE, reconcileJobOptions, type EnqueueOptions } from '../../../shared/jobs.ts';
import { PermanentError, RetryableError } from '../../../shared/errors.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { startQueueWorker, type QueueWorker, type ReconcileHandler } from '../../../reconciler/queue-worker.ts';
import { REDIS_URL } from '../../helpers/webhook.ts';
import { plainConnections } from '../../helpers/redis-server.ts';

const connections = await plainConnections(REDIS_URL);

interface Harness {
  queue: Queue;
  prefix: string;
  enqueue(key: string, options?: EnqueueOptions): Promise<void>;
  worker(handler: ReconcileHandler, concurrency?: number, backoff?: { baseMs: number; maxMs: number }): QueueWorker;
}

/** A queue of the test's own (a fresh prefix), and workers on it; all closed and obliterated at the end. */
function harness(t: { teardown(fn: () => unknown): void }): Harness {
  const prefix = `test-${randomUUID()}`;
  const queue = new Queue(RECONCILE_QUEUE, { connection: { url: REDIS_URL } as never, prefix });
  const workers: QueueWorker[] = [];
  t.teardown(async () => {
    await Promise.all(workers.map((w) => w.close(1000)));
    await queue.obliterate({ force: true });
    await queue.close();
  });
  return {
    queue,
    prefix,
    enqueue: async (key, options = {}) => {
      await queue.add(RECONCILE_JOB, { key }, reconcileJobOptions(key, options));
    },
    worker(handler, concurrency = 4, backoff = { baseMs: 20, maxMs: 200 }) {
      const w = startQueueWorker({
        connections,
        prefix,
        concurrency,
        handler,
        log: testLogger(),
        backoff,
      });
      workers.push(w);
      return w;
    },
  };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('an update during a reconcile causes exactly one more reconcile after it, never a parallel one', async (t) => {
  const h = harness(t);
  const runs: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let active = 0;
  let maxActive = 0;
  h.worker(async (key) => {
    active++;
    maxActive = Math.max(maxActive, active);
    runs.push(key);
    if (runs.length === 1) await gate;
    active--;
    return { kind: 'done' };
  });
  await h.enqueue('ns/api');
  await until(() => runs.length === 1, 'the first reconcile to start');
  await h.enqueue('ns/api');
  await h.enqueue('ns/api');
  await h.enqueue('ns/api');
  release();
  await until(() => runs.length >= 2, 'the follow-up reconcile');
  await until(async () => {
    const counts = await h.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).every((n) => n === 0) && active === 0;
  }, 'the queue to drain');
  t.equal(runs.length, 2, 'three updates mid-reconcile collapse into one more run');
  t.equal(maxActive, 1, 'never two at once');
});

t.test('two workers never reconcile one key at once, and no update is lost', async (t) => {
  const h = harness(t);
  const active = new Map<string, number>();
  let overlaps = 0;
  const starts = new Map<string, number[]>();
  const handler: ReconcileHandler = async (key) => {
    const n = (active.get(key) ?? 0) + 1;
    active.set(key, n);
    if (n > 1) overlaps++;
    starts.set(key, [...(starts.get(key) ?? []), Date.now()]);
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    active.set(key, (active.get(key) ?? 1) - 1);
    return { kind: 'done' };
  };
  h.worker(handler, 8);
  h.worker(handler, 8);
  const keys = ['a/one', 'a/two', 'b/one'];
  const lastAdd = new Map<string, number>();
  for (let round = 0; round < 40; round++) {
    for (const key of keys) {
      lastAdd.set(key, Date.now());
      await h.enqueue(key);
    }
    await new Promise((r) => setTimeout(r, 3));
  }
  await until(
    () => keys.every((k) => (starts.get(k) ?? []).some((s) => s >= (lastAdd.get(k) ?? 0))),
    "a reconcile after every key's last update",
  );
  t.equal(overlaps, 0, 'no key ran twice at once');
  for (const key of keys)
    t.ok(
      (starts.get(key)?.length ?? 0) < 80,
      `${key}: updates were collapsed (${starts.get(key)?.length} runs for 40 updates)`,
    );
});

t.test('outcomes: requeue waits without spending attempts, retryable backs off, permanent stops', async (t) => {
  const h = harness(t);
  const seen: { key: string; attempt: number }[] = [];
  h.worker(async (key, { attempt }) => {
    seen.push({ key, attempt });
    const count = seen.filter((s) => s.key === key).length;
    if (key === 'ns/not-ready' && count < 3)
      return { kind: 'requeue', afterMs: 20, reason: 'no load balancer address yet' };
    if (key === 'ns/flaky' && count < 3) throw new RetryableError('503 from APIM', { retryAfterMs: 30 });
    if (key === 'ns/bad') throw new PermanentError('ValidationError: path already used');
    return { kind: 'done' };
  });
  for (const key of ['ns/not-ready', 'ns/flaky', 'ns/bad']) await h.enqueue(key);
  await until(
    () =>
      seen.filter((s) => s.key === 'ns/not-ready').length === 3 &&
      seen.filter((s) => s.key === 'ns/flaky').length === 3,
    'the requeues and retries',
  );
  t.same(
    seen.filter((s) => s.key === 'ns/not-ready').map((s) => s.attempt),
    [1, 1, 1],
    'a requeue is not a failed attempt',
  );
  t.same(
    seen.filter((s) => s.key === 'ns/flaky').map((s) => s.attempt),
    [1, 2, 3],
    'retries count attempts',
  );
  await until(async () => (await h.queue.getJobs(['failed'])).length === 1, 'the permanent failure to be recorded');
  t.equal(seen.filter((s) => s.key === 'ns/bad').length, 1, 'a permanent failure is not retried');
  const failed = await h.queue.getJobs(['failed']);
  t.same(
    failed.map((j) => j.data.key),
    ['ns/bad'],
  );
  await h.enqueue('ns/bad');
  await until(() => seen.filter((s) => s.key === 'ns/bad').length === 2, 'a new request after a permanent failure');
  t.pass('a new request (a spec change) runs it again');
});

t.test('a worker killed mid-job: another worker takes the key over', async (t) => {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const h = harness(t);
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('../../helpers/stuck-worker.ts', import.meta.url)), REDIS_URL, h.prefix],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => void child.kill('SIGKILL'));
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  await h.enqueue('ns/orphan');
  await until(() => output.includes('started ns/orphan'), 'the doomed worker to take the job');
  child.kill('SIGKILL');
  const taken: string[] = [];
  const survivor = startQueueWorker({
    connections,
    prefix: h.prefix,
    concurrency: 1,
    lockDurationMs: 1000,
    backoff: { baseMs: 20, maxMs: 200 },
    log: testLogger(),
    handler: async (key) => {
      taken.push(key);
      return { kind: 'done' };
    },
  });
  t.teardown(() => survivor.close(1000));
  await until(() => taken.includes('ns/orphan'), 'the job to be taken over once its lock lapsed', 20_000);
  t.same(taken, ['ns/orphan']);
});

t.test('a new request for a key waiting out a delay runs it now', async (t) => {
  const h = harness(t);
  const runs: number[] = [];
  h.worker(async () => {
    runs.push(Date.now());
    return runs.length === 1
      ? { kind: 'requeue', afterMs: 60_000, reason: 'no load balancer address yet' }
      : { kind: 'done' };
  });
  await h.enqueue('ns/waiting');
  await until(
    async () => runs.length === 1 && (await h.queue.getDelayedCount()) === 1,
    'the reconcile to be put off for a minute',
  );
  await h.enqueue('ns/waiting');
  t.equal(await h.queue.getDelayedCount(), 1, 'a request that changes nothing (a resync) joins the waiting job');
  t.equal(runs.length, 1);
  await h.enqueue('ns/waiting', { replace: true });
  await until(() => runs.length === 2, 'the reconcile to run again at once', 10_000);
  t.equal(runs.length, 2, 'the change (an Ingress address, say) is acted on without waiting out the minute');
});

t.test(
  "a backoff that honours Retry-After is not cut short by a resync, and the handler's attempt count wins",
  async (t) => {
    const h = harness(t);
    const runs: number[] = [];
    h.worker(
      async () => {
        runs.push(Date.now());
        throw new RetryableError('throttled', { retryAfterMs: 60_000, attempt: 7 });
      },
      4,
      { baseMs: 20, maxMs: 3_600_000 },
    );
    await h.enqueue('ns/throttled');
    await until(async () => runs.length === 1 && (await h.queue.getDelayedCount()) === 1, 'the backoff');
    const [job] = await h.queue.getDelayed();
    t.ok((job?.delay ?? 0) >= 60_000, 'waits at least Retry-After', { delay: job?.delay });
    for (let i = 0; i < 3; i++) await h.enqueue('ns/throttled');
    t.equal(await h.queue.getDelayedCount(), 1, 'resync requests join the backoff');
    const [still] = await h.queue.getDelayed();
    t.equal(still?.id, job?.id, 'the same job, waiting on');
    t.equal(runs.length, 1, 'no early call');
  },
);

t.test("the backoff follows the attempt count the handler reports, not the job's own", async (t) => {
  const h = harness(t);
  h.worker(
    async () => {
      throw new RetryableError('still failing', { attempt: 10 });
    },
    4,
    { baseMs: 1000, maxMs: 3_600_000 },
  );
  await h.enqueue('ns/carried');
  await until(async () => (await h.queue.getDelayedCount()) === 1, 'the backoff');
  const [job] = await h.queue.getDelayed();
  t.equal(job?.attemptsMade, 1, "BullMQ's count: the first failure of this job");
  t.ok((job?.delay ?? 0) >= 256_000, 'delayed as the 10th failure: at least half of 1 s × 2^9', { delay: job?.delay });
});
