import type { AddressInfo } from 'node:net';
import type { Server } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../shared/log.ts';
import type { Env } from '../shared/env.ts';
import { buildApp } from './app.ts';
import type { WebhookConfig } from './config.ts';
import { coalescing, createQueueEnqueuer, type ReconcileEnqueuer } from '../shared/enqueue.ts';
import { createWebhookMetrics } from './metrics.ts';
import { createAzureCredential } from '../shared/azure-credential.ts';
import { createRedisConnections } from '../shared/redis-connection.ts';
import { createSpecChecker, warmUpSpecValidation } from '../shared/openapi/spec-checker.ts';
import { createPathIndex } from './path-index.ts';
import { startPathWatch } from './kube-path-watch.ts';
import { loadKubeConfig } from '../shared/kube/config.ts';
import type { PathClaims } from './admission/validators.ts';
import { readTls, TLS_PROTOCOLS, watchTls } from './tls.ts';
import type { MonitoredNamespaces } from '../shared/namespaces.ts';
import type { Tracing } from '../shared/tracing.ts';

export interface RunningWebhook {
  readonly app: FastifyInstance;
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  close(): Promise<void>;
}

/** The path check when there is no cluster to watch: everything passes, and readiness and warnings say so. */
function noPathClaims(reason: string): PathClaims {
  return { claimant: () => undefined, state: () => ({ enabled: false, synced: false, reason }) };
}

/** Starts the watch-fed path cache when Kubernetes is reachable; admission never waits for it. */
function startPathClaims(
  env: Env,
  log: Logger,
  namespaces: MonitoredNamespaces,
): { claims: PathClaims; stop(): Promise<void> } {
  const kubeConfig = loadKubeConfig(env);
  if (!kubeConfig) {
    log.warn('No Kubernetes access (neither KUBECONFIG nor in-cluster): the path-conflict check is off');
    return { claims: noPathClaims('no Kubernetes access'), stop: async () => undefined };
  }
  const index = createPathIndex();
  const watch = startPathWatch({ kubeConfig, index, log, namespaces });
  return {
    claims: { claimant: (path, key) => index.claimant(path, key), state: () => watch.state() },
    stop: () => watch.stop(),
  };
}

/** The queue producer; with REDIS_AUTH=entra its tokens come from the pod's Azure identity, as the reconciler's do. */
async function queueEnqueuer(config: WebhookConfig, env: Env, log: Logger): Promise<ReconcileEnqueuer> {
  const connections = await createRedisConnections(config.redis, {
    log,
    credential: config.redis.auth === 'entra' ? createAzureCredential(env) : undefined,
  });
  const enqueuer = createQueueEnqueuer({
    connections,
    prefix: config.queuePrefix,
    delayMs: config.enqueueDelayMs,
    log,
  });
  return {
    ...enqueuer,
    async close() {
      await enqueuer.close();
      connections.close();
    },
  };
}

/**
 * Wires the admission server from its configuration and starts listening
 * over TLS. The same function serves `npm run webhook` and the tests.
 */
export async function startWebhook(
  config: WebhookConfig,
  env: Env,
  log: Logger,
  overrides: { enqueuer?: ReconcileEnqueuer; tracing?: Tracing } = {},
): Promise<RunningWebhook> {
  const tls = await readTls({ certFile: config.tlsCertFile, keyFile: config.tlsKeyFile });
  // Compiling the OpenAPI schemas takes ~0.5 s: pay it before the first admission, not during it.
  warmUpSpecValidation();
  const metrics = createWebhookMetrics({ defaultMetrics: true });
  const specChecks = createSpecChecker({
    fetchTimeoutMs: config.specFetch.timeoutMs,
    maxBytes: config.specFetch.maxBytes,
    maxRedirects: config.specFetch.maxRedirects,
    allow: [...config.specFetch.allow],
    deny: [...config.specFetch.deny],
    cacheEntries: config.specFetch.cacheEntries,
    cacheMaxBytes: config.specFetch.cacheMaxBytes,
    freshForMs: config.specFetch.freshForMs,
    log,
    onFetch: (outcome) => metrics.specFetches.inc({ outcome }),
  });
  const enqueuer = coalescing(overrides.enqueuer ?? (await queueEnqueuer(config, env, log)), config.enqueueDelayMs / 2);
  const paths = startPathClaims(env, log, config.namespaces);
  const app = buildApp({
    log,
    metrics,
    specChecks,
    pathClaims: paths.claims,
    enqueuer,
    enqueueTimeoutMs: config.enqueueTimeoutMs,
    bodyLimitBytes: config.bodyLimitBytes,
    namespaces: config.namespaces,
    ...(overrides.tracing?.fastifyPlugin ? { tracingPlugin: overrides.tracing.fastifyPlugin } : {}),
    tls,
  });
  const reload = watchTls({
    files: { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile },
    intervalMs: config.tlsReloadIntervalMs,
    current: tls,
    log,
    onChange: (material) => (app.server as Server).setSecureContext({ ...material, ...TLS_PROTOCOLS }),
  });
  app.addHook('onClose', async () => {
    reload.stop();
    await Promise.all([paths.stop(), enqueuer.close(), specChecks.close()]);
  });
  await app.listen({ host: config.host, port: config.port });
  const { port } = app.server.address() as AddressInfo;
  log.info({ port, certFile: config.tlsCertFile }, 'Admission webhook listening over TLS');
  return { app, url: `https://127.0.0.1:${port}`, close: () => app.close() };
}
