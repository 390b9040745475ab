import {
  ApisApi,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { describeError } from './errors.ts';
import type { InformerTarget } from './informer.ts';
import { apiClient } from './api-clients.ts';

export const GROUP = 'oda.tmforum.org';
export const PLURAL = 'exposedapis';
const FALLBACK_VERSION = 'v1';

/** The group's preferred version from discovery (GET /apis), or v1 when discovery does not say. */
export async function discoverVersion(kubeConfig: KubeConfig): Promise<{ version: string; note?: string }> {
  try {
    const groups = await apiClient(kubeConfig, ApisApi).getAPIVersions();
    const group = groups.groups.find((g) => g.name === GROUP);
    const version = group?.preferredVersion?.version ?? group?.versions[0]?.version;
    return version ? { version } : { version: FALLBACK_VERSION, note: `API group ${GROUP} is not served` };
  } catch (error) {
    return { version: FALLBACK_VERSION, note: `discovery failed: ${describeError(error)}` };
  }
}

/** Every ExposedAPI in the cluster, through the version the API server prefers (re-discovered at each restart). */
export async function exposedApiTarget(kubeConfig: KubeConfig): Promise<InformerTarget> {
  const { version, note } = await discoverVersion(kubeConfig);
  const api = apiClient(kubeConfig, CustomObjectsApi);
  return {
    path: `/apis/${GROUP}/${version}/${PLURAL}`,
    list: async () =>
      (await api.listClusterCustomObject({
        group: GROUP,
        version,
        plural: PLURAL,
      })) as KubernetesListObject<KubernetesObject>,
    ...(note ? { note: `${note}; watching ${version}` } : {}),
  };
}
