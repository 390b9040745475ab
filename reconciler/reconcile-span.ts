import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ReconcileJobData } from '../shared/jobs.ts';
import { errorMessage } from '../shared/errors.ts';
import { linksTo, RESOURCE_KEY_ATTRIBUTE, spanContextOf, tracer } from '../shared/tracing.ts';
import { takeAdmissions } from '../shared/tracing-links.ts';

/**
 * Runs one reconcile inside its span: a child of the admission that queued
 * the job (its `traceparent`), linked to every other admission the job
 * absorbed. The ARM, Key Vault and Kubernetes calls made meanwhile become its
 * children (the SDK's context follows the async calls). Hand-written because
 * BullMQ's own telemetry (bullmq-otel) propagates one context per job and so
 * cannot link the requests deduplication folded into it.
 */
export async function reconcileSpan<T extends { kind: string }>(
  redis: Redis,
  prefix: string,
  job: Job<ReconcileJobData>,
  run: () => Promise<T>,
): Promise<T> {
  const key = job.data.key;
  const parent = spanContextOf(job.data.traceparent);
  // A tracing problem never fails a reconcile: without the list, the span has no links.
  const absorbed = await takeAdmissions(redis, prefix, key).catch(() => []);
  const parentContext = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
  const attributes = {
    [RESOURCE_KEY_ATTRIBUTE]: key,
    'messaging.system': 'bullmq',
    'messaging.message.id': job.id ?? '',
    'oda.reconcile.attempt': job.attemptsMade + 1,
  };
  const options = { kind: SpanKind.CONSUMER, attributes, links: linksTo(absorbed, parent) };
  return tracer().startActiveSpan('reconcile ExposedAPI', options, parentContext, async (span) => {
    try {
      const outcome = await run();
      span.setAttribute('oda.reconcile.outcome', outcome.kind);
      return outcome;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
