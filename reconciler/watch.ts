import { createHash } from 'node:crypto';
import {
  NetworkingV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { formatKey } from '../shared/key.ts';
import type { Logger } from '../shared/log.ts';
import { errorMessage } from '../shared/errors.ts';
import { startInformer, type InformerState } from '../shared/kube/informer.ts';
import { exposedApiTarget } from '../shared/kube/exposed-apis.ts';

/** Labels the operator puts on what it owns (reconciler/render/ingress.ts writes them). */
export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=oda-apim-operator';
export const OWNER_LABEL = 'oda.tmforum.org/exposedapi';

export type WatchReason = 'added' | 'changed' | 'ingress' | 'resync';

export interface WatcherOptions {
  readonly kubeConfig: KubeConfig;
  readonly enqueue: (key: string, reason: WatchReason) => Promise<void>;
  /** Every ExposedAPI key, for the periodic resync. */
  readonly listKeys: () => Promise<string[]>;
  readonly resyncIntervalMs: number;
  readonly log: Logger;
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
}

export interface Watcher {
  state(): { exposedApis: InformerState; ingresses: InformerState; lastResyncAt?: string };
  /** Runs one full resync now (the timer runs it every interval). */
  resync(): Promise<number>;
  stop(): Promise<void>;
}

const keyOf = (o: KubernetesObject): string =>
  formatKey({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' });

/**
 * What the reconciler acts on. Status is left out: without a status
 * subresource (the ODA CRD) the operator's own status writes arrive as
 * updates, and reacting to them would reconcile forever.
 */
export function relevantFingerprint(o: KubernetesObject): string {
  const { metadata = {} } = o;
  const relevant = {
    spec: (o as { spec?: unknown }).spec,
    labels: metadata.labels,
    annotations: metadata.annotations,
    deleting: metadata.deletionTimestamp,
    finalizers: metadata.finalizers,
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('base64url');
}

/**
 * Queues a key on every change that matters, on every change to an Ingress
 * the operator owns (its load-balancer address arriving, or a hand edit), and
 * all keys every resync interval. Safe to run in every replica: the queue
 * deduplicates by key, so N watchers cost N cheap Redis calls, not N reconciles.
 */
export function startWatcher(options: WatcherOptions): Watcher {
  const { log } = options;
  const seen = new Map<string, string>();
  const enqueue = (key: string, reason: WatchReason): void => {
    options
      .enqueue(key, reason)
      .catch((error: unknown) =>
        log.warn({ key, reason, err: errorMessage(error) }, 'Could not queue a reconcile; the next resync will'),
      );
  };
  const exposedApis = startInformer({
    kubeConfig: options.kubeConfig,
    what: 'ExposedAPIs',
    target: () => exposedApiTarget(options.kubeConfig),
    log,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    handlers: {
      onAdd: (o) => {
        seen.set(keyOf(o), relevantFingerprint(o));
        enqueue(keyOf(o), 'added');
      },
      onUpdate: (o) => {
        const fingerprint = relevantFingerprint(o);
        if (seen.get(keyOf(o)) === fingerprint) return;
        seen.set(keyOf(o), fingerprint);
        enqueue(keyOf(o), 'changed');
      },
      onDelete: (o) => void seen.delete(keyOf(o)),
    },
  });
  const networking = options.kubeConfig.makeApiClient(NetworkingV1Api);
  const ownerOf = (o: KubernetesObject): string | undefined => {
    const name = o.metadata?.labels?.[OWNER_LABEL];
    return name ? formatKey({ namespace: o.metadata?.namespace ?? '', name }) : undefined;
  };
  const onIngress = (o: KubernetesObject): void => {
    const owner = ownerOf(o);
    if (owner) enqueue(owner, 'ingress');
  };
  const ingresses = startInformer({
    kubeConfig: options.kubeConfig,
    what: 'operator-owned Ingresses',
    target: async () => ({
      path: '/apis/networking.k8s.io/v1/ingresses',
      labelSelector: MANAGED_BY_SELECTOR,
      list: async () =>
        (await networking.listIngressForAllNamespaces({
          labelSelector: MANAGED_BY_SELECTOR,
        })) as KubernetesListObject<KubernetesObject>,
    }),
    log,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    handlers: { onUpdate: onIngress, onDelete: onIngress },
  });
  let lastResyncAt: string | undefined;
  const resync = async (): Promise<number> => {
    const keys = await options.listKeys();
    await Promise.all(keys.map((key) => options.enqueue(key, 'resync')));
    lastResyncAt = new Date().toISOString();
    log.info({ count: keys.length }, 'Resync queued every ExposedAPI');
    return keys.length;
  };
  const timer = setInterval(() => {
    resync().catch((error: unknown) =>
      log.warn({ err: errorMessage(error) }, 'Resync failed; trying again next interval'),
    );
  }, options.resyncIntervalMs);
  timer.unref();
  return {
    state: () => ({
      exposedApis: exposedApis.state(),
      ingresses: ingresses.state(),
      ...(lastResyncAt ? { lastResyncAt } : {}),
    }),
    resync,
    async stop() {
      clearInterval(timer);
      await Promise.all([exposedApis.stop(), ingresses.stop()]);
    },
  };
}
