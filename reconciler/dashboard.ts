import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { Logger } from '../shared/log.ts';
import { authorized, challenges, type DashboardCredential } from './dashboard-auth.ts';

export const DASHBOARD_PATH = '/queues';

export interface DashboardOptions {
  readonly queue: Queue;
  readonly log: Logger;
  readonly readOnly: boolean;
  /** Required of every request; undefined only on the loopback listener. */
  readonly credential: DashboardCredential | undefined;
  /** Queues every key now with a new drift-check epoch (the watcher's resync); served as POST /resync when given. */
  readonly resync?: () => Promise<number>;
}

export const RESYNC_PATH = '/resync';

/**
 * A job's title on the board: the ExposedAPI it reconciles. The attempt, the
 * error (led by its status reason, see queue-worker.ts) and "Will run at" are
 * bull-board's own fields.
 */
export function jobTitle(job: { name?: string; data?: { key?: unknown } }): string {
  const key = typeof job.data?.key === 'string' ? job.data.key : '(no key)';
  return `${job.name ?? 'reconcile'} ${key}`;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

function guard(options: DashboardOptions) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const { credential } = options;
    if (credential && !authorized(request.headers.authorization, credential)) {
      // Who tried, never what they sent.
      options.log.warn(
        { method: request.method, url: request.url, ip: request.ip },
        'Refused a dashboard request without the credential',
      );
      await reply.code(401).header('www-authenticate', challenges(credential)).send({ error: 'unauthorized' });
      return;
    }
    // bull-board already answers 405 on its per-queue actions in read-only mode; this also covers any route that does not check.
    if (options.readOnly && !SAFE_METHODS.has(request.method)) {
      await reply
        .code(405)
        .header('allow', 'GET, HEAD')
        .send({ error: 'the queue dashboard is read-only (DASHBOARD_READ_ONLY)' });
    }
  };
}

/**
 * The BullMQ board under /queues and POST /resync, behind the credential when
 * there is one, with retry, clean and resync unless read-only. A resync is an
 * action like a retry: whoever may act on the queue may ask for one, nobody else.
 */
export async function registerDashboard(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const adapter = new BullMQAdapter(options.queue, {
    readOnlyMode: options.readOnly,
    displayName: 'ExposedAPI reconciles',
    description:
      'One job per ExposedAPI key. Delayed with an error: retrying. Failed: a permanent reason, waiting for a change.',
  });
  adapter.setFormatter('name', jobTitle);
  const board = new FastifyAdapter();
  board.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: [adapter],
    serverAdapter: board,
    options: {
      uiConfig: {
        boardTitle: 'ExposedAPI reconciles',
        hideDocsLink: true,
        jobDetails: { defaultTab: 'Error' },
        ...(options.readOnly ? { environment: { label: 'read-only', color: '#555' } } : {}),
      },
    },
  });
  await app.register(async (scope) => {
    scope.addHook('onRequest', guard(options));
    await scope.register(board.registerPlugin(), { prefix: DASHBOARD_PATH });
    const { resync } = options;
    if (resync)
      scope.post(RESYNC_PATH, async (request, reply) => {
        const queued = await resync();
        options.log.info({ queued, ip: request.ip }, 'Resync asked for on the admin port queued every ExposedAPI');
        return reply.code(202).send({ queued });
      });
  });
}
