import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerBuildInfo } from '../shared/build-info.ts';

export interface WebhookMetrics {
  readonly registry: Registry;
  readonly admissions: Counter<'webhook' | 'operation' | 'result'>;
  readonly latency: Histogram<'webhook'>;
  readonly specFetches: Counter<'outcome'>;
  readonly enqueues: Counter<'result'>;
  readonly enqueueFailures: Counter;
}

/** A registry of its own per app, so that tests can build several apps in one process. */
export function createWebhookMetrics(options: { defaultMetrics?: boolean } = {}): WebhookMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'apim_operator_webhook_' });
  registerBuildInfo(registry, 'webhook');
  const registers = [registry];
  return {
    registry,
    admissions: new Counter({
      name: 'apim_operator_webhook_admissions_total',
      help: 'Admission requests answered, by webhook, operation and result (allowed, denied, error).',
      labelNames: ['webhook', 'operation', 'result'],
      registers,
    }),
    latency: new Histogram({
      name: 'apim_operator_webhook_admission_duration_seconds',
      help: 'Time to answer an admission request.',
      labelNames: ['webhook'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    specFetches: new Counter({
      name: 'apim_operator_webhook_spec_fetches_total',
      help: 'OpenAPI documents fetched by URL, by outcome.',
      labelNames: ['outcome'],
      registers,
    }),
    enqueues: new Counter({
      name: 'apim_operator_webhook_enqueues_total',
      help: 'Reconcile requests queued after admission, by result (enqueued, failed, timeout).',
      labelNames: ['result'],
      registers,
    }),
    enqueueFailures: new Counter({
      name: 'apim_operator_webhook_enqueue_failures_total',
      help: 'Reconcile requests that could not be queued (Redis down or slow); the resource was admitted anyway.',
      registers,
    }),
  };
}
