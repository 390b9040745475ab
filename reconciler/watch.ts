import { createHash } from 'node:crypto';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { errorMessage } from '../shared/errors.ts';
import type { InformerHandlers, InformerState } from '../shared/kube/informer.ts';
import type { EnqueueOptions } from '../shared/jobs.ts';
import { formatKey } from '../shared/key.ts';
import type { Logger } from '../shared/log.ts';
import type { MonitoredNamespaces } from '../shared/namespaces.ts';
import { type CachedKind, type ClusterCache, SERVICE_NAME_LABEL, startClusterCache } from './cluster-cache.ts';
import type { KubeObject } from './clients/kube-types.ts';
import { componentApiEntries } from './render/component-status.ts';
import { implementationReadiness } from './render/readiness.ts';
import { EXPOSED_API_LABEL } from './render/ingress.ts';

export type WatchReason = 'added' | 'changed' | 'owned' | 'ingress' | 'component' | 'endpoints' | 'resync';

export interface WatcherOptions {
  readonly kubeConfig: KubeConfig;
  readonly enqueue: (key: string, reason: WatchReason, options: EnqueueOptions) => Promise<void>;
  readonly resyncIntervalMs: number;
  readonly log: Logger;
  readonly namespaces: MonitoredNamespaces;
  /** Watch EndpointSlices and Services for implementation readiness. */
  readonly readiness: boolean;
  /** Asked before each resync (periodic: by the timer); false skips it (another replica runs this interval's). */
  readonly beforeResync?: (periodic: boolean) => Promise<boolean>;
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Told after each resync that ran: the keys it queued and how long that took. */
  readonly onResync?: (keys: number, ms: number) => void;
  /** Drawn once per key per periodic resync; default Math.random. */
  readonly random?: () => number;
}

/** The periodic resync spreads its keys over this share of the interval: drift checks are no burst. */
export const RESYNC_SPREAD = 0.9;

export interface Watcher {
  /** What every reconcile reads from. */
  readonly cache: ClusterCache;
  state(): Partial<Record<CachedKind, InformerState>> & { lastResyncAt?: string };
  /** Runs one full resync now (the timer runs it every interval). */
  resync(): Promise<number>;
  stop(): Promise<void>;
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }): string =>
  formatKey({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' });
const hash = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('base64url');

/**
 * Whether a reason to look at a key may cut short the delay a job for it is
 * waiting out. A change to the resource always may; a resync never does. The
 * rest (an Ingress address arriving, the Component's entry, the endpoints
 * turning ready) may end a "not ready yet" wait or a resync's spread slot,
 * but not a backoff after a failure (`status.retry`): that one may be
 * honouring ARM's Retry-After.
 */
export function mayCutWait(reason: WatchReason, cached: { status?: unknown } | undefined): boolean {
  if (reason === 'changed') return true;
  if (reason === 'resync') return false;
  return (cached?.status as { retry?: unknown } | undefined)?.retry === undefined;
}

/**
 * What the reconciler acts on. Status is left out: without a status
 * subresource (the ODA CRD) the operator's own status writes arrive as
 * updates, and reacting to them would reconcile forever.
 */
export function relevantFingerprint(o: KubernetesObject): string {
  const { metadata = {} } = o;
  return hash({
    spec: (o as { spec?: unknown }).spec,
    labels: metadata.labels,
    annotations: metadata.annotations,
    deleting: metadata.deletionTimestamp,
    finalizers: metadata.finalizers,
  });
}

/**
 * Queues a key on every change that matters: its ExposedAPI's spec, labels,
 * annotations or deletion; an object the operator owns for it (an Ingress's
 * address arriving, a hand edit or delete); its owning Component's API
 * entries changing (the component operator wrote the entry, or rewrote it);
 * the readiness of its implementing Service flipping. All keys are queued
 * every resync interval. Safe in every replica: the queue deduplicates by
 * key, so N watchers cost N cheap Redis calls, not N reconciles.
 */
export function startWatcher(options: WatcherOptions): Watcher {
  const { log } = options;
  const enqueue = (key: string, reason: WatchReason): void => {
    const [namespace = '', name = ''] = key.split('/');
    const replace = mayCutWait(reason, cache?.store('exposedapis').get(namespace, name));
    options.enqueue(key, reason, { replace }).catch((error: unknown) => {
      log.warn(
        { resource: key, reason, err: errorMessage(error) },
        'Could not queue a reconcile; the next resync will',
      );
    });
  };
  const seen = new Map<string, string>();
  const componentsSeen = new Map<string, string>();
  const readinessSeen = new Map<string, boolean>();
  let cache: ClusterCache | undefined;
  const store = (kind: CachedKind) => (cache as ClusterCache).store(kind);

  const exposedApis: InformerHandlers = {
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
  };
  const owned = (reason: WatchReason): InformerHandlers => {
    // The owner reference names the ExposedAPI in full; the label may carry a shortened name.
    const queueOwner = (o: KubernetesObject): void => {
      const name =
        o.metadata?.ownerReferences?.find((r) => r.kind === 'ExposedAPI')?.name ??
        o.metadata?.labels?.[EXPOSED_API_LABEL];
      if (name) enqueue(formatKey({ namespace: o.metadata?.namespace ?? '', name }), reason);
    };
    return { onUpdate: queueOwner, onDelete: queueOwner };
  };
  const onComponent = (o: KubernetesObject): void => {
    const component = o as KubeObject;
    const fingerprint = hash(componentApiEntries(component));
    if (componentsSeen.get(keyOf(o)) === fingerprint) return;
    componentsSeen.set(keyOf(o), fingerprint);
    for (const child of store('exposedapis').byIndex('owner', component.metadata.uid ?? '')) {
      enqueue(keyOf(child), 'component');
    }
  };
  const onImplementation = (namespace: string, service: string | undefined): void => {
    if (!service || !cache?.synced('services') || !cache.synced('endpointslices')) return;
    const id = `${namespace}/${service}`;
    const { ready } = implementationReadiness(
      namespace,
      service,
      store('services').get(namespace, service),
      store('endpointslices').byIndex('service', id),
    );
    if (readinessSeen.get(id) === ready) return;
    readinessSeen.set(id, ready);
    for (const api of store('exposedapis').byIndex('implementation', id)) enqueue(keyOf(api), 'endpoints');
  };
  const slices: InformerHandlers = {
    onAdd: (o) => onImplementation(o.metadata?.namespace ?? '', o.metadata?.labels?.[SERVICE_NAME_LABEL]),
    onUpdate: (o) => onImplementation(o.metadata?.namespace ?? '', o.metadata?.labels?.[SERVICE_NAME_LABEL]),
    onDelete: (o) => onImplementation(o.metadata?.namespace ?? '', o.metadata?.labels?.[SERVICE_NAME_LABEL]),
  };
  const services: InformerHandlers = {
    onAdd: (o) => onImplementation(o.metadata?.namespace ?? '', o.metadata?.name),
    onUpdate: (o) => onImplementation(o.metadata?.namespace ?? '', o.metadata?.name),
    onDelete: (o) => onImplementation(o.metadata?.namespace ?? '', o.metadata?.name),
  };

  const kinds: CachedKind[] = ['exposedapis', 'components', 'ingresses', 'secrets', 'servicemonitors'];
  if (options.readiness) kinds.push('services', 'endpointslices');
  cache = startClusterCache({
    kubeConfig: options.kubeConfig,
    log,
    namespaces: options.namespaces,
    kinds,
    handlers: {
      exposedapis: exposedApis,
      ingresses: owned('ingress'),
      secrets: owned('owned'),
      servicemonitors: owned('owned'),
      components: { onAdd: onComponent, onUpdate: onComponent, onDelete: (o) => void componentsSeen.delete(keyOf(o)) },
      endpointslices: slices,
      services,
    },
    ...(options.backoff ? { backoff: options.backoff } : {}),
  });

  let lastResyncAt: string | undefined;
  const resync = async (periodic = false): Promise<number> => {
    if (options.beforeResync && !(await options.beforeResync(periodic))) return 0;
    const started = performance.now();
    const keys = store('exposedapis').list().map(keyOf).sort();
    const spreadMs = periodic ? options.resyncIntervalMs * RESYNC_SPREAD : 0;
    const random = options.random ?? Math.random;
    await Promise.all(
      keys.map((key) => options.enqueue(key, 'resync', { replace: false, delayMs: Math.floor(random() * spreadMs) })),
    );
    lastResyncAt = new Date().toISOString();
    options.onResync?.(keys.length, performance.now() - started);
    log.info({ count: keys.length }, 'Resync queued every ExposedAPI');
    return keys.length;
  };
  const timer = setInterval(() => {
    resync(true).catch((error: unknown) =>
      log.warn({ err: errorMessage(error) }, 'Resync failed; trying again next interval'),
    );
  }, options.resyncIntervalMs);
  timer.unref();
  return {
    cache,
    state: () => ({ ...(cache as ClusterCache).state(), ...(lastResyncAt ? { lastResyncAt } : {}) }),
    resync: () => resync(false),
    async stop() {
      clearInterval(timer);
      await (cache as ClusterCache).stop();
    },
  };
}
