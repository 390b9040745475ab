import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ReconcilerMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'result'>;
  readonly reconcileDuration: Histogram<'result'>;
  readonly queueJobs: Gauge<'state'>;
  readonly calls: Counter<'service' | 'operation' | 'status'>;
  readonly callDuration: Histogram<'service' | 'operation'>;
  readonly enqueued: Counter<'reason'>;
}

/** A registry per process (and per test); queue depth is read at scrape time through `collectQueue`. */
export function createReconcilerMetrics(
  collectQueue: () => Promise<Record<string, number>>,
  options: { defaultMetrics?: boolean } = {},
): ReconcilerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'apim_operator_reconciler_' });
  const registers = [registry];
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
  };
}

/** The `onCall` hook the client adapters take, feeding the call metrics. */
export function callRecorder(metrics: ReconcilerMetrics, service: 'apim' | 'kubernetes' | 'keyvault') {
  return (operation: string, status: number | 'error', ms: number): void => {
    metrics.calls.inc({ service, operation, status: String(status) });
    metrics.callDuration.observe({ service, operation }, ms / 1000);
  };
}
