import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Agent } from 'undici';
import { loadWebhookConfig } from '../../webhook/config.ts';
import { startWebhook, type RunningWebhook } from '../../webhook/server.ts';
import type { ReconcileEnqueuer } from '../../shared/enqueue.ts';
import type { Tracing } from '../../shared/tracing.ts';
import { RECONCILE_QUEUE } from '../../shared/jobs.ts';
import type { Logger } from '../../shared/log.ts';
import { recordMetrics, testLogger } from './scan-recording.ts';
import { recordQueue } from './record-queue.ts';
import { makeCerts, type TestCerts } from './certs.ts';
import { trustingAgent } from './admission.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestWebhook extends RunningWebhook {
  readonly agent: Agent;
  readonly certs: TestCerts;
  /** The reconcile queue this webhook writes to (a prefix of its own per test). */
  readonly queue: Queue;
}

/** The real webhook over HTTPS on a free port, with its own certificates and queue prefix. */
export async function startTestWebhook(
  env: Record<string, string> = {},
  overrides: { enqueuer?: ReconcileEnqueuer; log?: Logger; tracing?: Tracing } = {},
): Promise<TestWebhook> {
  const certs = makeCerts();
  const prefix = `test-${randomUUID()}`;
  const fullEnv = {
    WEBHOOK_PORT: '0',
    WEBHOOK_HOST: '127.0.0.1',
    WEBHOOK_TLS_CERT: certs.certFile,
    WEBHOOK_TLS_KEY: certs.keyFile,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    ENQUEUE_DELAY_MS: '0',
    ...env,
  };
  const running = await startWebhook(
    loadWebhookConfig(fullEnv),
    fullEnv,
    overrides.log ?? testLogger('webhook'),
    overrides,
  );
  const agent = trustingAgent(certs.ca);
  // Made on first use: a test whose Redis never answers must not hang on an inspection queue it never reads.
  let queue: Queue | undefined;
  return {
    ...running,
    agent,
    certs,
    get queue() {
      queue ??= new Queue(RECONCILE_QUEUE, { connection: { url: fullEnv.REDIS_URL } as never, prefix });
      return queue;
    },
    async close() {
      await recordMetrics('webhook', async () => (await running.app.inject({ url: '/metrics' })).body);
      await running.close();
      // A secret-scan run reads what this webhook queued, on the shared Redis (a test's own may be stopped).
      if (fullEnv.REDIS_URL === REDIS_URL) await recordQueue(REDIS_URL, prefix);
      if (queue) {
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
      }
      await agent.close();
    },
  };
}

/** The keys of the reconcile jobs queued so far, in any state. */
export async function queuedKeys(queue: Queue): Promise<string[]> {
  const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
  return jobs.map((job) => (job.data as { key: string }).key).sort();
}
