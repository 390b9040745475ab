/**
 * The reconciler's narrow view of Kubernetes (the error classification, the
 * Event recorder and the object helpers sit beside it). 404 becomes undefined (or success where a
 * thing being gone is the goal); every other failure becomes a RetryableError
 * (409, 429, 5xx, network; Retry-After honoured) or a PermanentError (400,
 * 403, 422 and other refusals that a retry cannot fix).
 *
 * Group-based resources (ExposedAPI, Ingress, events.k8s.io Event) go through
 * CustomObjectsApi: bodies stay plain JSON, with no typed-model round trip that
 * drops unknown fields, turns timestamps into Dates or mis-formats MicroTime.
 */
import { hostname } from 'node:os';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Secret,
} from '@kubernetes/client-node';
import { RetryableError } from '../../shared/errors.ts';
import { formatKey, type ResourceKey } from '../../shared/key.ts';
import type { Logger } from '../../shared/log.ts';
import { discoverVersion, GROUP, PLURAL } from '../../shared/kube/exposed-apis.ts';
import { describeError } from '../../shared/kube/errors.ts';
import { classify, statusOf } from './kube-errors.ts';
import { createEventRecorder, type HttpResult } from './kube-events.ts';
import { keyOfObject, mergedMetadata, metadataHolds, plain, sameJson, secretData } from './kube-objects.ts';
import type { KubeEvent, KubeObject, KubeObjectMeta } from './kube-types.ts';

export interface KubeClient {
  /** The live ExposedAPI, read through the served version chosen at construction; undefined when there is none. */
  getExposedApi(key: ResourceKey): Promise<KubeObject | undefined>;
  /** `namespace/name` of every ExposedAPI in every namespace, for the periodic resync. */
  listExposedApiKeys(): Promise<string[]>;
  /**
   * Replaces the object's status with `status` (the operator owns it whole:
   * nothing stale such as an old retry state stays behind), only if the object
   * is still at `resourceVersion` (else RetryableError). Through /status when
   * the CRD has that subresource, else through the main resource.
   */
  writeStatus(key: ResourceKey, status: object, resourceVersion: string): Promise<KubeObject>;
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
  /** events.k8s.io reportingController / reportingInstance. */
  readonly reportingController?: string;
  readonly reportingInstance?: string;
}

const INGRESS = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses' } as const;
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

export function createKubeClient(kubeConfig: KubeConfig, options: KubeClientOptions): KubeClient {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const { log } = options;
  const reportingController = options.reportingController ?? `${GROUP}/apim-operator`;
  const reportingInstance = options.reportingInstance ?? hostname();

  /** Runs one API call, reports it, and returns its data; failures are reported and rethrown as they came. */
  async function call<T>(op: string, run: () => Promise<HttpResult<T>>): Promise<T> {
    const started = performance.now();
    try {
      const result = await run();
      options.onCall?.(op, result.httpStatusCode, performance.now() - started);
      return result.data;
    } catch (error) {
      options.onCall?.(op, statusOf(error) ?? 'error', performance.now() - started);
      throw error;
    }
  }

  /** Like call(), but 404 → undefined and any other failure → our error types. */
  async function read<T>(op: string, what: string, run: () => Promise<HttpResult<T>>): Promise<T | undefined> {
    try {
      return await call(op, run);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classify(error, what);
    }
  }

  async function write<T>(op: string, what: string, run: () => Promise<HttpResult<T>>): Promise<T> {
    try {
      return await call(op, run);
    } catch (error) {
      throw classify(error, what);
    }
  }

  /** A group-based object (ExposedAPI, Ingress) by reference; undefined when there is none. */
  async function readObject(
    op: string,
    what: string,
    ref: { group: string; version: string; plural: string; namespace: string; name: string },
  ): Promise<KubeObject | undefined> {
    return (await read(op, what, () => custom.getNamespacedCustomObjectWithHttpInfo(ref))) as KubeObject | undefined;
  }

  let versionFound: string | undefined = options.version;
  async function version(): Promise<string> {
    if (versionFound) return versionFound;
    const found = await discoverVersion(kubeConfig);
    if (found.note)
      log.warn({ version: found.version, reason: found.note }, 'Fell back to the default ExposedAPI version');
    else versionFound = found.version;
    return found.version;
  }

  let subresource: Promise<boolean> | undefined =
    options.statusSubresource === true || options.statusSubresource === false
      ? Promise.resolve(options.statusSubresource)
      : undefined;
  function hasStatusSubresource(): Promise<boolean> {
    subresource ??= (async () => {
      const v = await version();
      const list = await write('discoverResources', `discovery of ${GROUP}/${v}`, () =>
        custom.getAPIResourcesWithHttpInfo({ group: GROUP, version: v }),
      );
      return list.resources.some((r) => r.name === `${PLURAL}/status`);
    })();
    // Only a successful answer is kept: a failed discovery is asked again next time.
    subresource.catch(() => {
      subresource = undefined;
    });
    return subresource;
  }

  const exposedApi = async (key: ResourceKey) => ({
    group: GROUP,
    version: await version(),
    plural: PLURAL,
    namespace: key.namespace,
    name: key.name,
  });
  async function getIngress(key: ResourceKey): Promise<KubeObject | undefined> {
    const ref = { ...INGRESS, namespace: key.namespace, name: key.name };
    return await readObject('getIngress', `get Ingress ${formatKey(key)}`, ref);
  }

  const events = createEventRecorder({ custom, call, log, reportingController, reportingInstance });

  return {
    async getExposedApi(key) {
      const ref = await exposedApi(key);
      return await readObject('getExposedApi', `get ExposedAPI ${formatKey(key)}`, ref);
    },

    async listExposedApiKeys() {
      const v = await version();
      const keys: string[] = [];
      let next: string | undefined;
      do {
        const page = (await write('listExposedApis', 'list ExposedAPIs', () =>
          custom.listClusterCustomObjectWithHttpInfo({
            group: GROUP,
            version: v,
            plural: PLURAL,
            limit: 500,
            _continue: next,
          }),
        )) as { items: KubeObject[]; metadata?: { continue?: string } };
        for (const item of page.items)
          keys.push(formatKey({ namespace: item.metadata.namespace ?? '', name: item.metadata.name ?? '' }));
        next = page.metadata?.continue || undefined;
      } while (next);
      return keys.sort();
    },

    async writeStatus(key, status, resourceVersion) {
      // JSON patch `add` replaces a member that exists; the resourceVersion is the precondition.
      const body = [
        { op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion },
        { op: 'add', path: '/status', value: status },
      ];
      const ref = { ...(await exposedApi(key)), body };
      const viaStatus = await hasStatusSubresource();
      const what = `write status of ExposedAPI ${formatKey(key)}`;
      try {
        const updated = viaStatus
          ? await call('patchExposedApiStatus', () =>
              custom.patchNamespacedCustomObjectStatusWithHttpInfo(ref, JSON_PATCH),
            )
          : await call('patchExposedApi', () => custom.patchNamespacedCustomObjectWithHttpInfo(ref, JSON_PATCH));
        return plain(updated);
      } catch (error) {
        // A deleted object cannot take a status: retry, and the next read finds it gone.
        if (statusOf(error) === 404) throw new RetryableError(`${what}: the object is gone`, { cause: error });
        throw classify(error, what);
      }
    },

    async removeFinalizer(key, finalizer, resourceVersion) {
      const ref = await exposedApi(key);
      const what = `remove finalizer ${finalizer} from ExposedAPI ${formatKey(key)}`;
      const live = await readObject('getExposedApi', `get ExposedAPI ${formatKey(key)}`, ref);
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
        await call('patchExposedApi', () =>
          custom.patchNamespacedCustomObjectWithHttpInfo({ ...ref, body }, JSON_PATCH),
        );
        log.info({ namespace: key.namespace, name: key.name, finalizer }, 'Removed finalizer');
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

    async applyIngress(ingress) {
      const wanted = ingress as KubeObject;
      const key = keyOfObject(ingress, 'Ingress');
      const live = await getIngress(key);
      const logged = { namespace: key.namespace, name: key.name };
      if (!live) {
        const created = await write('createIngress', `create Ingress ${formatKey(key)}`, () =>
          custom.createNamespacedCustomObjectWithHttpInfo({
            ...INGRESS,
            namespace: key.namespace,
            body: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', ...(ingress as Record<string, unknown>) },
          }),
        );
        log.info(logged, 'Created Ingress');
        return plain(created);
      }
      if (metadataHolds(live.metadata, wanted.metadata) && sameJson(live.spec ?? {}, wanted.spec ?? {})) return live;
      // PUT with the live resourceVersion: a concurrent change is a 409, the status subresource keeps the live status.
      const body = { ...live, metadata: mergedMetadata(live.metadata, wanted.metadata), spec: wanted.spec };
      const updated = await write('replaceIngress', `update Ingress ${formatKey(key)}`, () =>
        custom.replaceNamespacedCustomObjectWithHttpInfo({
          ...INGRESS,
          namespace: key.namespace,
          name: key.name,
          body,
        }),
      );
      log.info(logged, 'Updated Ingress');
      return plain(updated);
    },

    async deleteIngress(key) {
      try {
        await call('deleteIngress', () =>
          custom.deleteNamespacedCustomObjectWithHttpInfo({ ...INGRESS, namespace: key.namespace, name: key.name }),
        );
        log.info({ namespace: key.namespace, name: key.name }, 'Deleted Ingress');
      } catch (error) {
        if (statusOf(error) !== 404) throw classify(error, `delete Ingress ${formatKey(key)}`);
      }
    },

    async applySecret(secret) {
      const wanted = secret as V1Secret;
      const key = keyOfObject(secret, 'Secret');
      const data = secretData(wanted);
      const what = `Secret ${formatKey(key)}`;
      const live = await read('getSecret', `get ${what}`, () => core.readNamespacedSecretWithHttpInfo(key));
      const logged = { namespace: key.namespace, name: key.name };
      if (!live) {
        const body: V1Secret = { apiVersion: 'v1', kind: 'Secret', metadata: wanted.metadata, type: wanted.type, data };
        await write('createSecret', `create ${what}`, () =>
          core.createNamespacedSecretWithHttpInfo({ namespace: key.namespace, body }),
        );
        log.info(logged, 'Created Secret');
        return;
      }
      const liveMeta = (live.metadata ?? {}) as unknown as KubeObjectMeta;
      const wantedMeta = (wanted.metadata ?? {}) as KubeObjectMeta;
      const sameType = wanted.type === undefined || wanted.type === live.type;
      if (sameType && metadataHolds(liveMeta, wantedMeta) && sameJson(live.data ?? {}, data)) return;
      const metadata = mergedMetadata(liveMeta, wantedMeta) as unknown as V1Secret['metadata'];
      // The live Secret as plain data with our fields over it; nothing of its class is needed.
      // oxlint-disable-next-line typescript/no-misused-spread
      const body: V1Secret = { ...live, metadata, data, type: wanted.type ?? live.type };
      await write('replaceSecret', `update ${what}`, () =>
        core.replaceNamespacedSecretWithHttpInfo({ namespace: key.namespace, name: key.name, body }),
      );
      log.info(logged, 'Updated Secret');
    },

    async getSecretData(key) {
      const live = await read('getSecret', `get Secret ${formatKey(key)}`, () =>
        core.readNamespacedSecretWithHttpInfo(key),
      );
      if (!live) return undefined;
      return Object.fromEntries(
        Object.entries(live.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      );
    },

    recordEvent: (regarding, event) => events(regarding, event),
  };
}
