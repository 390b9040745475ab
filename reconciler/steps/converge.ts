import type { ExposedApi } from '../../shared/exposed-api/model.ts';
import type { KubeClient } from '../clients/kube.ts';
import type { KubeObject } from '../clients/kube-types.ts';
import type { ApimClient } from '../clients/apim.ts';
import { backendUrlFrom, renderIngress } from '../render/ingress.ts';
import { ensureApim, finalizeApim, type ApimSettings } from './ensure-apim.ts';
import { ensureSubscriptionKey } from './ensure-subscription-key.ts';
import type { SpecResolver } from './resolve-spec.ts';

export interface ConvergeSettings {
  readonly ingressClass: string;
  readonly gatewayBaseUrl?: string;
  /** APIM's gateway, e.g. https://my-apim.azure-api.net: the base of a published API's URL. */
  readonly apimGatewayUrl: string;
  readonly apim: ApimSettings;
  readonly publishInternalSegments: boolean;
  /** How soon to look again when the Ingress has no address yet. */
  readonly notReadyRequeueMs: number;
}

export interface Converged {
  readonly ready: boolean;
  readonly reason: string;
  readonly message: string;
  readonly gatewayUrl?: string;
  /** The Secret holding the API's subscription key, when it takes one. */
  readonly subscriptionKeySecret?: string;
  readonly written: readonly string[];
  readonly drift: readonly string[];
  readonly requeueAfterMs?: number;
}

/** Metrics APIs and the management and security segments stay inside the mesh unless configured otherwise. */
export function isPublished(model: ExposedApi, publishInternalSegments: boolean): boolean {
  if (model.apiType === 'prometheus' || model.apiType === 'openmetrics') return false;
  return model.segment === 'coreFunction' || publishInternalSegments;
}

/**
 * One pass towards the desired state: the Ingress, then (for published APIs)
 * the backend URL, the document and the APIM API with its policy. Each step
 * reads, compares and writes only what differs.
 */
export async function converge(
  object: KubeObject,
  model: ExposedApi,
  deps: { kube: KubeClient; apim: ApimClient; specs: SpecResolver },
  settings: ConvergeSettings,
  resourceUnchanged: boolean,
): Promise<Converged> {
  const desiredIngress = renderIngress(model, {
    ingressClass: settings.ingressClass,
    labels: object.metadata.labels ?? {},
    ...(settings.gatewayBaseUrl ? { gatewayBaseUrl: settings.gatewayBaseUrl } : {}),
  });
  const before = await deps.kube.getIngress(model.key);
  const ingress = await deps.kube.applyIngress(desiredIngress);
  const written = ingress.metadata.resourceVersion !== before?.metadata.resourceVersion ? ['ingress'] : [];
  if (!isPublished(model, settings.publishInternalSegments)) {
    const removed = await finalizeApim(deps.apim, model.key);
    return {
      ready: true,
      reason: 'InMeshOnly',
      message: 'Served inside the mesh through its Ingress; not published to APIM (metrics API or internal segment)',
      written: removed === 'deleted' ? [...written, 'api-removed'] : written,
      drift: [],
    };
  }
  const serviceUrl = backendUrlFrom(
    ingress,
    settings.gatewayBaseUrl ? { gatewayBaseUrl: settings.gatewayBaseUrl } : {},
  );
  if (!serviceUrl) {
    return {
      ready: false,
      reason: 'WaitingForIngressAddress',
      message: `Ingress ${model.key.namespace}/${model.key.name} has no load-balancer address yet; checking again`,
      written,
      drift: [],
      requeueAfterMs: settings.notReadyRequeueMs,
    };
  }
  const spec = model.specification ? await deps.specs.resolve(model.specification) : undefined;
  const result = await ensureApim(deps.apim, model, serviceUrl, spec, settings.apim, resourceUnchanged);
  const key = await ensureSubscriptionKey(deps.apim, deps.kube, object, model, result.apiId);
  return {
    ready: true,
    reason: 'Published',
    message: `Published as APIM API ${result.apiId}, backend ${serviceUrl}`,
    gatewayUrl: settings.apimGatewayUrl,
    ...(key.secretName ? { subscriptionKeySecret: key.secretName } : {}),
    written: [...written, ...result.written, ...key.written],
    drift: result.drift,
  };
}
