// An ARM storm while ExposedAPIs reconcile: every ARM request answered 500 for
// a phase, then 429 with `Retry-After: 5` for a phase, then recovery. It
// starts with the writes of half the APIs, so reconciles are caught half-way.
// Every ExposedAPI ends Ready; each API's attempts are spaced as the backoff
// settings say (exact lower bound, generous upper slack for the queue's own
// latency); no call to an API comes sooner than the Retry-After of its 429;
// the shared write limit holds over every 1-s window.
// RELIABILITY_FULL=1 runs 30 s + 30 s; the default run 8 s + 6 s.
import t from 'tap';
import { bucketFor } from '../../../reconciler/arm-budget.ts';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { attemptsOf, busiestWrites, requestsOf, soonerThanRetryAfter } from '../../helpers/arm-call-log.ts';
import { reconcilerUnderTest } from '../../helpers/reconciler-env.ts';
import { helpers, NS } from '../../helpers/reconciler-process.ts';

const FULL = process.env.RELIABILITY_FULL === '1';
const APIS = FULL ? 40 : 8;
/**
 * How long ARM answers 500, then 429. At test size the 500s last long enough for a third retry, whose
 * delay (base × 4) is longer than the queue's own latency, so that a schedule restarting at base would show.
 */
const PHASES = FULL ? { errorsMs: 30_000, throttledMs: 30_000 } : { errorsMs: 8_000, throttledMs: 6_000 };
const RETRY_AFTER_MS = 5_000;
/** The cap is above the Retry-After, so that the Retry-After is the floor of a delay after a 429. */
const BACKOFF = { baseMs: 1_000, maxMs: FULL ? 8_000 : 6_000 };
const WRITES = bucketFor(FULL ? 5 : 3);
/**
 * Writes that may arrive within any 1 s: a full bucket and one second of refill, plus one more second of
 * refill for tokens taken just before the window whose requests arrive in it (the SDK's pipeline and TLS
 * on a busy machine).
 */
const WRITE_LIMIT = WRITES.burst + 2 * WRITES.perSecond;
/** What the queue may add to a delay: the failure's status write, promotion of the delayed job, the budget's turn. */
const QUEUE_SLACK_MS = 15_000;
const STORM = new Set([500, 429]);

/** The delay after failure `n` as shared/backoff.ts sets it: base × 2^(n-1), capped, drawn from its upper half; a Retry-After is a floor. */
function delayBounds(n: number, retryAfterMs: number): { lower: number; upper: number } {
  const exponential = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** (n - 1));
  return { lower: Math.max(exponential / 2, retryAfterMs), upper: Math.max(exponential, retryAfterMs) };
}

const quantiles = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { min: at(0), median: at(0.5), max: at(1) };
};

t.test(
  `${APIS} ExposedAPIs through ${PHASES.errorsMs / 1000} s of 500s and ${PHASES.throttledMs / 1000} s of 429s`,
  async (t) => {
    const { world } = await reconcilerUnderTest(
      t,
      {},
      {
        BACKOFF_BASE_MS: String(BACKOFF.baseMs),
        BACKOFF_MAX_MS: String(BACKOFF.maxMs),
        APIM_WRITES_PER_SECOND: String(WRITES.perSecond),
        RECONCILE_CONCURRENCY: String(APIS),
      },
    );
    const { kube, azure } = world;
    const arm = azure.arm;
    const h = helpers(world);
    const names = Array.from({ length: APIS }, (_, i) => `storm-${i}`);
    for (const name of names) await h.create(name);
    await kube.waitFor(() => names.every((n) => h.ready(n)?.reason === 'WaitingForIngressAddress'), 120_000);
    // The storm starts with the write of half the APIs, which it fails: the other reconciles are caught half-way,
    // some with their own writes in flight.
    let stormStart = 0;
    let puts = 0;
    arm.setLatency(1, (request) => {
      if (stormStart > 0 || request.method !== 'PUT' || ++puts < APIS / 2) return false;
      stormStart = Date.now();
      arm.failNext({}, 500, { forMs: PHASES.errorsMs });
      arm.failNext({}, 429, {
        retryAfter: RETRY_AFTER_MS / 1000,
        afterMs: PHASES.errorsMs,
        forMs: PHASES.throttledMs,
      });
      return false;
    });
    await Promise.all(names.map((n) => world.giveAddress(NS, n)));
    await kube.waitFor(() => stormStart > 0, 120_000);
    const stormEnd = stormStart + PHASES.errorsMs + PHASES.throttledMs;

    await kube.waitFor(() => Date.now() > stormEnd && names.every((n) => h.ready(n)?.status === 'True'), 600_000);
    const convergedMs = Date.now() - stormEnd;
    t.pass(`all ${APIS} Ready`);

    const log = [...arm.requests];
    const perApi = names.map((n) => requestsOf(log, apiIdFor(NS, n)));
    t.ok(
      perApi.some((requests) => requests.some((r) => r.status === 500 && r.method !== 'GET')),
      'the storm caught writes half-way',
    );

    const early = perApi.flatMap((requests) => soonerThanRetryAfter(requests, RETRY_AFTER_MS));
    t.same(early, [], 'no call to an API sooner than the Retry-After of its 429');

    const busiest = busiestWrites(log);
    t.ok(busiest <= WRITE_LIMIT, 'the write limit held over every 1-s window, burst allowed', {
      busiest,
      limit: WRITE_LIMIT,
    });

    const gaps: { api: string; n: number; gap: number; lower: number; upper: number }[] = [];
    for (const [i, requests] of perApi.entries()) {
      const attempts = attemptsOf(requests, STORM);
      for (let n = 1; n < attempts.length; n++) {
        const failed = attempts[n - 1]!;
        if (failed.failedWith === undefined) continue;
        const next = attempts[n]!;
        const bounds = delayBounds(n, failed.failedWith === 429 ? RETRY_AFTER_MS : 0);
        // While a 429's pause holds every worker, the next call waits it out as well.
        const paused = log.some((r) => r.status === 429 && r.at >= failed.end && r.at <= next.start);
        const upper = bounds.upper + QUEUE_SLACK_MS + (paused ? RETRY_AFTER_MS : 0);
        gaps.push({ api: names[i]!, n, gap: next.start - failed.end, lower: bounds.lower, upper });
      }
    }
    const caught = names.filter((_, i) => perApi[i]!.some((r) => STORM.has(r.status)));
    t.ok(caught.length >= APIS / 2, 'the storm caught at least the half of the APIs whose writes had not begun', {
      caught: caught.length,
    });
    const retried = (name: string) => gaps.filter((g) => g.api === name).length;
    t.same(
      caught.filter((n) => retried(n) < 2),
      [],
      'every API the storm caught retried through it',
    );
    t.same(
      gaps.filter((g) => g.gap < g.lower),
      [],
      'no retry sooner than its backoff (base × 2^(n-1), capped, upper half, Retry-After a floor)',
    );
    t.same(
      gaps.filter((g) => g.gap > g.upper),
      [],
      'no retry later than its backoff plus the queue slack',
    );

    const during = perApi.map((requests) =>
      requests.filter((r) => r.receivedAt >= stormStart && r.receivedAt < stormEnd),
    );
    const phase = (status: number) =>
      quantiles(during.map((requests) => requests.filter((r) => r.status === status).length));
    t.comment(
      JSON.stringify({
        apis: APIS,
        phases: PHASES,
        backoff: BACKOFF,
        writes: WRITES,
        caughtByStorm: caught.length,
        allReadyMsAfterStorm: convergedMs,
        callsPerApiDuringStorm: quantiles(during.map((requests) => requests.length)),
        answered500PerApi: phase(500),
        answered429PerApi: phase(429),
        attemptsPerApi: quantiles(perApi.map((requests) => attemptsOf(requests, STORM).length)),
        writesFailedInStorm: log.filter((r) => r.method !== 'GET' && STORM.has(r.status)).length,
        busiestWriteSecond: busiest,
        writeLimitPerSecond: WRITE_LIMIT,
        gapsOverLower: quantiles(gaps.map((g) => g.gap - g.lower)),
        armCalls: arm.calls(),
      }),
    );
  },
);
