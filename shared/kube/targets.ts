/**
 * What an informer lists and watches: one resource, cluster-wide or in one
 * namespace, optionally by label. Group resources are listed as plain JSON
 * (CustomObjectsApi), core ones through CoreV1Api; discovery says whether an
 * optional resource (a CRD that may not be installed) is served at all.
 */
import {
  ApisApi,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { InformerTarget } from './informer.ts';
import { apiClient } from './api-clients.ts';

export interface ResourceRef {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

type List = KubernetesListObject<KubernetesObject>;

/** The path a watch of `ref` uses, cluster-wide or in one namespace. */
export function resourcePath(ref: ResourceRef, namespace?: string): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  return namespace ? `${base}/namespaces/${namespace}/${ref.plural}` : `${base}/${ref.plural}`;
}

const CORE_LISTS: Record<
  string,
  (api: CoreV1Api, namespace: string | undefined, labelSelector?: string) => Promise<unknown>
> = {
  secrets: (api, namespace, labelSelector) =>
    namespace
      ? api.listNamespacedSecret({ namespace, labelSelector })
      : api.listSecretForAllNamespaces({ labelSelector }),
  services: (api, namespace, labelSelector) =>
    namespace
      ? api.listNamespacedService({ namespace, labelSelector })
      : api.listServiceForAllNamespaces({ labelSelector }),
  pods: (api, namespace, labelSelector) =>
    namespace ? api.listNamespacedPod({ namespace, labelSelector }) : api.listPodForAllNamespaces({ labelSelector }),
};

/** An informer target for `ref`: its watch path and the matching list call. */
export function resourceTarget(
  kubeConfig: KubeConfig,
  ref: ResourceRef,
  options: { namespace?: string; labelSelector?: string } = {},
): InformerTarget {
  const { namespace, labelSelector } = options;
  let list: () => Promise<List>;
  if (ref.group === '') {
    const core = apiClient(kubeConfig, CoreV1Api);
    const lister = CORE_LISTS[ref.plural];
    if (!lister) throw new Error(`no list call for core resource ${ref.plural}`);
    list = async () => (await lister(core, namespace, labelSelector)) as List;
  } else {
    const custom = apiClient(kubeConfig, CustomObjectsApi);
    const base = { group: ref.group, version: ref.version, plural: ref.plural, labelSelector };
    list = async () =>
      (namespace
        ? await custom.listNamespacedCustomObject({ ...base, namespace })
        : await custom.listClusterCustomObject(base)) as List;
  }
  return {
    path: resourcePath(ref, namespace),
    list,
    ...(labelSelector ? { labelSelector } : {}),
    ...(namespace ? { namespace } : {}),
  };
}

/**
 * The version `group` serves `plural` at (the preferred one when it serves it
 * there), or undefined when the group does not serve it. Discovery failures
 * propagate: the informer retries them.
 */
export async function servedVersion(
  kubeConfig: KubeConfig,
  group: string,
  plural: string,
): Promise<string | undefined> {
  const groups = await apiClient(kubeConfig, ApisApi).getAPIVersions();
  const found = groups.groups.find((g) => g.name === group);
  if (!found) return undefined;
  const custom = apiClient(kubeConfig, CustomObjectsApi);
  const versions = [found.preferredVersion?.version, ...found.versions.map((v) => v.version)].filter(
    (v, i, all): v is string => v !== undefined && all.indexOf(v) === i,
  );
  for (const version of versions) {
    const resources = await custom.getAPIResources({ group, version });
    if (resources.resources.some((r) => r.name === plural)) return version;
  }
  return undefined;
}
