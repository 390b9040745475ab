import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { makeCerts } from '../test/helpers/certs.ts';
import { admissionReview, get, trustingAgent } from '../test/helpers/admission.ts';
import { fixtureObject, fixtureText } from '../test/helpers/resources.ts';
import { startSpecServer } from '../test/helpers/spec-server.ts';
import { freePort } from '../test/helpers/redis-server.ts';
import { createSpecChecker, SPEC_CHECK_DEFAULTS } from '../shared/openapi/spec-checker.ts';
import { silentLogger } from '../shared/log.ts';
import { RECONCILE_QUEUE } from '../shared/jobs.ts';

/**
 * `npm run bench`: admissions per second and latency of the webhook for a
 * typical ExposedAPI, beside a bare fastify TLS server answering a fixed
 * AdmissionReview on the same machine (the ceiling); and the first and
 * cached validation time of the TMF620 Swagger document.
 * BENCH_SERVER_CPU_PROF=dir writes the CPU profiles (--cpu-prof) of the webhook
 * and of the bare server into dir/main and dir/bare-server
 * (`npx node bench/cpu-profile-top.ts dir/main` lists the webhook's).
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const certs = makeCerts();
const specs = await startSpecServer();
const work = mkdtempSync(join(tmpdir(), 'apim-bench-'));

interface Load {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  requests: number;
}

const profileDir = process.env.BENCH_SERVER_CPU_PROF;

function child(script: string, env: Record<string, string>): ChildProcess {
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, basename(script, '.ts'))}`] : [];
  return spawn(process.execPath, [...profile, join(root, script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function load(url: string, bodyFile: string, extra: string[]): Promise<Load> {
  const p = spawn(
    process.execPath,
    [
      join(root, 'bench/load.ts'),
      `--url=${url}`,
      `--body=${bodyFile}`,
      `--ca=${certs.caFile}`,
      `--seconds=${seconds}`,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  p.stdout?.on('data', (d) => (out += d));
  await new Promise((resolve) => p.on('exit', resolve));
  return JSON.parse(out) as Load;
}

async function waitHealthy(base: string): Promise<void> {
  const agent = trustingAgent(certs.ca);
  for (let i = 0; i < 300; i++) {
    if ((await get(agent, `${base}/healthz`).catch(() => ({ status: 0 }))).status === 200) return agent.close();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${base} did not become healthy`);
}

interface Target {
  readonly name: string;
  readonly url: string;
  readonly body: string;
  readonly extra: readonly string[];
}

async function startServer(
  script: string,
  env: Record<string, string>,
): Promise<{ base: string; stop(): Promise<void> }> {
  const port = await freePort();
  const server = child(script, {
    WEBHOOK_PORT: String(port),
    WEBHOOK_TLS_CERT: certs.certFile,
    WEBHOOK_TLS_KEY: certs.keyFile,
    LOG_LEVEL: 'warn',
    ...env,
  });
  const base = `https://127.0.0.1:${port}`;
  await waitHealthy(base).catch(() => {
    throw new Error(`${script} did not start`);
  });
  return {
    base,
    stop: async () => {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    },
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/**
 * Rounds that take turns between the targets, so that a slow spell of this
 * shared machine hits each of them alike; the medians are reported. Each
 * round: saturation with a closed loop, then latency at half of it with an
 * open loop.
 */
async function measureInTurns(
  targets: readonly Target[],
  rounds: number,
): Promise<Map<string, { max: Load; half: Load }>> {
  const runs = new Map<string, { max: Load; half: Load }[]>(targets.map((x) => [x.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) {
      const max = await load(target.url, target.body, ['--concurrency=32', ...target.extra]);
      const half = await load(target.url, target.body, [
        `--rate=${Math.round(max.perSecond / 2)}`,
        '--concurrency=64',
        ...target.extra,
      ]);
      runs.get(target.name)?.push({ max, half });
    }
  }
  const pick = (rs: { max: Load; half: Load }[], f: (r: { max: Load; half: Load }) => number): number =>
    median(rs.map(f));
  return new Map(
    [...runs].map(([name, rs]) => [
      name,
      {
        max: {
          ...rs[0]!.max,
          perSecond: pick(rs, (r) => r.max.perSecond),
          errors: rs.reduce((n, r) => n + r.max.errors, 0),
        },
        half: {
          ...rs[0]!.half,
          perSecond: pick(rs, (r) => r.half.perSecond),
          p50Ms: pick(rs, (r) => r.half.p50Ms),
          p99Ms: pick(rs, (r) => r.half.p99Ms),
          errors: rs.reduce((n, r) => n + r.half.errors, 0),
        },
      },
    ]),
  );
}

async function validationTimes(): Promise<Record<string, number>> {
  const checker = createSpecChecker({ ...SPEC_CHECK_DEFAULTS, log: silentLogger() });
  const text = fixtureText('TMF620-ProductCatalog-v4.0.0.swagger.json');
  const time = async (f: () => Promise<unknown>): Promise<number> => {
    const t0 = process.hrtime.bigint();
    await f();
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const result = {
    inlineFirstMs: await time(() => checker.checkInline(text)),
    inlineCachedMs: await time(() => checker.checkInline(text)),
    urlFirstMs: await time(() => checker.checkUrl(`${specs.url}/tmf620.json`)),
    urlCachedMs: await time(() => checker.checkUrl(`${specs.url}/tmf620.json`)),
  };
  await checker.close();
  return result;
}

const typical = fixtureObject('exposedapi-v1-full-example.yaml');
typical.spec.specification.url = `${specs.url}/tmf620.json`;
const bodyFile = join(work, 'review.json');
writeFileSync(bodyFile, JSON.stringify(admissionReview(typical)));
// The same resource under a new name each time: every admission queues a reconcile of its own.
const distinctFile = join(work, 'review-distinct.json');
typical.metadata.name = 'bench-__N__';
writeFileSync(distinctFile, JSON.stringify(admissionReview(typical)));

const times = await validationTimes();
const prefix = `bench-${randomUUID()}`;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const bare = await startServer('bench/bare-server.ts', {});
const webhook = await startServer('webhook/main.ts', { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix });
const results = await measureInTurns(
  [
    { name: 'ceiling', url: `${bare.base}/validate`, body: bodyFile, extra: [] },
    { name: 'same', url: `${webhook.base}/validate`, body: bodyFile, extra: [] },
    { name: 'distinct', url: `${webhook.base}/validate`, body: distinctFile, extra: ['--distinct'] },
  ],
  rounds,
);
await Promise.all([bare.stop(), webhook.stop()]);
const ceiling = results.get('ceiling')!;
const ours = results.get('same')!;
const oursDistinct = results.get('distinct')!;
const queue = new Queue(RECONCILE_QUEUE, { connection: { url: redisUrl } as never, prefix });
await queue.obliterate({ force: true });
await queue.close();
await specs.close();

const row = (name: string, r: { max: Load; half: Load }): string =>
  `${name.padEnd(26)} ${r.max.perSecond.toFixed(0).padStart(8)} /s   p50 ${r.half.p50Ms.toFixed(2).padStart(6)} ms   p99 ${r.half.p99Ms.toFixed(2).padStart(6)} ms   at ${r.half.perSecond.toFixed(0)} /s   errors ${r.max.errors + r.half.errors}`;
console.log(
  `\nAdmission throughput (closed loop, 32 connections, ${seconds} s) and latency at half of it (open loop); medians of ${rounds} rounds taken in turns:`,
);
console.log(row('bare fastify TLS (ceiling)', ceiling));
console.log(row('webhook, same resource', ours));
console.log(row('webhook, new resource each', oursDistinct));
console.log(
  `ratio to the ceiling: ${(ours.max.perSecond / ceiling.max.perSecond).toFixed(2)} same resource, ${(oursDistinct.max.perSecond / ceiling.max.perSecond).toFixed(2)} new resource each (goal ≥ 0.6)`,
);
console.log(
  `p99 at half saturation: webhook ${ours.half.p99Ms.toFixed(2)} ms same resource, ${oursDistinct.half.p99Ms.toFixed(2)} ms new resource each; bare server ${ceiling.half.p99Ms.toFixed(2)} ms at half of its own saturation (goal < 5 ms)`,
);
console.log(
  `\nTMF620 Swagger (350 KB) validation: inline first ${times.inlineFirstMs?.toFixed(1)} ms, cached ${times.inlineCachedMs?.toFixed(3)} ms; by URL first ${times.urlFirstMs?.toFixed(1)} ms, cached ${times.urlCachedMs?.toFixed(3)} ms`,
);
const figures = (r: { max: Load; half: Load }) => ({
  perSecond: Math.round(r.max.perSecond),
  halfP50Ms: r.half.p50Ms,
  halfP99Ms: r.half.p99Ms,
  errors: r.max.errors + r.half.errors,
});
// The last line is for scripts: every figure above, as JSON.
console.log(
  JSON.stringify({
    seconds,
    rounds,
    ceiling: figures(ceiling),
    same: figures(ours),
    distinct: figures(oursDistinct),
    ratioSame: ours.max.perSecond / ceiling.max.perSecond,
    ratioDistinct: oursDistinct.max.perSecond / ceiling.max.perSecond,
    validation: times,
  }),
);
