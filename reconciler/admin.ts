import { fastify, LogController, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Queue } from 'bullmq';
import type { Logger } from '../shared/log.ts';
import type { DashboardCredential } from './dashboard-auth.ts';
import { DASHBOARD_PATH, RESYNC_PATH, registerDashboard } from './dashboard.ts';
import type { ReconcilerMetrics } from './metrics.ts';

export interface AdminDeps {
  readonly log: Logger;
  readonly metrics: ReconcilerMetrics;
  readonly queue: Queue;
  /** Readiness details; `ready: false` makes /readyz answer 503. */
  readonly readiness: () => Promise<{ ready: boolean; details: Record<string, unknown> }>;
  readonly dashboard: { readonly readOnly: boolean; readonly credential: DashboardCredential | undefined };
  /** Runs a full resync now (POST /resync, where the dashboard is served). */
  readonly resync?: () => Promise<number>;
}

const bare = (log: Logger): FastifyInstance =>
  fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;

/**
 * The reconciler's admin port: health, readiness, Prometheus metrics and,
 * when a credential is configured, the queue dashboard under /queues and
 * POST /resync behind it. Without one neither is on this port at all (see
 * buildLocalDashboardApp). Plain HTTP: it is meant for the cluster network only.
 */
export async function buildAdminApp(deps: AdminDeps): Promise<FastifyInstance> {
  const app = bare(deps.log);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, details } = await deps.readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', ...details });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );
  if (deps.dashboard.credential) {
    await registerDashboard(app, {
      queue: deps.queue,
      log: deps.log,
      ...deps.dashboard,
      ...(deps.resync ? { resync: deps.resync } : {}),
    });
  } else {
    const loopbackOnly = async (_request: unknown, reply: FastifyReply) =>
      reply.code(404).send({
        error:
          'the queue dashboard and POST /resync are served on 127.0.0.1 only (DASHBOARD_LOCAL_PORT), as no DASHBOARD_PASSWORD_FILE or DASHBOARD_TOKEN_FILE is configured: use kubectl port-forward',
      });
    app.all(`${DASHBOARD_PATH}*`, loopbackOnly);
    app.all(RESYNC_PATH, loopbackOnly);
  }
  return app;
}

/** The dashboard (and POST /resync) alone, without a credential: to be listened on 127.0.0.1 only (kubectl port-forward reaches it). */
export async function buildLocalDashboardApp(
  deps: Pick<AdminDeps, 'log' | 'queue' | 'resync'> & { readonly readOnly: boolean },
) {
  const app = bare(deps.log);
  await registerDashboard(app, {
    queue: deps.queue,
    log: deps.log,
    readOnly: deps.readOnly,
    credential: undefined,
    ...(deps.resync ? { resync: deps.resync } : {}),
  });
  return app;
}
