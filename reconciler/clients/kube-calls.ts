/**
 * How the reconciler's Kubernetes adapter makes a call: reported to the
 * metrics hook, 404 turned into undefined where that is the caller's answer,
 * every other failure into our error types; and the discovery answers it
 * needs (served versions, whether a CRD has a /status subresource), each
 * asked once and kept once it succeeded.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { servedVersion } from '../../shared/kube/targets.ts';
import { classify, statusOf } from './kube-errors.ts';
import type { HttpResult } from './kube-events.ts';
import type { KubeObject } from './kube-types.ts';
import { apiClient } from '../../shared/kube/api-clients.ts';

export interface CustomRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

export type ObjectRef = CustomRef & { readonly namespace: string; readonly name: string };

export interface KubeCalls {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  call<T>(op: string, run: () => Promise<HttpResult<T>>): Promise<T>;
  /** 404 → undefined; any other failure → our error types. */
  read<T>(op: string, what: string, run: () => Promise<HttpResult<T>>): Promise<T | undefined>;
  /** Any failure → our error types. */
  write<T>(op: string, what: string, run: () => Promise<HttpResult<T>>): Promise<T>;
  /** A group-based object by reference, as plain JSON; undefined when there is none. */
  readObject(op: string, what: string, ref: ObjectRef): Promise<KubeObject | undefined>;
  /** The version the cluster serves `plural` of `group` at; undefined when it does not serve it. */
  servedVersion(group: string, plural: string): Promise<string | undefined>;
  /** Whether `plural` of `group` at `version` has a /status subresource. */
  hasStatusSubresource(group: string, version: string, plural: string): Promise<boolean>;
}

/** Keeps a successful answer; a failure is asked again next time. */
function memo<T>(cache: Map<string, Promise<T>>, key: string, ask: () => Promise<T>): Promise<T> {
  let answer = cache.get(key);
  if (!answer) {
    answer = ask();
    cache.set(key, answer);
    answer.catch(() => cache.delete(key));
  }
  return answer;
}

export function createKubeCalls(
  kubeConfig: KubeConfig,
  onCall?: (op: string, status: number | 'error', ms: number) => void,
): KubeCalls {
  const custom = apiClient(kubeConfig, CustomObjectsApi);
  const core = apiClient(kubeConfig, CoreV1Api);
  const versions = new Map<string, Promise<string | undefined>>();
  const subresources = new Map<string, Promise<boolean>>();

  async function call<T>(op: string, run: () => Promise<HttpResult<T>>): Promise<T> {
    const started = performance.now();
    try {
      const result = await run();
      onCall?.(op, result.httpStatusCode, performance.now() - started);
      return result.data;
    } catch (error) {
      onCall?.(op, statusOf(error) ?? 'error', performance.now() - started);
      throw error;
    }
  }
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
  return {
    custom,
    core,
    call,
    read,
    write,
    readObject: async (op, what, ref) =>
      (await read(op, what, () => custom.getNamespacedCustomObjectWithHttpInfo(ref))) as KubeObject | undefined,
    servedVersion: (group, plural) =>
      memo(versions, `${group}/${plural}`, async () => {
        const started = performance.now();
        try {
          const version = await servedVersion(kubeConfig, group, plural);
          onCall?.('discovery', 200, performance.now() - started);
          // Not served yet is not kept: a CRD installed later is found the next time.
          if (version === undefined) versions.delete(`${group}/${plural}`);
          return version;
        } catch (error) {
          onCall?.('discovery', statusOf(error) ?? 'error', performance.now() - started);
          throw classify(error, `discovery of ${plural}.${group}`);
        }
      }),
    hasStatusSubresource: (group, version, plural) =>
      memo(subresources, `${group}/${version}/${plural}`, async () => {
        const list = await write('discoverResources', `discovery of ${group}/${version}`, () =>
          custom.getAPIResourcesWithHttpInfo({ group, version }),
        );
        return list.resources.some((r) => r.name === `${plural}/status`);
      }),
  };
}
