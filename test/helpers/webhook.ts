import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
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
import { spawnNode, until, type Spawned } from './reconciler-process.ts';

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

export interface WebhookProcess {
  readonly process: Spawned;
  readonly url: string;
  readonly agent: Agent;
  /** SIGTERM, then the exit code. */
  close(): Promise<number | null>;
}

const WEBHOOK_MAIN = fileURLToPath(new URL('../../webhook/main.ts', import.meta.url));

/**
 * `npm run webhook` as a child process (its own heap, its own RSS), on a free
 * port with its own certificates and queue prefix, without Kubernetes access.
 */
export async function spawnWebhook(env: Record<string, string> = {}): Promise<WebhookProcess> {
  const certs = makeCerts();
  // Without the test runner's loaders and coverage (NODE_OPTIONS): the process as it runs in its container.
  const {
    KUBECONFIG: _,
    KUBERNETES_SERVICE_HOST: __,
    NODE_OPTIONS: ___,
    NODE_V8_COVERAGE: ____,
    ...inherited
  } = process.env;
  const child = spawnNode(WEBHOOK_MAIN, {
    ...inherited,
    WEBHOOK_PORT: '0',
    WEBHOOK_HOST: '127.0.0.1',
    WEBHOOK_TLS_CERT: certs.certFile,
    WEBHOOK_TLS_KEY: certs.keyFile,
    REDIS_URL,
    QUEUE_PREFIX: `test-${randomUUID()}`,
    LOG_LEVEL: 'info',
    ...env,
  });
  const listening = until('the webhook process listening', async () => {
    return /"port":(\d+)[^\n]*Admission webhook listening/.exec(child.output())?.[1];
  });
  const died = child.exited.then((code) => {
    throw new Error(`the webhook process exited (${code}) before listening: ${child.output()}`);
  });
  died.catch(() => undefined);
  const port = await Promise.race([listening, died]).catch((error: unknown) => {
    child.child.kill('SIGKILL');
    throw error;
  });
  // Generous: a child process on a busy machine accepts many connections at once slowly.
  const agent = trustingAgent(certs.ca, 60_000);
  return {
    process: child,
    url: `https://127.0.0.1:${port}`,
    agent,
    async close() {
      child.child.kill('SIGTERM');
      const code = await child.exited;
      await agent.close();
      return code;
    },
  };
}
