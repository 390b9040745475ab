import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench:scale`: runs `bench/reconcile.ts` at N = 100 and 1,000
 * ExposedAPIs (and 5,000 with BENCH_APIS=5000 or `--5000`), each with 1 and 4
 * worker processes, and writes the scaling table into docs/performance.md
 * between its markers, after each size. BENCH_SCALE_APIS=100,1000 picks the
 * sizes, BENCH_WORKERS=1,4 the worker counts; every other BENCH_* setting
 * passes through to each run. `--results a.out b.out` writes the table from
 * saved outputs of `npm run bench:reconcile` instead of running anything.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const DOC = `${root}docs/performance.md`;
const BEGIN = '<!-- scale-table:begin (npm run bench:scale writes this) -->';
const END = '<!-- scale-table:end -->';
const sizes = process.env.BENCH_SCALE_APIS
  ? process.env.BENCH_SCALE_APIS.split(',').map(Number)
  : [100, 1000, ...(process.env.BENCH_APIS === '5000' || process.argv.includes('--5000') ? [5000] : [])];

interface Run {
  workers: number;
  apis: number;
  secondsToAllReady: number;
  apimPerApi: { reads: number; writes: number };
  kubePerApi: { reads: number; writes: number };
  resync: { apim: { reads: number; writes: number }; kube: { reads: number; writes: number } };
  peakRssMbPerWorker: number[];
  redisMb: { afterPublish: { usedMb: number; peakMb: number }; afterResync: { usedMb: number; peakMb: number } };
  cpuPerApiMs: { publish: number; resync: number; steadyResync: number; floor: number };
}
interface Result {
  revision: string;
  latencyMs: number;
  concurrency: number;
  runs: Run[];
}

const HEADER = [
  'N',
  'workers',
  'time to all Ready (s)',
  'ARM reads / writes per API',
  'Kubernetes requests per API *',
  'resync: ARM requests / N',
  'resync: Kubernetes requests',
  'peak RSS per worker (MB)',
  'Redis used MB: publish / resync (peak)',
  'worker CPU per API: publish / resync / next resync (ms)',
  'resync CPU / publish CPU: first, next',
  'publish CPU / floor CPU',
];

function row(r: Run): string[] {
  const redis = r.redisMb;
  return [
    r.apis.toLocaleString('en'),
    String(r.workers),
    r.secondsToAllReady.toFixed(1),
    `${r.apimPerApi.reads.toFixed(2)} / ${r.apimPerApi.writes.toFixed(2)}`,
    (r.kubePerApi.reads + r.kubePerApi.writes).toFixed(2),
    ((r.resync.apim.reads + r.resync.apim.writes) / r.apis).toFixed(3),
    String(r.resync.kube.reads + r.resync.kube.writes),
    String(Math.round(Math.max(...r.peakRssMbPerWorker))),
    `${redis.afterPublish.usedMb.toFixed(1)} / ${redis.afterResync.usedMb.toFixed(1)} (${redis.afterResync.peakMb.toFixed(1)})`,
    `${r.cpuPerApiMs.publish.toFixed(1)} / ${r.cpuPerApiMs.resync.toFixed(1)} / ${r.cpuPerApiMs.steadyResync.toFixed(1)}`,
    `${(r.cpuPerApiMs.resync / r.cpuPerApiMs.publish).toFixed(3)}, ${(r.cpuPerApiMs.steadyResync / r.cpuPerApiMs.publish).toFixed(3)}`,
    (r.cpuPerApiMs.publish / r.cpuPerApiMs.floor).toFixed(2),
  ];
}

/** The result line of a bench:reconcile output (its last JSON line). */
const resultOf = (out: string): Result =>
  JSON.parse(
    out
      .trim()
      .split('\n')
      .findLast((line) => line.startsWith('{"revision"')) ?? '',
  ) as Result;

function writeTable(results: readonly Result[], load: readonly string[]): void {
  const lines = [
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map(() => '---').join('|')}|`,
    ...results.flatMap((r) => r.runs.map((run) => `| ${row(run).join(' | ')} |`)),
  ];
  const first = results[0]!;
  const revisions = [...new Set(results.map((r) => r.revision))].join(', ');
  const note =
    `Measured ${new Date().toISOString().slice(0, 10)} at code ${revisions}, ARM latency ${first.latencyMs} ms per call, ` +
    `RECONCILE_CONCURRENCY=${first.concurrency} per worker` +
    (load.length > 0
      ? `; 1-minute load average at the start of each size: ${load.join(', ')} (2 cores, shared).`
      : '.');
  const table = `${BEGIN}\n${note}\n\n${lines.join('\n')}\n${END}`;
  const doc = readFileSync(DOC, 'utf8');
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${DOC}: the markers ${BEGIN} and ${END} are missing; put them back`);
  writeFileSync(DOC, doc.slice(0, start) + table + doc.slice(end + END.length));
  process.stderr.write(`bench:scale: wrote the table into ${DOC}\n`);
}

const saved = process.argv.indexOf('--results');
if (saved >= 0) {
  writeTable(
    process.argv.slice(saved + 1).map((file) => resultOf(readFileSync(file, 'utf8'))),
    [],
  );
} else {
  const workers = process.env.BENCH_WORKERS ?? '1,4';
  const results: Result[] = [];
  const load: string[] = [];
  for (const n of sizes) {
    process.stderr.write(`bench:scale: N=${n}, workers ${workers}\n`);
    load.push(`N=${n}: ${loadavg()[0]!.toFixed(2)}`);
    const out = execFileSync(process.execPath, [`${root}bench/reconcile.ts`], {
      env: { ...process.env, BENCH_APIS: String(n), BENCH_WORKERS: workers },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 2 ** 20,
    });
    process.stdout.write(out);
    results.push(resultOf(out));
    writeTable(results, load);
  }
}
