/**
 * The reconciler's narrow view of Kubernetes (the calls, error
 * classification, owned-object appliers, Event recorder and object helpers
 * sit beside it). Reads come from the informer cache once it has listed, so
 * an unchanged resource costs the API server nothing; writes go to the API
 * server and their answers into the cache. 404 becomes undefined (or success
 * where a thing being gone is the goal); every other failure becomes a
 * RetryableError (409, 429, 5xx, network; Retry-After honoured) or a
 * PermanentError (400, 403, 422 and other refusals that a retry cannot fix).
 *
 * Group-based resources go through CustomObjectsApi: bodies stay plain JSON,
 * with no typed-model round trip that drops unknown fields, turns timestamps
 * into Dates or mis-formats MicroTime.
 */
import { hostname } from 'node:os';
import { PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { RetryableError } from '../../shared/errors.ts';
import { discoverVersion, GROUP, PLURAL } from '../../shared/kube/exposed-apis.ts';
import { describeError } from '../../shared/kube/errors.ts';
import { formatKey, type ResourceKey } from '../../shared/key.ts';
import type { Logger } from '../../shared/log.ts';
import type { CachedKind, ClusterCache } from '../cluster-cache.ts';
import { implementationReadiness, type ImplementationReadiness } from '../render/readiness.ts';
import type { PatchOperation } from '../render/component-status.ts';
import { createKubeCalls, type ObjectRef } from './kube-calls.ts';
import { classify, statusOf } from './kube-errors.ts';
import { createEventRecorder } from './kube-events.ts';
import { plain } from './kube-objects.ts';
import { applyCustomObject, applySecretObject, deleteCustomObject, type OwnedKind } from './kube-owned.ts';
import type { KubeEvent, KubeObject } from './kube-types.ts';

export interface KubeClient {
  /** The live ExposedAPI, read through the served version chosen at construction; undefined when there is none. */
  getExposedApi(key: ResourceKey): Promise<KubeObject | undefined>;
  /**
   * Replaces the object's status with `status` (the operator owns it whole:
   * nothing stale such as an old retry state stays behind), only if the object
   * is still at `resourceVersion` (else RetryableError). Through /status when
   * the CRD has that subresource, else through the main resource.
   */
  writeStatus(key: ResourceKey, status: object, resourceVersion: string): Promise<KubeObject>;
  /** Adds a finalizer if the object is still at `resourceVersion` (else RetryableError); returns the updated object. */
  addFinalizer(key: ResourceKey, finalizer: string, resourceVersion: string): Promise<KubeObject>;
  /** Drops one finalizer if the object is still at `resourceVersion` (else RetryableError); gone already → done. */
  removeFinalizer(key: ResourceKey, finalizer: string, resourceVersion: string): Promise<void>;
  getIngress(key: ResourceKey): Promise<KubeObject | undefined>;
  /** Creates, or updates what differs in labels, annotations, ownerReferences and spec; no write when nothing differs. Live status is kept. */
  applyIngress(ingress: object): Promise<KubeObject>;
  deleteIngress(key: ResourceKey): Promise<void>;
  /** Creates, or updates what differs (type, data, labels, annotations, ownerReferences); stringData is written as data. */
  applySecret(secret: object): Promise<void>;
  /** The decoded data of a Secret; undefined when there is none. */
  getSecretData(key: ResourceKey): Promise<Record<string, string> | undefined>;
  /** A Component; `fresh` reads the API server, not the cache (after a conflict). */
  getComponent(key: ResourceKey, options?: { fresh?: boolean }): Promise<KubeObject | undefined>;
  /**
   * Applies a JSON Patch to a Component's status if it is still at
   * `resourceVersion`: through /status when its CRD has one, else the main
   * resource. 'conflict' when it changed meanwhile (409, or a failed `test`).
   */
  patchComponentStatus(
    key: ResourceKey,
    operations: readonly PatchOperation[],
    resourceVersion: string,
  ): Promise<KubeObject | 'conflict' | 'gone'>;
  /** Whether the Service can take traffic; undefined when this reconciler does not watch readiness. */
  implementationReadiness(namespace: string, service: string): ImplementationReadiness | undefined;
  /** Whether prometheus-operator's ServiceMonitor is served by the cluster. */
  serviceMonitorsServed(): Promise<boolean>;
  getServiceMonitor(key: ResourceKey): Promise<KubeObject | undefined>;
  applyServiceMonitor(serviceMonitor: object): Promise<KubeObject>;
  /** True when there was one to delete. */
  deleteServiceMonitor(key: ResourceKey): Promise<boolean>;
  getService(key: ResourceKey): Promise<KubeObject | undefined>;
  /** Pods matching every label of `selector`. */
  listPods(namespace: string, selector: Readonly<Record<string, string>>): Promise<KubeObject[]>;
  /** Sets (or, with null, removes) annotations on a Pod; a Pod gone meanwhile is skipped. */
  annotatePod(key: ResourceKey, annotations: Readonly<Record<string, string | null>>): Promise<void>;
  /** An events.k8s.io/v1 Event; repeats of the same event grow its series. Never throws: failures are logged. */
  recordEvent(regarding: KubeObject, event: KubeEvent): Promise<void>;
}

export interface KubeClientOptions {
  /** Whether ExposedAPI has a /status subresource; 'detect' (default) reads discovery once. */
  readonly statusSubresource?: boolean | 'detect';
  /** The ExposedAPI version to read and write; default the group's preferred version from discovery. */
  readonly version?: string;
  /** Reports every API call: an operation name, the HTTP status (or 'error' when no answer came) and the duration. */
  readonly onCall?: (op: string, status: number | 'error', ms: number) => void;
  readonly log: Logger;
  /** Informer caches to read from (once listed) and to tell about our writes; without one, every read goes to the API server. */
  readonly cache?: ClusterCache;
  /** events.k8s.io reportingController / reportingInstance. */
  readonly reportingController?: string;
  readonly reportingInstance?: string;
}

const INGRESS: OwnedKind = { ref: { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses' }, kind: 'Ingress' };
const SERVICE_MONITOR: OwnedKind = {
  ref: { group: 'monitoring.coreos.com', version: 'v1', plural: 'servicemonitors' },
  kind: 'ServiceMonitor',
};
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function createKubeClient(kubeConfig: KubeConfig, options: KubeClientOptions): KubeClient {
  const calls = createKubeCalls(kubeConfig, options.onCall);
  const { custom, core } = calls;
  const { log, cache } = options;
  const reportingController = options.reportingController ?? `${GROUP}/apim-operator`;
  const reportingInstance = options.reportingInstance ?? hostname();

  /** The cache's answer once that kind has listed; otherwise (or without a cache) the API server's. */
  const cached =
    (kind: CachedKind, fetch: (key: ResourceKey) => Promise<KubeObject | undefined>) =>
    async (key: ResourceKey): Promise<KubeObject | undefined> =>
      cache?.synced(kind) ? cache.store(kind).get(key.namespace, key.name) : fetch(key);
  const seen = (kind: CachedKind, object: KubeObject): KubeObject => {
    cache?.observe(kind, object);
    return object;
  };

  let versionFound: string | undefined = options.version;
  async function version(): Promise<string> {
    if (versionFound) return versionFound;
    const found = await discoverVersion(kubeConfig);
    if (found.note)
      log.warn({ version: found.version, reason: found.note }, 'Fell back to the default ExposedAPI version');
    else versionFound = found.version;
    return found.version;
  }
  const exposedApi = async (key: ResourceKey): Promise<ObjectRef> => ({
    group: GROUP,
    version: await version(),
    plural: PLURAL,
    namespace: key.namespace,
    name: key.name,
  });
  const componentRef = async (key: ResourceKey): Promise<ObjectRef | undefined> => {
    const served = await calls.servedVersion(GROUP, 'components');
    return served ? { group: GROUP, version: served, plural: 'components', ...key } : undefined;
  };

  /** A JSON Patch of an object, through /status when asked; the caller classifies failures. */
  const patch = (op: string, ref: ObjectRef, body: readonly unknown[], viaStatus: boolean) =>
    viaStatus
      ? calls.call(`${op}Status`, () =>
          custom.patchNamespacedCustomObjectStatusWithHttpInfo({ ...ref, body }, JSON_PATCH),
        )
      : calls.call(op, () => custom.patchNamespacedCustomObjectWithHttpInfo({ ...ref, body }, JSON_PATCH));

  const readExposedApi = cached('exposedapis', async (key) =>
    calls.readObject('getExposedApi', `get ExposedAPI ${formatKey(key)}`, await exposedApi(key)),
  );
  const getIngress = cached('ingresses', (key) =>
    calls.readObject('getIngress', `get Ingress ${formatKey(key)}`, { ...INGRESS.ref, ...key }),
  );
  const getSecret = cached('secrets', async (key) => {
    const secret = await calls.read('getSecret', `get Secret ${formatKey(key)}`, () =>
      core.readNamespacedSecretWithHttpInfo(key),
    );
    return secret && plain(secret);
  });
  const getServiceMonitor = cached('servicemonitors', (key) =>
    calls.readObject('getServiceMonitor', `get ServiceMonitor ${formatKey(key)}`, { ...SERVICE_MONITOR.ref, ...key }),
  );
  const getService = cached('services', async (key) => {
    const service = await calls.read('getService', `get Service ${formatKey(key)}`, () =>
      core.readNamespacedServiceWithHttpInfo(key),
    );
    return service && plain(service);
  });
  const readComponent = async (key: ResourceKey): Promise<KubeObject | undefined> => {
    const ref = await componentRef(key);
    return ref && calls.readObject('getComponent', `get Component ${formatKey(key)}`, ref);
  };
  const cachedComponent = cached('components', readComponent);
  const events = createEventRecorder({ custom, call: calls.call, log, reportingController, reportingInstance });

  return {
    getExposedApi: readExposedApi,

    async writeStatus(key, status, resourceVersion) {
      // JSON patch `add` replaces a member that exists; the resourceVersion is the precondition.
      const body = [
        { op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion },
        { op: 'add', path: '/status', value: status },
      ];
      const ref = await exposedApi(key);
      const what = `write status of ExposedAPI ${formatKey(key)}`;
      try {
        const given = options.statusSubresource;
        const viaStatus =
          given === true || given === false ? given : await calls.hasStatusSubresource(GROUP, ref.version, PLURAL);
        return seen('exposedapis', plain(await patch('patchExposedApi', ref, body, viaStatus)));
      } catch (error) {
        // A deleted object cannot take a status: retry, and the next read finds it gone.
        if (statusOf(error) === 404) throw new RetryableError(`${what}: the object is gone`, { cause: error });
        throw classify(error, what);
      }
    },

    async addFinalizer(key, finalizer, resourceVersion) {
      const body = [
        { op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion },
        // `add` at /metadata/finalizers/- needs the list; adding the whole list when missing is the same change.
        { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
      ];
      const ref = await exposedApi(key);
      const live = (await readExposedApi(key))?.metadata.finalizers;
      if (live?.length) body[1] = { op: 'add', path: '/metadata/finalizers/-', value: finalizer };
      try {
        const updated = seen('exposedapis', plain(await patch('patchExposedApi', ref, body, false)));
        log.info({ resource: formatKey(key), finalizer }, 'Added finalizer');
        return updated;
      } catch (error) {
        throw classify(error, `add finalizer ${finalizer} to ExposedAPI ${formatKey(key)}`);
      }
    },

    async removeFinalizer(key, finalizer, resourceVersion) {
      const ref = await exposedApi(key);
      const what = `remove finalizer ${finalizer} from ExposedAPI ${formatKey(key)}`;
      const live = await calls.readObject('getExposedApi', `get ExposedAPI ${formatKey(key)}`, ref);
      const index = live?.metadata.finalizers?.indexOf(finalizer) ?? -1;
      if (!live || index < 0) return;
      // The test keeps us from removing another finalizer if the list moved; the
      // resourceVersion is a precondition (409) so no concurrent change is overwritten.
      const body = [
        { op: 'test', path: `/metadata/finalizers/${index}`, value: finalizer },
        { op: 'remove', path: `/metadata/finalizers/${index}` },
        { op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion },
      ];
      try {
        await patch('patchExposedApi', ref, body, false);
        log.info({ resource: formatKey(key), finalizer }, 'Removed finalizer');
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) return;
        // 422 here can only be the failed test: the finalizer list changed under us.
        if (status === 422)
          throw new RetryableError(`${what}: the finalizers changed meanwhile (${describeError(error)})`, {
            cause: error,
          });
        throw classify(error, what);
      }
    },

    getIngress,
    applyIngress: async (ingress) =>
      seen('ingresses', await applyCustomObject(calls, log, INGRESS, ingress, getIngress)),
    async deleteIngress(key) {
      const live = await getIngress(key);
      if (await deleteCustomObject(calls, log, INGRESS, key)) cache?.forget('ingresses', live ?? plainKey(key));
    },

    async applySecret(secret) {
      const written = await applySecretObject(calls, log, secret, getSecret);
      if (written) seen('secrets', written);
    },
    async getSecretData(key) {
      const live = (await getSecret(key)) as { data?: Record<string, string> } | undefined;
      if (!live) return undefined;
      return Object.fromEntries(
        Object.entries(live.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      );
    },

    getComponent: (key, { fresh = false } = {}) => (fresh ? readComponent(key) : cachedComponent(key)),

    async patchComponentStatus(key, operations, resourceVersion) {
      const ref = await componentRef(key);
      if (!ref) return 'gone';
      const body = [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }, ...operations];
      try {
        const viaStatus = await calls.hasStatusSubresource(GROUP, ref.version, 'components');
        return seen('components', plain(await patch('patchComponent', ref, body, viaStatus)));
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) return 'gone';
        // 409: another writer moved the resourceVersion; 422: the `test` of the entry's uid failed (the list moved).
        if (status === 409 || status === 422) return 'conflict';
        throw classify(error, `update the status of Component ${formatKey(key)}`);
      }
    },

    implementationReadiness(namespace, service) {
      if (!cache?.has('endpointslices') || !cache.has('services')) return undefined;
      return implementationReadiness(
        namespace,
        service,
        cache.store('services').get(namespace, service),
        cache.store('endpointslices').byIndex('service', `${namespace}/${service}`),
      );
    },

    async serviceMonitorsServed() {
      if (cache?.synced('servicemonitors')) return cache.served('servicemonitors');
      return (await calls.servedVersion(SERVICE_MONITOR.ref.group, SERVICE_MONITOR.ref.plural)) !== undefined;
    },
    getServiceMonitor,
    applyServiceMonitor: async (serviceMonitor) =>
      seen('servicemonitors', await applyCustomObject(calls, log, SERVICE_MONITOR, serviceMonitor, getServiceMonitor)),
    async deleteServiceMonitor(key) {
      const live = await getServiceMonitor(key);
      const deleted = await deleteCustomObject(calls, log, SERVICE_MONITOR, key);
      if (deleted) cache?.forget('servicemonitors', live ?? plainKey(key));
      return deleted;
    },

    getService,
    async listPods(namespace, selector) {
      const labelSelector = Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const list = await calls.write('listPods', `list Pods in ${namespace}`, () =>
        core.listNamespacedPodWithHttpInfo({ namespace, labelSelector }),
      );
      return list.items.map(plain);
    },
    async annotatePod(key, annotations) {
      try {
        await calls.call('patchPod', () =>
          core.patchNamespacedPodWithHttpInfo(
            { namespace: key.namespace, name: key.name, body: { metadata: { annotations } } },
            MERGE_PATCH,
          ),
        );
        log.info({ resource: formatKey(key), annotations: Object.keys(annotations) }, 'Annotated Pod');
      } catch (error) {
        if (statusOf(error) === 404) return;
        throw classify(error, `annotate Pod ${formatKey(key)}`);
      }
    },

    recordEvent: (regarding, event) => events(regarding, event),
  };
}

const plainKey = (key: ResourceKey): KubeObject => ({
  apiVersion: 'v1',
  kind: '',
  metadata: { namespace: key.namespace, name: key.name },
});
