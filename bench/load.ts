import { Pool } from 'undici';
import { readFileSync } from 'node:fs';

/**
 * A load generator in a process of its own (the server under test gets the
 * other core). Closed loop (`--concurrency`) finds saturation; open loop
 * (`--rate`) measures latency at a fixed arrival rate, timing each request
 * from when it was due, so a stalled server cannot hide its queueing delay.
 * Prints one JSON line: { requests, errors, seconds, perSecond, p50Ms, p99Ms }.
 */
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => [...a.replace(/^--/, '').split('='), ''].slice(0, 2)) as [string, string][],
);
const url = new URL(args.url ?? 'https://127.0.0.1:8443/validate');
const body = readFileSync(args.body ?? '', 'utf8');
const seconds = Number(args.seconds ?? 5);
const rate = args.rate ? Number(args.rate) : undefined;
const concurrency = Number(args.concurrency ?? 32);
/** With --distinct, every `__N__` in the body becomes a request counter: a new resource per request. */
const distinct = 'distinct' in args;
let counter = 0;
const pool = new Pool(url.origin, {
  connections: concurrency,
  pipelining: 1,
  connect: { ca: readFileSync(args.ca ?? '') },
});

const latencies: number[] = [];
let errors = 0;

async function once(dueNs: bigint): Promise<void> {
  try {
    const payload = distinct ? body.replaceAll('__N__', String(counter++)) : body;
    const response = await pool.request({
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: payload,
    });
    await response.body.text();
    if (response.statusCode !== 200) errors++;
  } catch {
    errors++;
  }
  latencies.push(Number(process.hrtime.bigint() - dueNs) / 1e6);
}

async function closedLoop(deadline: bigint): Promise<void> {
  const lane = async (): Promise<void> => {
    while (process.hrtime.bigint() < deadline) await once(process.hrtime.bigint());
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

/** Sends every request that has fallen due once a millisecond: timing stays exact without spinning the generator's core. */
async function openLoop(deadline: bigint, perSecond: number): Promise<void> {
  const start = process.hrtime.bigint();
  const intervalNs = 1e9 / perSecond;
  const inflight = new Set<Promise<void>>();
  let sent = 0;
  for (let now = start; now < deadline; now = process.hrtime.bigint()) {
    const due = Math.floor(Number(now - start) / intervalNs) + 1;
    for (; sent < due; sent++) {
      const p = once(start + BigInt(Math.round(sent * intervalNs))).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
}

const percentile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

// Warm-up: connections, TLS sessions, JIT, caches.
await closedLoop(process.hrtime.bigint() + 1_000_000_000n);
latencies.length = 0;
errors = 0;
const started = process.hrtime.bigint();
const deadline = started + BigInt(seconds * 1e9);
if (rate) await openLoop(deadline, rate);
else await closedLoop(deadline);
const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
const sorted = [...latencies].sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({ requests: latencies.length, errors, seconds: elapsed, perSecond: latencies.length / elapsed, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) })}\n`,
);
await pool.close();
