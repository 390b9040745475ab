import type { KubeObject } from '../clients/kube-types.ts';

/** Whether an API's implementing Service can take traffic, as the ODA Canvas decides it. */
export interface ImplementationReadiness {
  readonly ready: boolean;
  /** CamelCase, for the ImplementationReady condition. */
  readonly reason: 'EndpointsReady' | 'ExternalNameService' | 'NoReadyEndpoints' | 'ServiceNotFound' | 'NotRequired';
  readonly message: string;
}

interface Endpoint {
  conditions?: { ready?: boolean | null };
}

/**
 * Ready when an EndpointSlice of the Service (label kubernetes.io/service-name)
 * has a ready endpoint (from ready Pods; `ready` unset counts as ready, as the
 * EndpointSlice API defines it), or when the Service is an ExternalName one,
 * which has no endpoints of its own. Pure.
 */
export function implementationReadiness(
  namespace: string,
  serviceName: string,
  service: KubeObject | undefined,
  slices: readonly KubeObject[],
): ImplementationReadiness {
  const where = `Service ${namespace}/${serviceName}`;
  const endpoints = slices.flatMap((s) => ((s as { endpoints?: Endpoint[] | null }).endpoints ?? []) as Endpoint[]);
  const ready = endpoints.filter((e) => e.conditions?.ready !== false).length;
  if (ready > 0) return { ready: true, reason: 'EndpointsReady', message: `${where} has ${ready} ready endpoint(s)` };
  if ((service?.spec as { type?: string } | undefined)?.type === 'ExternalName') {
    return { ready: true, reason: 'ExternalNameService', message: `${where} is an ExternalName Service` };
  }
  if (!service && slices.length === 0) {
    return { ready: false, reason: 'ServiceNotFound', message: `${where} does not exist yet; waiting for it` };
  }
  return {
    ready: false,
    reason: 'NoReadyEndpoints',
    message: `${where} has no ready endpoint (${endpoints.length} not ready); waiting for a ready Pod behind it`,
  };
}
