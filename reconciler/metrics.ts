import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerBuildInfo } from '../shared/build-info.ts';
import { RECONCILE_QUEUE } from '../shared/jobs.ts';
import type { ArmResponse } from './clients/arm-responses.ts';
import type { QueueSnapshot } from './queue-probe.ts';

export interface ReconcilerMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'result'>;
  readonly reconcileDuration: Histogram<'result'>;
  readonly queueJobs: Gauge<'state'>;
  readonly permanentFailures: Gauge<'reason'>;
  readonly calls: Counter<'service' | 'operation' | 'status'>;
  readonly callDuration: Histogram<'service' | 'operation'>;
  readonly enqueued: Counter<'reason'>;
  readonly queueDepth: Gauge<'queue'>;
  readonly queueOldestWaiting: Gauge<'queue'>;
  readonly resyncDuration: Histogram;
  readonly resyncKeys: Gauge;
  readonly armThrottled: Counter<'operation'>;
  readonly armRemaining: Gauge<'kind'>;
}

export interface ReconcilerMetricsOptions {
  readonly defaultMetrics?: boolean;
  /** The queue's depth and oldest ready job, read at scrape time; without it those gauges stay empty. */
  readonly probeQueue?: () => Promise<QueueSnapshot>;
  /** ExposedAPIs in a permanent failure by reason, read at scrape time from the watch cache. */
  readonly permanentFailures?: () => Record<string, number>;
}

/** One probe per scrape: prom-client collects every gauge of a scrape at once, so they share the call in flight. */
function shared<T>(run: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= run().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

/** A registry per process (and per test); the queue is read at scrape time through `collectQueue` and `probeQueue`. */
export function createReconcilerMetrics(
  collectQueue: () => Promise<Record<string, number>>,
  options: ReconcilerMetricsOptions = {},
): ReconcilerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'apim_operator_reconciler_' });
  registerBuildInfo(registry, 'reconciler');
  const registers = [registry];
  const probe = options.probeQueue ? shared(options.probeQueue) : undefined;
  /** Sets a gauge from the probe; without an answer (Redis down) the series goes, rather than scaling on a stale value. */
  const fromProbe = (pick: (s: QueueSnapshot) => number) =>
    async function collect(this: Gauge<'queue'>) {
      const snapshot = await probe?.().catch(() => undefined);
      if (snapshot) this.set({ queue: RECONCILE_QUEUE }, pick(snapshot));
      else this.reset();
    };
  return {
    registry,
    reconciles: new Counter({
      name: 'apim_operator_reconciles_total',
      help: 'Reconciles by result: done, requeued (not ready yet), retrying (transient failure), permanent (waits for a spec change).',
      labelNames: ['result'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'apim_operator_reconcile_duration_seconds',
      help: 'Time of one reconcile.',
      labelNames: ['result'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    queueJobs: new Gauge({
      name: 'apim_operator_queue_jobs',
      help: 'Reconcile jobs in the queue by state (waiting, active, delayed = retrying or not ready, failed = permanent).',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await collectQueue().catch(() => ({}));
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    }),
    permanentFailures: new Gauge({
      name: 'apim_operator_exposedapis_failed_permanently',
      help: 'ExposedAPIs whose last reconcile failed for good, by reason: they wait for a change to the resource (or a retry by hand).',
      labelNames: ['reason'],
      registers,
      collect() {
        // Reset first: a reason that no longer occurs must read 0, not its last count.
        this.reset();
        for (const [reason, n] of Object.entries(options.permanentFailures?.() ?? {})) this.set({ reason }, n);
      },
    }),
    calls: new Counter({
      name: 'apim_operator_calls_total',
      help: 'Calls to APIM (ARM), Kubernetes and Key Vault by operation and HTTP status (or error).',
      labelNames: ['service', 'operation', 'status'],
      registers,
    }),
    callDuration: new Histogram({
      name: 'apim_operator_call_duration_seconds',
      help: 'Latency of calls to APIM, Kubernetes and Key Vault.',
      labelNames: ['service', 'operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    enqueued: new Counter({
      name: 'apim_operator_enqueued_total',
      help: 'Reconciles queued by the watcher, by reason (added, changed, ingress, resync).',
      labelNames: ['reason'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'apim_operator_queue_depth',
      help: 'Jobs a worker could take now: waiting, plus delayed ones that are due. What the reconciler scales on.',
      labelNames: ['queue'],
      registers,
      collect: fromProbe((s) => s.depth),
    }),
    queueOldestWaiting: new Gauge({
      name: 'apim_operator_queue_oldest_waiting_seconds',
      help: 'How long the longest-ready job has waited for a worker (0: none waits).',
      labelNames: ['queue'],
      registers,
      collect: fromProbe((s) => s.oldestWaitingSeconds),
    }),
    resyncDuration: new Histogram({
      name: 'apim_operator_resync_duration_seconds',
      help: 'Time a full resync took to queue every ExposedAPI (only the replica that ran it records one).',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    resyncKeys: new Gauge({
      name: 'apim_operator_resync_keys',
      help: 'ExposedAPIs the last resync of this replica queued.',
      registers,
    }),
    armThrottled: new Counter({
      name: 'apim_operator_arm_throttled_total',
      help: 'HTTP 429 answers from ARM by client operation, every attempt and poll counted.',
      labelNames: ['operation'],
      registers,
    }),
    armRemaining: new Gauge({
      name: 'apim_operator_arm_ratelimit_remaining',
      help: "ARM's remaining subscription requests (x-ms-ratelimit-remaining-subscription-reads/-writes) in its last answer.",
      labelNames: ['kind'],
      registers,
    }),
  };
}

/** The `onArmResponse` hook of the APIM client: 429s by operation, and ARM's remaining budget. */
export function armResponseRecorder(metrics: ReconcilerMetrics) {
  return ({ operation, status, remaining }: ArmResponse): void => {
    if (status === 429) metrics.armThrottled.inc({ operation });
    for (const [kind, value] of Object.entries(remaining)) metrics.armRemaining.set({ kind }, value);
  };
}

/** The watcher's `onResync` hook. */
export function resyncRecorder(metrics: ReconcilerMetrics) {
  return (keys: number, ms: number): void => {
    metrics.resyncKeys.set(keys);
    metrics.resyncDuration.observe(ms / 1000);
  };
}

/** The `onCall` hook the client adapters take, feeding the call metrics. */
export function callRecorder(metrics: ReconcilerMetrics, service: 'apim' | 'kubernetes' | 'keyvault') {
  return (operation: string, status: number | 'error', ms: number): void => {
    metrics.calls.inc({ service, operation, status: String(status) });
    metrics.callDuration.observe({ service, operation }, ms / 1000);
  };
}
