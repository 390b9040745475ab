import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import type { Env } from '../shared/env.ts';
import { ConfigError, errorMessage } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { RECONCILE_QUEUE } from '../shared/jobs.ts';
import { createQueueEnqueuer } from '../shared/enqueue.ts';
import { loadKubeConfig } from '../shared/kube/config.ts';
import { createSpecFetcher } from '../shared/openapi/fetch-spec.ts';
import { SPEC_CHECK_DEFAULTS } from '../shared/openapi/spec-checker.ts';
import { buildAdminApp, buildLocalDashboardApp } from './admin.ts';
import { readDashboardCredential } from './dashboard-auth.ts';
import { createApimClient } from './clients/apim.ts';
import { createAzureCredential } from '../shared/azure-credential.ts';
import { createRedisConnections } from '../shared/redis-connection.ts';
import { createSecretReader } from './clients/azure.ts';
import { createKubeClient } from './clients/kube.ts';
import { describeConfig, keyVaultUrlFrom, loadReconcilerConfig } from './config.ts';
import { armResponseRecorder, callRecorder, createReconcilerMetrics, resyncRecorder } from './metrics.ts';
import { createQueueProbe } from './queue-probe.ts';
import { startQueueWorker } from './queue-worker.ts';
import { createReconciler, permanentFailures } from './reconcile.ts';
import type { ClusterCache } from './cluster-cache.ts';
import { createSpecResolver } from './steps/resolve-spec.ts';
import { startWatcher } from './watch.ts';
import { bucketFor, createArmBudget } from './arm-budget.ts';
import { createRedisSyncMarks } from './sync-marks.ts';
import { createRedisApimInventory, stampWrites } from './apim-inventory.ts';
import { SUBSCRIPTION_ID_PREFIX } from './render/subscription-secret.ts';
import { tracingSettings } from '../shared/tracing.ts';

export interface RunningReconciler {
  /** `http://127.0.0.1:PORT` of the admin endpoints. */
  readonly adminUrl: string;
  /** The queue dashboard: on the admin port behind the credential, else on the loopback-only listener. */
  readonly dashboardUrl: string;
  /** Runs a full resync now. */
  resync(): Promise<number>;
  /** Stops watching and taking jobs; running reconciles get `graceMs` to finish, then are handed back. */
  close(graceMs: number): Promise<void>;
}

/** The OpenID Connect provider the operator keeps in APIM for Entra ID, and the validate-jwt settings that use it. */
function entraSettings(authority: string, tenantId: string, clientId: string) {
  const metadataEndpoint = `${authority}/${tenantId}/v2.0/.well-known/openid-configuration`;
  return {
    providerId: 'entra-id',
    provider: { displayName: 'Entra ID (oda-apim-operator)', metadataEndpoint, clientId },
    jwt: { openIdConfigUrl: metadataEndpoint, audiences: [clientId, `api://${clientId}`] },
  };
}

/**
 * Wires the reconciler from its environment, the same way for `npm run
 * reconciler` and for tests: configuration (Key Vault, env overrides), the
 * Kubernetes, APIM and Key Vault clients, the OIDC provider, the workers, the
 * watcher and the admin port.
 */
export async function startReconciler(env: Env, log: Logger): Promise<RunningReconciler> {
  const kubeConfig = loadKubeConfig(env);
  if (!kubeConfig) throw new ConfigError('no Kubernetes access: set KUBECONFIG, or run in a cluster');
  const credential = createAzureCredential(env);
  const vaultUrl = keyVaultUrlFrom(env);
  const config = await loadReconcilerConfig(env, vaultUrl ? createSecretReader(vaultUrl, credential) : undefined);
  log.info(describeConfig(config), 'Configuration loaded');
  const dashboardCredential = readDashboardCredential(config.dashboard);

  // Redis with Entra ID takes tokens from the same credential as ARM and Key Vault.
  const connections = await createRedisConnections(config.redis, { log, credential });
  const redis = connections.create({ maxRetriesPerRequest: null });
  redis.on('error', () => undefined); // the worker's own connection logs Redis trouble
  const queue = new Queue(RECONCILE_QUEUE, { connection: redis, prefix: config.queuePrefix });
  // The operator's own state (ARM budget, sync marks, APIM inventory) on a connection of its own: BullMQ
  // defines its scripts on the queue's connection, and ioredis copies every one of them into each MULTI
  // (about 57 µs for an inventory lookup, 3 % of a resync's CPU).
  const state = connections.create({ maxRetriesPerRequest: null });
  state.on('error', () => undefined);
  let watching: { readonly cache: ClusterCache } | undefined;
  const metrics = createReconcilerMetrics(
    () => queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'),
    {
      defaultMetrics: true,
      probeQueue: createQueueProbe({ redis, toKey: (type) => queue.toKey(type) }),
      // The watcher starts below; until it has, nothing is counted.
      permanentFailures: () => (watching ? permanentFailures(watching.cache.store('exposedapis').list()) : {}),
    },
  );
  const budget = createArmBudget(state, {
    key: `${config.queuePrefix}:arm-budget`,
    buckets: { reads: bucketFor(config.apimReadsPerSecond), writes: bucketFor(config.apimWritesPerSecond) },
  });
  const recordArmResponse = armResponseRecorder(metrics);
  const armClient = createApimClient(
    {
      subscriptionId: config.apim.subscriptionId,
      resourceGroup: config.apim.resourceGroup,
      serviceName: config.apim.serviceName,
      endpoint: config.armEndpoint,
    },
    credential,
    {
      takeBudget: (kind) => budget.take(kind),
      onCall: callRecorder(metrics, 'apim'),
      onArmResponse: (response) => {
        recordArmResponse(response);
        budget
          .observe({
            kind: response.kind,
            status: response.status,
            ...(response.remaining[response.kind] !== undefined
              ? { remaining: response.remaining[response.kind] }
              : {}),
            ...(response.retryAfterMs !== undefined ? { retryAfterMs: response.retryAfterMs } : {}),
          })
          .catch((error: unknown) =>
            log.warn({ err: errorMessage(error) }, 'Could not record an ARM answer in the budget'),
          );
      },
      pollIntervalMs: config.apimPollIntervalMs,
    },
  );
  const enqueuer = createQueueEnqueuer({ connections, prefix: config.queuePrefix, delayMs: 0, log });
  const resyncMs = config.resyncIntervalSeconds * 1000;
  const marks = createRedisSyncMarks(state, `${config.queuePrefix}:apim-sync`, 2 * resyncMs);
  const inventory = createRedisApimInventory(state, `${config.queuePrefix}:apim-sync`, 2 * resyncMs);
  const apim = stampWrites(armClient, inventory);
  /** This epoch's listing of APIM; a failed one only costs the resync its savings (every key then reads APIM itself). */
  const takeInventory = async (epoch: string): Promise<void> => {
    const started = performance.now();
    try {
      const counts = await inventory.take(epoch, armClient, SUBSCRIPTION_ID_PREFIX);
      log.info({ ...counts, ms: Math.round(performance.now() - started) }, 'Listed APIM for the resync');
    } catch (error) {
      log.warn({ err: errorMessage(error) }, 'Could not list APIM for the resync; each API is read on its own');
    }
  };
  const replica = `${hostname()}:${process.pid}:${randomUUID()}`;
  const watcher = startWatcher({
    kubeConfig,
    log,
    namespaces: config.namespaces,
    readiness: config.requireReadyEndpoints,
    enqueue: async (key, reason, options) => {
      await enqueuer.enqueue(key, options);
      metrics.enqueued.inc({ reason });
    },
    resyncIntervalMs: resyncMs,
    onResync: resyncRecorder(metrics),
    // The periodic resync runs in one replica per interval; one asked for (resync()) always runs. Both start a
    // new epoch of APIM sync marks, so that every key looks at APIM again.
    beforeResync: async (periodic) => {
      if (periodic && !(await marks.claimResync(replica, resyncMs))) return false;
      await marks.newEpoch(takeInventory);
      return true;
    },
  });
  watching = watcher;
  const kube = createKubeClient(kubeConfig, { log, cache: watcher.cache, onCall: callRecorder(metrics, 'kubernetes') });
  const entra = entraSettings(config.authorityHost, config.aad.tenantId, config.aad.clientId);
  await apim.ensureOpenIdProvider(entra.providerId, entra.provider);

  const fetcher = createSpecFetcher({
    timeoutMs: 10_000,
    maxBytes: SPEC_CHECK_DEFAULTS.maxBytes,
    maxRedirects: SPEC_CHECK_DEFAULTS.maxRedirects,
    allow: [],
    deny: [],
  });
  const handler = createReconciler({
    kube,
    apim,
    log,
    now: () => new Date(),
    namespaces: config.namespaces,
    marks,
    inventory,
    specs: createSpecResolver(fetcher, config.specCache),
    settings: {
      ingressClass: config.ingressClass,
      ...(config.gatewayBaseUrl ? { gatewayBaseUrl: config.gatewayBaseUrl } : {}),
      apimGatewayUrl: config.apim.gatewayUrl,
      apim: {
        policy: { jwt: entra.jwt, quotaPeriodSeconds: config.quotaPeriodSeconds },
        openidProviderId: entra.providerId,
      },
      publishInternalSegments: config.publishInternalSegments,
      notReadyRequeueMs: 15_000,
      openMetrics: config.openMetricsImplementation,
      backoff: config.backoff,
    },
  });
  const worker = startQueueWorker({
    connections,
    prefix: config.queuePrefix,
    concurrency: config.concurrency,
    backoff: config.backoff,
    handler,
    log,
    tracing: tracingSettings(env).enabled,
    onSettled: (_key, result, ms) => {
      metrics.reconciles.inc({ result });
      metrics.reconcileDuration.observe({ result }, ms / 1000);
    },
  });
  const admin = await buildAdminApp({
    log,
    metrics,
    queue,
    readiness: async () => {
      const { lastResyncAt, ...informers } = watcher.state();
      // Both connections go to one Redis: the one that is not ready, if any, says why.
      const redisStatus = redis.status === 'ready' ? state.status : redis.status;
      const ready = watcher.cache.synced('exposedapis') && redisStatus === 'ready';
      return { ready, details: { informers, lastResyncAt, redis: redisStatus } };
    },
    dashboard: { readOnly: config.dashboard.readOnly, credential: dashboardCredential },
    resync: () => watcher.resync(),
  });
  await admin.listen({ host: config.adminHost, port: config.adminPort });
  const { port } = admin.server.address() as AddressInfo;
  // Without a credential the dashboard is reachable only from inside the Pod: kubectl port-forward, never the network.
  const local = dashboardCredential
    ? undefined
    : await buildLocalDashboardApp({ log, queue, readOnly: config.dashboard.readOnly, resync: () => watcher.resync() });
  await local?.listen({ host: '127.0.0.1', port: config.dashboard.localPort });
  const dashboardPort = local ? (local.server.address() as AddressInfo).port : port;
  log.info(
    {
      adminPort: port,
      concurrency: config.concurrency,
      dashboard: `${dashboardCredential ? '0.0.0.0' : '127.0.0.1'}:${dashboardPort}/queues`,
      dashboardAuth: dashboardCredential ? 'required' : 'none (loopback only)',
      dashboardReadOnly: config.dashboard.readOnly,
    },
    'Reconciler started',
  );
  return {
    adminUrl: `http://127.0.0.1:${port}`,
    dashboardUrl: `http://127.0.0.1:${dashboardPort}/queues`,
    resync: () => watcher.resync(),
    async close(graceMs) {
      await watcher.stop();
      await worker.close(graceMs);
      await Promise.all([admin.close(), local?.close(), enqueuer.close(), fetcher.close()]);
      await queue.close();
      redis.disconnect();
      state.disconnect();
      connections.close();
    },
  };
}
