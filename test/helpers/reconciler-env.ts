import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startReconciler, type RunningReconciler } from '../../reconciler/server.ts';
import { createLogger } from '../../shared/log.ts';
import { recordMetrics, testLogger } from './scan-recording.ts';
import { recordQueue } from './record-queue.ts';
import { Queue } from 'bullmq';
import {
  startAzureStandIns,
  TEST_CLIENT,
  TEST_SERVICE,
  TEST_TENANT,
  type AzureStandIns,
} from '../fakes/azure-stand-ins.ts';
import { startKubeApiServer, type KubeApiServer, type KubeApiServerOptions } from '../fakes/kube-api-server.ts';
import { startSpecServer, type SpecServer } from './spec-server.ts';
import { REDIS_URL } from './webhook.ts';
import { RECONCILE_QUEUE } from '../../shared/jobs.ts';

/** The bearer token the reconciler under test sends: `user` of its calls in `kube.requests`. */
export const RECONCILER_TOKEN = 'apim-operator-reconciler';

export interface ReconcilerEnvironment {
  readonly kube: KubeApiServer;
  readonly azure: AzureStandIns;
  readonly specs: SpecServer;
  /** What `npm run reconciler` needs to run against these stand-ins. */
  readonly env: Record<string, string>;
  /** Gives the operator's Ingress for ns/name a load-balancer address, as the ingress controller would. */
  giveAddress(namespace: string, name: string, ip?: string): Promise<void>;
  /**
   * Puts an implementing Service in place (or changes it) with one EndpointSlice whose endpoints are
   * ready or not, as the EndpointSlice controller writes them from the Pods' readiness.
   */
  implementation(namespace: string, service: string, options?: ImplementationOptions): void;
  /** Resolves when no reconcile is waiting or running (a delayed "look again later" may remain). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface ImplementationOptions {
  /** Each endpoint's ready condition; default one ready endpoint. */
  readonly endpoints?: readonly boolean[];
  readonly type?: 'ClusterIP' | 'ExternalName';
  readonly selector?: Record<string, string>;
  readonly labels?: Record<string, string>;
}

/**
 * Every stand-in the reconciler talks to: the Kubernetes API (with or without
 * the ExposedAPI status subresource), Entra ID, Key Vault holding the seed's
 * secret names, ARM for APIM, a spec server, and a queue prefix of its own.
 */
export interface EnvironmentOptions {
  readonly statusSubresource?: boolean;
  /** Ready waits for a ready endpoint of the implementing Service (the product's default); off unless asked. */
  readonly requireReadyEndpoints?: boolean;
  /** Resource types the Kubernetes stand-in serves (default: all it knows). */
  readonly types?: KubeApiServerOptions['types'];
  /** The Kubernetes and ARM stand-ins keep every request as sent (`sent`), to replay them. */
  readonly recordBodies?: boolean;
  /** Default REDIS_URL (the shared one). */
  readonly redisUrl?: string;
}

export async function startReconcilerEnvironment(options: EnvironmentOptions = {}): Promise<ReconcilerEnvironment> {
  const azure = await startAzureStandIns(options.recordBodies ? { recordBodies: true } : {});
  const redisUrl = options.redisUrl ?? REDIS_URL;
  for (const [name, value] of Object.entries({
    'apim-service-name': TEST_SERVICE.name,
    'resource-group': TEST_SERVICE.resourceGroup,
    'subscription-id': TEST_SERVICE.subscriptionId,
    'aad-tenant-id': TEST_TENANT,
    'aad-client-id': TEST_CLIENT,
  })) {
    azure.vault.setSecret(name, value);
  }
  const kube = await startKubeApiServer({
    ...(options.statusSubresource ? { overrides: { 'exposedapis.oda.tmforum.org': { statusSubresource: true } } } : {}),
    ...(options.types ? { types: options.types } : {}),
    ...(options.recordBodies ? { recordBodies: true } : {}),
  });
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'apim-kube-')), 'config');
  // The operator's own token, so that its calls can be told from a test's (kube.requests[].user).
  writeFileSync(kubeconfig, kube.kubeconfigYaml(RECONCILER_TOKEN));
  const specs = await startSpecServer();
  const prefix = `test-${randomUUID()}`;
  const env = {
    ...azure.env,
    KUBECONFIG: kubeconfig,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    ADMIN_PORT: '0',
    ADMIN_HOST: '127.0.0.1',
    DASHBOARD_LOCAL_PORT: '0',
    RESYNC_INTERVAL_SECONDS: '3600',
    BACKOFF_BASE_MS: '50',
    BACKOFF_MAX_MS: '1000',
    APIM_WRITES_PER_SECOND: '1000',
    APIM_POLL_INTERVAL_MS: '10',
    APIM_GATEWAY_URL: 'https://apim-test.azure-api.net',
    REQUIRE_READY_ENDPOINTS: String(options.requireReadyEndpoints ?? false),
  };
  const networking = kube.kubeconfig().makeApiClient(NetworkingV1Api);
  const queue = new Queue(RECONCILE_QUEUE, { connection: { url: redisUrl } as never, prefix });
  return {
    kube,
    azure,
    specs,
    env,
    async giveAddress(namespace, name, ip = '10.0.0.9') {
      await kube.waitFor(() => kube.get('ingresses', namespace, name) !== undefined);
      await networking.patchNamespacedIngressStatus(
        { namespace, name, body: { status: { loadBalancer: { ingress: [{ ip }] } } } },
        merge,
      );
    },
    implementation(namespace, service, options = {}) {
      const type = options.type ?? 'ClusterIP';
      kube.seed({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: service, namespace, labels: options.labels ?? { name: service } },
        spec:
          type === 'ExternalName'
            ? { type, externalName: 'api.example.com' }
            : { type, selector: options.selector ?? { impl: service }, ports: [{ port: 8080 }] },
      });
      if (type === 'ExternalName') return;
      kube.seed({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${service}-x7k2p`, namespace, labels: { 'kubernetes.io/service-name': service } },
        addressType: 'IPv4',
        endpoints: (options.endpoints ?? [true]).map((ready, i) => ({
          addresses: [`10.1.0.${i + 10}`],
          conditions: { ready, serving: ready, terminating: false },
        })),
        ports: [{ port: 8080, protocol: 'TCP' }],
      });
    },
    async idle() {
      for (;;) {
        const counts = await queue.getJobCounts('waiting', 'active', 'prioritized');
        if (Object.values(counts).every((n) => n === 0)) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await recordQueue(REDIS_URL, prefix);
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await Promise.all([kube.close(), azure.close(), specs.close()]);
    },
  };
}

/** A reconciler running in this process against a fresh set of stand-ins; both end with the test. `env` overrides its settings. */
export async function reconcilerUnderTest(
  t: { teardown(fn: () => unknown): void },
  options: EnvironmentOptions = {},
  env: Record<string, string> = {},
): Promise<{ world: ReconcilerEnvironment; reconciler: RunningReconciler; custom: CustomObjectsApi }> {
  const world = await startReconcilerEnvironment(options);
  // TEST_LOG_LEVEL=debug shows the reconciler's log of a failing test on stderr.
  const level = process.env.TEST_LOG_LEVEL;
  const reconciler = await startReconciler(
    { ...world.env, ...env },
    level ? createLogger('reconciler', level) : testLogger('reconciler'),
  );
  t.teardown(async () => {
    await recordMetrics('reconciler', async () => (await fetch(`${reconciler.adminUrl}/metrics`)).text());
    await reconciler.close(1000);
    await world.close();
  });
  return { world, reconciler, custom: world.kube.kubeconfig().makeApiClient(CustomObjectsApi) };
}
