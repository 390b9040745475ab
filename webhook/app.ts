import {
  fastify,
  LogController,
  type FastifyInstance,
  type FastifyPluginCallback,
  type FastifyServerOptions,
} from 'fastify';
import type { SecureContextOptions } from 'node:tls';
import type { Logger } from '../shared/log.ts';
import { admissionReviewSchema, admissionResponseSchema, review, type AdmissionReview } from './admission/review.ts';
import { admissionKey, decideMutation, decideValidation } from './admission/decide.ts';
import {
  localChecks,
  openApiDocument,
  pathUniqueness,
  type PathClaims,
  type SpecChecks,
} from './admission/validators.ts';
import { enqueueWithin, type ReconcileEnqueuer } from '../shared/enqueue.ts';
import type { MonitoredNamespaces } from '../shared/namespaces.ts';
import type { WebhookMetrics } from './metrics.ts';
import { TLS_PROTOCOLS } from './tls.ts';
import { RESOURCE_KEY_ATTRIBUTE } from '../shared/tracing.ts';
import { trace } from '@opentelemetry/api';

export interface WebhookDeps {
  readonly log: Logger;
  readonly metrics: WebhookMetrics;
  readonly specChecks: SpecChecks;
  readonly pathClaims: PathClaims;
  readonly enqueuer: ReconcileEnqueuer;
  readonly enqueueTimeoutMs: number;
  readonly bodyLimitBytes: number;
  /** Where this operator serves ExposedAPIs; elsewhere they are admitted as they are. */
  readonly namespaces: MonitoredNamespaces;
  /** Makes a span per admission (shared/tracing.ts); absent when tracing is off. */
  readonly tracingPlugin?: FastifyPluginCallback;
  /** Serve HTTPS with these; without, plain HTTP (for app.inject in tests). */
  readonly tls?: SecureContextOptions;
}

/** Names the resource on the admission's span (a no-op when tracing is off). */
function annotate(admission: AdmissionReview['request']): void {
  trace.getActiveSpan()?.setAttributes({
    [RESOURCE_KEY_ATTRIBUTE]: admissionKey(admission),
    'k8s.admission.operation': admission.operation,
  });
}

/** The admission server's routes; listening, certificates on disk and signals are server.ts's business. */
export function buildApp(deps: WebhookDeps): FastifyInstance {
  const options: FastifyServerOptions & { https?: SecureContextOptions } = {
    loggerInstance: deps.log,
    bodyLimit: deps.bodyLimitBytes,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    ...(deps.tls ? { https: { ...deps.tls, ...TLS_PROTOCOLS } } : {}),
  };
  const app = fastify(options) as unknown as FastifyInstance;
  if (deps.tracingPlugin) void app.register(deps.tracingPlugin);
  let closing = false;
  app.addHook('onClose', async () => {
    closing = true;
  });
  const validators = [localChecks, pathUniqueness(deps.pathClaims), openApiDocument(deps.specChecks)];
  const routeSchema = { body: admissionReviewSchema, response: { 200: admissionResponseSchema } };

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    // The API server reads any non-200 answer as a webhook failure; a body over the limit is a bad request like any other.
    const status =
      error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 400
        : error.statusCode && error.statusCode >= 400 && error.statusCode < 500
          ? error.statusCode
          : 500;
    if (status === 500) request.log.error({ err: error }, 'Admission request failed');
    const webhook = request.routeOptions.url?.slice(1);
    if (webhook === 'validate' || webhook === 'mutate')
      deps.metrics.admissions.inc({ webhook, operation: operationOf(request.body), result: 'error' });
    void reply
      .code(status)
      .send({ error: status === 500 ? 'internal error' : error.message, code: error.code ?? 'ERROR' });
  });

  /** Another operator's namespace: allowed as it is, never denied, defaulted or queued. */
  const unmonitored = (webhook: 'validate' | 'mutate', admission: AdmissionReview['request']) => {
    if (deps.namespaces.matches(admission.namespace ?? '')) return undefined;
    deps.metrics.admissions.inc({ webhook, operation: admission.operation, result: 'ignored' });
    return review({ uid: admission.uid, allowed: true });
  };

  app.post<{ Body: AdmissionReview }>('/validate', { schema: routeSchema }, async (request) => {
    const started = process.hrtime.bigint();
    const admission = request.body.request;
    const ignored = unmonitored('validate', admission);
    if (ignored) return ignored;
    annotate(admission);
    const decision = await decideValidation(admission, validators);
    const key = decision.enqueue ?? `${admission.namespace ?? ''}/${admission.name ?? ''}`;
    if (decision.enqueue) {
      const outcome = await enqueueWithin(deps.enqueuer, decision.enqueue, deps.enqueueTimeoutMs);
      deps.metrics.enqueues.inc({ result: outcome.result });
      if (outcome.result !== 'enqueued') {
        deps.metrics.enqueueFailures.inc();
        deps.log.warn(
          { resource: key, uid: admission.uid, err: outcome.error },
          'Admitted without queueing a reconcile; the watcher or the resync will pick it up',
        );
      }
    }
    const result = decision.response.allowed ? 'allowed' : 'denied';
    deps.metrics.admissions.inc({ webhook: 'validate', operation: admission.operation, result });
    deps.metrics.latency.observe({ webhook: 'validate' }, Number(process.hrtime.bigint() - started) / 1e9);
    if (!decision.response.allowed)
      deps.log.info(
        {
          resource: key,
          uid: admission.uid,
          operation: admission.operation,
          reason: decision.response.status?.message,
        },
        'Denied an ExposedAPI',
      );
    return review(decision.response);
  });

  app.post<{ Body: AdmissionReview }>('/mutate', { schema: routeSchema }, async (request) => {
    const started = process.hrtime.bigint();
    const admission = request.body.request;
    const ignored = unmonitored('mutate', admission);
    if (ignored) return ignored;
    annotate(admission);
    const response = decideMutation(admission);
    deps.metrics.admissions.inc({ webhook: 'mutate', operation: admission.operation, result: 'allowed' });
    deps.metrics.latency.observe({ webhook: 'mutate' }, Number(process.hrtime.bigint() - started) / 1e9);
    return review(response);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const paths = deps.pathClaims.state();
    const details = {
      status: closing ? 'shutting down' : 'ready',
      pathConflictCheck: paths.enabled
        ? paths.synced
          ? 'on'
          : 'loading'
        : `off: ${paths.reason ?? 'no Kubernetes access'}`,
      queue: deps.enqueuer.state(),
    };
    return reply.code(closing ? 503 : 200).send(details);
  });

  app.get('/metrics', async (_request, reply) => {
    return reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return app;
}

const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
/** The operation of a review that failed, for its metric label; never a value the sender made up. */
function operationOf(body: unknown): string {
  const operation = (body as { request?: { operation?: unknown } } | undefined)?.request?.operation;
  return typeof operation === 'string' && OPERATIONS.has(operation) ? operation : 'unknown';
}
