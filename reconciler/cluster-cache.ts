/**
 * The reconciler's informer caches: everything a reconcile reads from
 * Kubernetes, kept current by list+watch, so that a reconcile of an unchanged
 * resource (every resync) costs the API server nothing. Operator-owned
 * objects (Ingresses, Secrets, ServiceMonitors) are watched by the operator's
 * label only, never every object of their kind. With a plain list of
 * monitored namespaces every watch runs per namespace; otherwise cluster-wide,
 * keeping only the monitored namespaces' objects.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { startInformer, type Informer, type InformerHandlers, type InformerState } from '../shared/kube/informer.ts';
import { createObjectStore, type ObjectStore, type WritableObjectStore } from '../shared/kube/object-store.ts';
import { discoverVersion, GROUP, PLURAL } from '../shared/kube/exposed-apis.ts';
import { resourceTarget, servedVersion, type ResourceRef } from '../shared/kube/targets.ts';
import type { Logger } from '../shared/log.ts';
import type { MonitoredNamespaces } from '../shared/namespaces.ts';
import type { KubeObject } from './clients/kube-types.ts';
import { MANAGED_BY_LABEL, MANAGER } from './render/ingress.ts';

export type CachedKind =
  | 'exposedapis'
  | 'components'
  | 'ingresses'
  | 'secrets'
  | 'services'
  | 'endpointslices'
  | 'servicemonitors';

export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGER}`;
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

interface KindSpec {
  readonly what: string;
  /** The version to watch; undefined when the cluster does not serve the resource. */
  readonly ref: (kubeConfig: KubeConfig) => Promise<ResourceRef | undefined>;
  readonly labelSelector?: string;
  readonly indexes?: Record<string, (o: KubeObject) => readonly string[]>;
}

const fixed = (group: string, version: string, plural: string) => async (): Promise<ResourceRef> => ({
  group,
  version,
  plural,
});
const optional = (group: string, plural: string) => async (kubeConfig: KubeConfig) => {
  const version = await servedVersion(kubeConfig, group, plural);
  return version ? { group, version, plural } : undefined;
};
const namespaceOf = (o: KubeObject): string => o.metadata.namespace ?? '';

const KINDS: Record<CachedKind, KindSpec> = {
  exposedapis: {
    what: 'ExposedAPIs',
    ref: async (kubeConfig) => ({ group: GROUP, version: (await discoverVersion(kubeConfig)).version, plural: PLURAL }),
    indexes: {
      owner: (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid),
      implementation: (o) =>
        typeof o.spec?.implementation === 'string' ? [`${namespaceOf(o)}/${o.spec.implementation}`] : [],
    },
  },
  components: { what: 'Components', ref: optional(GROUP, 'components') },
  ingresses: {
    what: 'operator-owned Ingresses',
    ref: fixed('networking.k8s.io', 'v1', 'ingresses'),
    labelSelector: MANAGED_BY_SELECTOR,
  },
  secrets: { what: 'operator-owned Secrets', ref: fixed('', 'v1', 'secrets'), labelSelector: MANAGED_BY_SELECTOR },
  services: { what: 'Services', ref: fixed('', 'v1', 'services') },
  endpointslices: {
    what: 'EndpointSlices',
    ref: fixed('discovery.k8s.io', 'v1', 'endpointslices'),
    indexes: {
      service: (o) => {
        const service = o.metadata.labels?.[SERVICE_NAME_LABEL];
        return service ? [`${namespaceOf(o)}/${service}`] : [];
      },
    },
  },
  servicemonitors: {
    what: 'operator-owned ServiceMonitors',
    ref: optional('monitoring.coreos.com', 'servicemonitors'),
    labelSelector: MANAGED_BY_SELECTOR,
  },
};

export interface ClusterCache {
  store(kind: CachedKind): ObjectStore<KubeObject>;
  /** Whether the kind is cached here at all (some are only with features that need them). */
  has(kind: CachedKind): boolean;
  /** Every informer of the kind has listed once (an unserved resource counts, empty). */
  synced(kind: CachedKind): boolean;
  /** False while the cluster does not serve the kind (an optional CRD not installed). */
  served(kind: CachedKind): boolean;
  /** Our own write's answer, seen before its watch event arrives. */
  observe(kind: CachedKind, object: KubeObject): void;
  /** Our own delete, seen before its watch event arrives. */
  forget(kind: CachedKind, object: KubeObject): void;
  state(): Partial<Record<CachedKind, InformerState>>;
  stop(): Promise<void>;
}

export interface ClusterCacheOptions {
  readonly kubeConfig: KubeConfig;
  readonly log: Logger;
  readonly namespaces: MonitoredNamespaces;
  readonly kinds: readonly CachedKind[];
  readonly handlers?: Partial<Record<CachedKind, InformerHandlers>>;
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
}

export function startClusterCache(options: ClusterCacheOptions): ClusterCache {
  const { kubeConfig, log, namespaces } = options;
  const stores = new Map<CachedKind, WritableObjectStore<KubeObject>>();
  const informers = new Map<CachedKind, Informer[]>();
  const accept = (o: KubernetesObject): boolean => namespaces.matches(o.metadata?.namespace ?? '');
  for (const kind of options.kinds) {
    const spec = KINDS[kind];
    const store = createObjectStore<KubeObject>(spec.indexes);
    stores.set(kind, store);
    const scopes: readonly (string | undefined)[] = namespaces.names ?? [undefined];
    informers.set(
      kind,
      scopes.map((namespace) =>
        startInformer({
          kubeConfig,
          log,
          what: namespace ? `${spec.what} in ${namespace}` : spec.what,
          target: async () => {
            const ref = await spec.ref(kubeConfig);
            return (
              ref &&
              resourceTarget(kubeConfig, ref, {
                ...(namespace ? { namespace } : {}),
                ...(spec.labelSelector ? { labelSelector: spec.labelSelector } : {}),
              })
            );
          },
          store,
          accept,
          handlers: options.handlers?.[kind] ?? {},
          ...(options.backoff ? { backoff: options.backoff } : {}),
        }),
      ),
    );
  }
  const storeOf = (kind: CachedKind): WritableObjectStore<KubeObject> => {
    const store = stores.get(kind);
    if (!store) throw new Error(`${kind} are not cached by this reconciler`);
    return store;
  };
  const states = (kind: CachedKind): InformerState[] => (informers.get(kind) ?? []).map((i) => i.state());
  return {
    store: storeOf,
    has: (kind) => stores.has(kind),
    synced: (kind) => stores.has(kind) && states(kind).every((s) => s.synced),
    served: (kind) => states(kind).some((s) => s.enabled),
    observe: (kind, object) => {
      stores.get(kind)?.upsert(object);
    },
    forget: (kind, object) => stores.get(kind)?.remove(object),
    state() {
      const merged: Partial<Record<CachedKind, InformerState>> = {};
      for (const kind of informers.keys()) {
        const all = states(kind);
        const unhealthy = all.find((s) => s.reason !== undefined);
        merged[kind] = {
          enabled: all.some((s) => s.enabled),
          synced: all.every((s) => s.synced),
          ...(unhealthy?.reason ? { reason: unhealthy.reason } : {}),
        };
      }
      return merged;
    },
    async stop() {
      await Promise.all([...informers.values()].flat().map((i) => i.stop()));
    },
  };
}
