import { fastify, LogController, type FastifyInstance } from 'fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { Logger } from '../shared/log.ts';
import type { ReconcilerMetrics } from './metrics.ts';

export interface AdminDeps {
  readonly log: Logger;
  readonly metrics: ReconcilerMetrics;
  readonly queue: Queue;
  /** Readiness details; `ready: false` makes /readyz answer 503. */
  readonly readiness: () => Promise<{ ready: boolean; details: Record<string, unknown> }>;
}

/**
 * The reconciler's admin port: health, readiness, Prometheus metrics, and the
 * queue dashboard under /queues (waiting, active, delayed = retrying, failed
 * with their errors). Plain HTTP: it is meant for the cluster network only.
 */
export async function buildAdminApp(deps: AdminDeps): Promise<FastifyInstance> {
  const app = fastify({
    loggerInstance: deps.log,
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { ready, details } = await deps.readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', ...details });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );
  const board = new FastifyAdapter();
  board.setBasePath('/queues');
  createBullBoard({
    queues: [new BullMQAdapter(deps.queue, { readOnlyMode: false })],
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'ExposedAPI reconciles' } },
  });
  await app.register(board.registerPlugin(), { prefix: '/queues' });
  return app;
}
