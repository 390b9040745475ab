import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { recordedRequest, type RecordedHttpRequest } from '../test/fakes/recorded-request.ts';
import { ownRedis } from '../test/helpers/redis-server.ts';
import { fixtureObject, fixtureText } from '../test/helpers/resources.ts';
import { startReconcilerEnvironment, type ReconcilerEnvironment } from '../test/helpers/reconciler-env.ts';
import type { FloorResult } from './floor-client.ts';
import { recordedTraffic, replayFloor } from './floor.ts';
import { cpuSeconds, vm } from './proc-stats.ts';
import { redisMemory, type RedisMemory } from './redis-memory.ts';

/**
 * `npm run bench:reconcile`: N ExposedAPIs (default 1,000, BENCH_APIS) created
 * at once against the ARM stand-in with a latency per call (default 100 ms,
 * BENCH_LATENCY_MS), reconciled by 1 and by 4 real worker processes
 * (`reconciler/main.ts`) sharing one Redis queue and one APIM write limit.
 * Reports the time until every one is Ready, APIM calls per API, the calls of
 * a full resync of the unchanged resources (the product's own: POST /resync,
 * a new drift-check epoch), the peak RSS and CPU seconds of each worker, the
 * Redis memory (a redis-server of the run's own), and the floor: the CPU a
 * bare HTTP client spends replaying the publish's requests (floor-client.ts).
 * BENCH_WORKER_CPU_PROF=dir writes each worker's CPU profile (--cpu-prof) there.
 * The stand-ins (Kubernetes, Entra, Key Vault, ARM, the spec server) and an
 * "ingress controller" loop run in this process and share its CPU.
 * The last line of stdout is the result as JSON.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const N = Number(process.env.BENCH_APIS ?? 1000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
// The stand-in does not throttle: the budget is set out of the way, so that the figures are the reconciler's own.
const WRITES_PER_SECOND = Number(process.env.BENCH_WRITES_PER_SECOND ?? 10_000);
const READS_PER_SECOND = Number(process.env.BENCH_READS_PER_SECOND ?? 10_000);
/** ARM's token buckets, never near empty at the bench's rates: they never refuse, and report a large remaining budget. */
const ARM_FAR_FROM_EMPTY = {
  reads: { capacity: 10_000_000, perSecond: 1_000_000 },
  writes: { capacity: 10_000_000, perSecond: 1_000_000 },
};
const SPEC = (['small', 'tmf620-no-304'] as const).find((s) => s === process.env.BENCH_SPEC) ?? 'tmf620';
const WORKER_COUNTS = (process.env.BENCH_WORKERS ?? '1,4').split(',').map(Number);
/**
 * How often the bench looks at the stand-in's Ingresses (every half) and ExposedAPIs. Each look copies every object
 * in the process that also serves the stand-ins, so at 5,000 APIs a fixed 100 ms kept that process busy and the
 * workers waited on it; from 1,000 APIs up it grows with N (100 ms at 1,000, 500 ms at 5,000).
 */
const POLL_MS = Math.max(100, N / 10);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 600) * 1000;
const PROFILE_DIR = process.env.BENCH_WORKER_CPU_PROF;
const IDLE_SAMPLE_MS = 5000;
// BENCH_WORKER_MAX_OLD_SPACE_MB / _SEMI_SPACE_MB: the worker's V8 heap bounds, as the chart's reconciler.heap sets them.
const heapFlag = (setting: string, flag: string) => (process.env[setting] ? [`--${flag}=${process.env[setting]}`] : []);
const WORKER_NODE_ARGS = [
  ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []),
  ...heapFlag('BENCH_WORKER_MAX_OLD_SPACE_MB', 'max-old-space-size'),
  ...heapFlag('BENCH_WORKER_MAX_SEMI_SPACE_MB', 'max-semi-space-size'),
];
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
let aborted = false;
const sleep = (ms: number) => {
  if (aborted) throw new Error('interrupted');
  return new Promise((r) => setTimeout(r, ms));
};
// Ctrl-C: the waiting loops throw, so the workers are stopped and the queue removed.
process.once('SIGINT', () => {
  aborted = true;
});
process.once('SIGTERM', () => {
  aborted = true;
});

/** A tiny OpenAPI 3 document (one operation), for BENCH_SPEC=small. */
const SMALL_SPEC = JSON.stringify({
  openapi: '3.0.3',
  info: { title: 'Small', version: '1.0.0' },
  paths: { '/items': { get: { operationId: 'listItems', responses: { '200': { description: 'ok' } } } } },
});

interface Worker {
  child: ChildProcess;
  adminUrl: Promise<string>;
  peakRssKb: number;
  startRssKb: number;
  exited: boolean;
  /** CPU seconds used at the start of the publish and at its end. */
  cpu: { start: number; published: number };
}

/** Warning and error log lines of every worker, by message (and error, cut short). */
const problems: Record<string, number> = {};

interface ResyncResult {
  seconds: number;
  reconciles: number;
  apim: { reads: number; writes: number; writesByPath: Record<string, number> };
  kube: { reads: number; writes: number; watches: number; writesByPath: Record<string, number> };
  /** Each worker's. */
  cpuSeconds: number[];
}

interface RunResult {
  workers: number;
  apis: number;
  secondsToAllReady: number;
  apimPerApi: { reads: number; writes: number; writesByPath: Record<string, number> };
  kubePerApi: { reads: number; writes: number; watches: number };
  reconciles: Record<string, number>;
  /** The first resync after the publish, and the next one (as every later one). */
  resync: ResyncResult;
  steadyResync: ResyncResult;
  peakRssMbPerWorker: number[];
  startRssMbPerWorker: number[];
  /** CPU seconds of each worker over the publish (until all Ready and settled). */
  workerCpuSeconds: { publish: number[] };
  cpuPerApiMs: { publish: number; resync: number; steadyResync: number; floor: number };
  /** CPU milliseconds per second of an idle worker (measured for 5 s between the publish and the resync). */
  idleCpuMsPerSecond: number;
  floor: FloorResult;
  redisMb: { afterPublish: RedisMemory; afterResync: RedisMemory };
  benchProcessCpuSeconds: number;
  specFetches: { full: number; notModified: number };
  workerWarnings: Record<string, number>;
}

function startWorker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, [...WORKER_NODE_ARGS, join(root, 'reconciler/main.ts')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const worker: Worker = {
    child,
    adminUrl: Promise.resolve(''),
    peakRssKb: 0,
    startRssKb: 0,
    exited: false,
    cpu: { start: 0, published: 0 },
  };
  worker.adminUrl = new Promise((resolve, reject) => {
    let buffer = '';
    let found = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (!found && line.includes('"Reconciler started"')) {
          found = true;
          resolve(`http://127.0.0.1:${JSON.parse(line).adminPort}`);
        }
        if (/"level":(40|50|60)/.test(line)) {
          try {
            const entry = JSON.parse(line);
            const what = `${entry.msg}${entry.err ? `: ${String(entry.err).slice(0, 120)}` : ''}`;
            problems[what] = (problems[what] ?? 0) + 1;
          } catch {
            /* not JSON */
          }
        }
        if (line.includes('"level":60')) console.error(line);
      }
    });
    child.once('exit', (code) => {
      worker.exited = true;
      if (!found) reject(new Error(`reconciler exited with ${code} before starting`));
    });
  });
  return worker;
}

/** Sum of a counter over every worker's /metrics, by one label. */
async function counter(workers: Worker[], name: string, label: string): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const w of workers) {
    const text = await (await fetch(`${await w.adminUrl}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      const key = new RegExp(`${label}="([^"]*)"`).exec(line)?.[1] ?? '';
      totals[key] = (totals[key] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return totals;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

function kubeWrites(world: ReconcilerEnvironment): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of world.kube.requests) {
    if (!['create', 'update', 'patch', 'delete', 'deletecollection'].includes(r.verb)) continue;
    const what = `${r.verb} ${r.path.replace(/bench-\d+/g, '*').replace(/\?.*$/, '')}`;
    out[what] = (out[what] ?? 0) + 1;
  }
  return out;
}

function kubeCounts(world: ReconcilerEnvironment) {
  const reqs = world.kube.requests;
  const writes = reqs.filter((r) =>
    ['create', 'update', 'patch', 'delete', 'deletecollection'].includes(r.verb),
  ).length;
  const watches = reqs.filter((r) => r.verb === 'watch').length;
  return { reads: reqs.length - writes - watches, writes, watches };
}

/** APIM non-GET calls by kind (names replaced by *). POST listSecrets is an ARM action that reads. */
function apimWrites(world: ReconcilerEnvironment): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of world.azure.arm.requests) {
    if (r.method === 'GET' || r.method === 'HEAD') continue;
    const what = `${r.method} ${r.path.replace(/bench-\d+/g, '*').replace(/components-[^/]*/g, '*')}`;
    out[what] = (out[what] ?? 0) + 1;
  }
  return out;
}

/** Asks one worker for the product's resync (POST /resync on its admin port, with the dashboard credential). */
async function askForResync(worker: Worker, token: string): Promise<number> {
  const answer = await fetch(`${await worker.adminUrl}/resync`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  if (answer.status !== 202) throw new Error(`POST /resync answered ${answer.status}: ${await answer.text()}`);
  return ((await answer.json()) as { queued: number }).queued;
}

const sumOf = (values: number[]) => values.reduce((a, b) => a + b, 0);

async function run(workerCount: number): Promise<RunResult> {
  for (const k of Object.keys(problems)) delete problems[k];
  // A Redis of the run's own: its memory figures are the operator's alone, not those of whatever else shares 6379.
  const redis = await ownRedis();
  const world = await startReconcilerEnvironment({ recordBodies: true, redisUrl: redis.url });
  const cpuStart = process.cpuUsage();
  const credentials = mkdtempSync(join(tmpdir(), 'apim-bench-'));
  const adminToken = `bench-${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(credentials, 'token'), adminToken);
  const specRequests: RecordedHttpRequest[] = [];
  // The document, served with an ETag and answering If-None-Match with 304 as GitHub raw and most servers do
  // (test/helpers/spec-server.ts always answers 200: BENCH_SPEC=tmf620-no-304 uses it, so every reconcile re-parses).
  const documentText = SPEC === 'small' ? SMALL_SPEC : fixtureText('TMF620-ProductCatalog-v4.0.0.swagger.json');
  const etag = SPEC === 'small' ? '"small-v1"' : '"tmf620-v1"';
  const specFetches = { full: 0, notModified: 0 };
  const specServer = createServer((req, res) => {
    specRequests.push(recordedRequest(req, ''));
    if (req.headers['if-none-match'] === etag) {
      specFetches.notModified++;
      res.writeHead(304, { etag }).end();
      return;
    }
    specFetches.full++;
    res.writeHead(200, { 'content-type': 'application/json', etag }).end(documentText);
  });
  await new Promise<void>((r) => specServer.listen(0, '127.0.0.1', r));
  const specUrl =
    SPEC === 'tmf620-no-304'
      ? `${world.specs.url}/tmf620.json`
      : `http://127.0.0.1:${(specServer.address() as AddressInfo).port}/spec.json`;
  const env: Record<string, string> = {
    ...world.env,
    NODE_EXTRA_CA_CERTS: world.azure.caFile,
    LOG_LEVEL: 'info',
    RECONCILE_CONCURRENCY: String(CONCURRENCY),
    APIM_WRITES_PER_SECOND: String(WRITES_PER_SECOND),
    APIM_READS_PER_SECOND: String(READS_PER_SECOND),
    APIM_POLL_INTERVAL_MS: '50',
    RESYNC_INTERVAL_SECONDS: '86400',
    BACKOFF_BASE_MS: '200',
    BACKOFF_MAX_MS: '5000',
    SHUTDOWN_GRACE_SECONDS: '5',
    DASHBOARD_TOKEN_FILE: join(credentials, 'token'),
  };
  const workers: Worker[] = [];
  let sampling: NodeJS.Timeout | undefined;
  let controller = true;
  try {
    for (let i = 0; i < workerCount; i++) workers.push(startWorker(env));
    await Promise.all(workers.map((w) => w.adminUrl));
    for (const w of workers) w.startRssKb = vm(w.child.pid!, 'VmRSS');
    sampling = setInterval(() => {
      for (const w of workers)
        if (!w.exited) w.peakRssKb = Math.max(w.peakRssKb, vm(w.child.pid!, 'VmHWM'), vm(w.child.pid!, 'VmRSS'));
    }, 500);
    world.azure.arm.setLatency(LATENCY_MS);
    // ARM's answers report a budget far from empty, as they do when the operator's rates are below ARM's own
    // (the default model counts down hourly allowances, which 1,000 APIs' writes exhaust, making every answer lower
    // the shared budget in Redis: a cost production does not see).
    world.azure.arm.throttleLikeArm(ARM_FAR_FROM_EMPTY);
    world.azure.arm.resetLog();
    world.kube.clearRequests();
    specRequests.length = 0;
    for (const w of workers) w.cpu.start = cpuSeconds(w.child.pid!);

    // The ingress controller: every Ingress gets a load-balancer address as soon as it exists.
    const networking = world.kube.kubeconfig().makeApiClient(NetworkingV1Api);
    const addressed = new Set<string>();
    const ingressLoop = (async () => {
      while (controller) {
        const pending = world.kube
          .objects('ingresses')
          .filter(
            (i: any) =>
              !addressed.has(`${i.metadata.namespace}/${i.metadata.name}`) && !i.status?.loadBalancer?.ingress?.length,
          );
        await Promise.all(
          pending.map(async (i: any) => {
            const key = `${i.metadata.namespace}/${i.metadata.name}`;
            addressed.add(key);
            await networking
              .patchNamespacedIngressStatus(
                {
                  namespace: i.metadata.namespace,
                  name: i.metadata.name,
                  body: { status: { loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } } },
                },
                merge,
              )
              .catch(() => addressed.delete(key));
          }),
        );
        await sleep(POLL_MS / 2);
      }
    })();

    const custom = world.kube.kubeconfig().makeApiClient(CustomObjectsApi);
    const template = fixtureObject('exposedapi-v1-full-example.yaml');
    const started = performance.now();
    const names: string[] = [];
    for (let i = 0; i < N; i++) names.push(`bench-${String(i).padStart(4, '0')}`);
    // Created at once, 50 requests in flight (as many `kubectl apply`s would).
    const todo = [...names];
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        for (let name = todo.shift(); name !== undefined; name = todo.shift()) {
          const body = structuredClone(template);
          body.metadata = { name, namespace: 'components', finalizers: ['oda.tmforum.org/apim-cleanup'] };
          body.spec.path = `/${name}/tmf-api/productCatalogManagement/v4`;
          body.spec.developerUI = `/${name}/tmf-api/productCatalogManagement/v4/docs`;
          body.spec.specification.url = specUrl;
          await custom.createNamespacedCustomObject({
            group: 'oda.tmforum.org',
            version: 'v1',
            namespace: 'components',
            plural: 'exposedapis',
            body,
          });
        }
      }),
    );
    const createdSeconds = (performance.now() - started) / 1000;

    let lastReport = 0;
    for (;;) {
      const objects = world.kube.objects('exposedapis', 'components');
      const ready = objects.filter((o: any) => o.status?.implementation?.ready === true).length;
      const elapsed = performance.now() - started;
      if (elapsed - lastReport > 10_000) {
        lastReport = elapsed;
        process.stderr.write(
          `  [${workerCount} worker(s)] ${(elapsed / 1000).toFixed(0)} s: ${ready}/${N} ready, APIM calls so far ${world.azure.arm.calls().total}\n`,
        );
      }
      if (ready === N) break;
      if (workers.some((w) => w.exited)) throw new Error('a worker exited');
      if (elapsed > TIMEOUT_MS) throw new Error(`only ${ready}/${N} Ready after ${TIMEOUT_MS / 1000} s`);
      await sleep(POLL_MS);
    }
    const secondsToAllReady = (performance.now() - started) / 1000;
    process.stderr.write(
      `  [${workerCount} worker(s)] all ${N} Ready in ${secondsToAllReady.toFixed(1)} s (creation took ${createdSeconds.toFixed(1)} s)\n`,
    );
    const publish = world.azure.arm.calls();
    const publishWrites = apimWrites(world);
    const kubePublish = kubeCounts(world);

    // Let delayed/queued follow-ups (e.g. the status write's own watch event) settle before the resync.
    await world.idle();
    await sleep(1000);
    await world.idle();
    controller = false;
    await ingressLoop;
    for (const w of workers) w.cpu.published = cpuSeconds(w.child.pid!);
    // What a worker spends doing nothing (queue polling, informers, timers), to read the resync's figure against.
    await sleep(IDLE_SAMPLE_MS);
    const idleCpuMsPerSecond = round(
      (sumOf(workers.map((w) => cpuSeconds(w.child.pid!) - w.cpu.published)) * 1e6) / IDLE_SAMPLE_MS / workerCount,
    );
    for (const w of workers) w.cpu.published = cpuSeconds(w.child.pid!);
    const publishTraffic = recordedTraffic(world, specRequests);
    const reconciles = await counter(workers, 'apim_operator_reconciles_total', 'result');
    const redisAfterPublish = await redisMemory(redis.url);

    // The product's resync of the unchanged resources, asked of one worker: a new drift-check epoch and every key
    // queued once, as the periodic one does (which spreads them over the interval instead). Twice: the first after
    // the publish meets each API's policy as APIM reformatted it for the first time; the next is every later one.
    const resyncOnce = async () => {
      world.azure.arm.resetLog();
      world.kube.clearRequests();
      const cpuBefore = workers.map((w) => cpuSeconds(w.child.pid!));
      const before = sum(await counter(workers, 'apim_operator_reconciles_total', 'result'));
      const resyncStart = performance.now();
      const queued = await askForResync(workers[0]!, adminToken);
      if (queued !== N) throw new Error(`the resync queued ${queued} keys, not ${N}`);
      // Watched through Redis, not the workers' /metrics: a scrape every 100 ms was 6 % of the resync's worker CPU.
      for (;;) {
        await world.idle();
        const done = sum(await counter(workers, 'apim_operator_reconciles_total', 'result')) - before;
        if (done >= N) break;
        if (performance.now() - resyncStart > TIMEOUT_MS) throw new Error(`resync: only ${done}/${N} reconciles`);
        await sleep(1000);
      }
      const seconds = (performance.now() - resyncStart) / 1000;
      const reconciled = sum(await counter(workers, 'apim_operator_reconciles_total', 'result')) - before;
      const cpu = workers.map((w, i) => cpuSeconds(w.child.pid!) - cpuBefore[i]!);
      const apim = world.azure.arm.calls();
      const kube = kubeCounts(world);
      return {
        seconds: round(seconds),
        reconciles: reconciled,
        apim: { reads: apim.reads, writes: apim.writes, writesByPath: apimWrites(world) },
        // Before the floor replays its writes into the same stand-in.
        kube: { reads: kube.reads, writes: kube.writes, watches: kube.watches, writesByPath: kubeWrites(world) },
        cpuSeconds: cpu,
      };
    };
    const resync = await resyncOnce();
    const redisAfterResync = await redisMemory(redis.url);
    const steadyResync = await resyncOnce();
    for (const w of workers) w.peakRssKb = Math.max(w.peakRssKb, vm(w.child.pid!, 'VmHWM'));

    process.stderr.write(`  [${workerCount} worker(s)] floor client: replaying the publish's requests...\n`);
    const floor = await replayFloor(
      publishTraffic,
      { arm: world.azure.arm.url, kube: world.kube.url, spec: new URL(specUrl).origin },
      workerCount * CONCURRENCY,
      { ...world.env, NODE_EXTRA_CA_CERTS: world.azure.caFile },
    );
    const publishCpu = workers.map((w) => w.cpu.published - w.cpu.start);
    const cpu = process.cpuUsage(cpuStart);
    return {
      workers: workerCount,
      apis: N,
      secondsToAllReady: round(secondsToAllReady),
      apimPerApi: { reads: round(publish.reads / N), writes: round(publish.writes / N), writesByPath: publishWrites },
      kubePerApi: {
        reads: round(kubePublish.reads / N),
        writes: round(kubePublish.writes / N),
        watches: kubePublish.watches,
      },
      reconciles,
      resync: { ...resync, cpuSeconds: resync.cpuSeconds.map(round) },
      steadyResync: { ...steadyResync, cpuSeconds: steadyResync.cpuSeconds.map(round) },
      peakRssMbPerWorker: workers.map((w) => round(w.peakRssKb / 1024)),
      startRssMbPerWorker: workers.map((w) => round(w.startRssKb / 1024)),
      workerCpuSeconds: { publish: publishCpu.map(round) },
      cpuPerApiMs: {
        publish: round((sumOf(publishCpu) * 1000) / N),
        resync: round((sumOf(resync.cpuSeconds) * 1000) / N),
        steadyResync: round((sumOf(steadyResync.cpuSeconds) * 1000) / N),
        floor: round((floor.cpuSeconds * 1000) / N),
      },
      idleCpuMsPerSecond,
      floor: { ...floor, cpuSeconds: round(floor.cpuSeconds), seconds: round(floor.seconds) },
      redisMb: {
        afterPublish: { usedMb: round(redisAfterPublish.usedMb), peakMb: round(redisAfterPublish.peakMb) },
        afterResync: { usedMb: round(redisAfterResync.usedMb), peakMb: round(redisAfterResync.peakMb) },
      },
      benchProcessCpuSeconds: round((cpu.user + cpu.system) / 1e6),
      specFetches,
      workerWarnings: { ...problems },
    };
  } finally {
    controller = false;
    if (sampling) clearInterval(sampling);
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exited) return resolve();
            w.child.once('exit', () => resolve());
            w.child.kill('SIGTERM');
            setTimeout(() => {
              if (!w.exited) w.child.kill('SIGKILL');
            }, 10_000).unref();
          }),
      ),
    );
    world.azure.arm.setLatency(0);
    await world.close(); // obliterates the queue prefix
    await redis.stop();
    rmSync(credentials, { recursive: true, force: true });
    specServer.closeAllConnections();
    await new Promise((r) => specServer.close(r));
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

const results: RunResult[] = [];
// Workers run the working tree: name the commit, and whether reconciler/ or shared/ differ from it.
const git = (...args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};
const revision = `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'reconciler', 'shared') ? ' (reconciler/ or shared/ modified)' : ''}`;
console.log(
  `Reconciler benchmark: ${N} ExposedAPIs (v1 full example, spec ${SPEC === 'small' ? 'a small OpenAPI 3 document' : 'TMF620 Swagger, 350 KB, served locally'}${SPEC === 'tmf620-no-304' ? ' without 304s' : ' with ETag/304'}), ARM latency ${LATENCY_MS} ms per call,`,
);
console.log(
  `RECONCILE_CONCURRENCY=${CONCURRENCY} per process, APIM_READS_PER_SECOND=${READS_PER_SECOND}, APIM_WRITES_PER_SECOND=${WRITES_PER_SECOND} (shared through Redis), APIM_POLL_INTERVAL_MS=50, ${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'}.`,
);
console.log(
  `The stand-ins and the ingress-controller loop run in this process and share the machine's CPUs with the workers. Code: ${revision}.\n`,
);
for (const count of WORKER_COUNTS) {
  process.stderr.write(`Run with ${count} worker process(es)...\n`);
  results.push(await run(count));
}

/** POST .../listSecrets reads a subscription's keys (an ARM action): the stand-in counts it with the writes, by method. */
const listSecrets = (byPath: Record<string, number>) =>
  Object.entries(byPath)
    .filter(([k]) => k.endsWith('/listSecrets'))
    .reduce((a, [, v]) => a + v, 0);

const rows: [string, (r: RunResult) => string][] = [
  ['worker processes', (r) => String(r.workers)],
  ['time until all Ready (s)', (r) => r.secondsToAllReady.toFixed(1)],
  ['Ready per second', (r) => (r.apis / r.secondsToAllReady).toFixed(1)],
  ['APIM reads per API', (r) => r.apimPerApi.reads.toFixed(2)],
  [
    'APIM writes per API (POST listSecrets)',
    (r) => `${r.apimPerApi.writes.toFixed(2)} (${(listSecrets(r.apimPerApi.writesByPath) / r.apis).toFixed(2)})`,
  ],
  [
    'Kubernetes reads / writes per API *',
    (r) => `${r.kubePerApi.reads.toFixed(2)} / ${r.kubePerApi.writes.toFixed(2)}`,
  ],
  [
    'reconciles by result',
    (r) =>
      Object.entries(r.reconciles)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
  ],
  ['resync: time (s)', (r) => r.resync.seconds.toFixed(1)],
  ['resync: reconciles', (r) => String(r.resync.reconciles)],
  [
    'resync: APIM reads / writes (listSecrets)',
    (r) => `${r.resync.apim.reads} / ${r.resync.apim.writes} (${listSecrets(r.resync.apim.writesByPath)})`,
  ],
  ['resync: Kubernetes reads / writes', (r) => `${r.resync.kube.reads} / ${r.resync.kube.writes}`],
  [
    'resync: Kubernetes requests, ARM requests / N',
    (r) =>
      `${r.resync.kube.reads + r.resync.kube.writes}, ${((r.resync.apim.reads + r.resync.apim.writes) / r.apis).toFixed(3)}`,
  ],
  [
    'worker CPU per API: publish / resync / next resync (ms)',
    (r) => `${r.cpuPerApiMs.publish} / ${r.cpuPerApiMs.resync} / ${r.cpuPerApiMs.steadyResync}`,
  ],
  ['floor client CPU per API (ms)', (r) => String(r.cpuPerApiMs.floor)],
  ['idle worker CPU (ms per s)', (r) => String(r.idleCpuMsPerSecond)],
  ['publish CPU / floor CPU', (r) => (r.cpuPerApiMs.publish / r.cpuPerApiMs.floor).toFixed(2)],
  [
    'resync CPU / publish CPU: first, next',
    (r) =>
      `${(r.cpuPerApiMs.resync / r.cpuPerApiMs.publish).toFixed(3)}, ${(r.cpuPerApiMs.steadyResync / r.cpuPerApiMs.publish).toFixed(3)}`,
  ],
  [
    'Redis used / peak MB: publish, resync',
    (r) =>
      `${r.redisMb.afterPublish.usedMb.toFixed(1)}/${r.redisMb.afterPublish.peakMb.toFixed(1)}, ${r.redisMb.afterResync.usedMb.toFixed(1)}/${r.redisMb.afterResync.peakMb.toFixed(1)}`,
  ],
  ['RSS per worker after start (MB)', (r) => r.startRssMbPerWorker.map((m) => m.toFixed(0)).join(', ')],
  ['peak RSS per worker (MB)', (r) => r.peakRssMbPerWorker.map((m) => m.toFixed(0)).join(', ')],
  ['spec fetches: 200 / 304', (r) => `${r.specFetches.full} / ${r.specFetches.notModified}`],
  ['bench process CPU (s)', (r) => r.benchProcessCpuSeconds.toFixed(1)],
];
const width = Math.max(...rows.map(([label]) => label.length));
const colWidth = Math.max(14, ...results.flatMap((r) => rows.map(([, f]) => f(r).length)));
for (const [label, f] of rows)
  console.log(`${label.padEnd(width)}  ${results.map((r) => f(r).padStart(colWidth)).join('  ')}`);
console.log(
  "* including the bench's own 2 writes per API (create, Ingress status). POST listSecrets reads keys but counts as an ARM write.",
);
for (const r of results) {
  if (Object.keys(r.workerWarnings).length > 0)
    console.log(`worker warnings (${r.workers} worker(s)): ${JSON.stringify(r.workerWarnings)}`);
  if (r.resync.kube.writes > 0)
    console.log(`resync Kubernetes writes (${r.workers} worker(s)): ${JSON.stringify(r.resync.kube.writesByPath)}`);
}
console.log(
  JSON.stringify({
    revision,
    apis: N,
    latencyMs: LATENCY_MS,
    concurrency: CONCURRENCY,
    apimWritesPerSecond: WRITES_PER_SECOND,
    apimReadsPerSecond: READS_PER_SECOND,
    spec: SPEC,
    runs: results,
  }),
);
process.exit(0);
