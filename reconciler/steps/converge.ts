import { createHash } from 'node:crypto';
import type { ExposedApi } from '../../shared/exposed-api/model.ts';
import { formatKey } from '../../shared/key.ts';
import type { KubeClient } from '../clients/kube.ts';
import type { KubeObject } from '../clients/kube-types.ts';
import type { ApimInventory } from '../apim-inventory.ts';
import type { ApimClient } from '../clients/apim.ts';
import { canonicalJson } from '../render/api-definition.ts';
import { apiIdFor } from '../render/api-id.ts';
import { backendUrlFrom, renderIngress } from '../render/ingress.ts';
import type { OpenMetricsImplementation } from '../render/scrape.ts';
import type { Scrape, Serving } from '../render/status.ts';
import { subscriptionIdFor, subscriptionSecretName } from '../render/subscription-secret.ts';
import { ensureApim, finalizeApim, type ApimSettings } from './ensure-apim.ts';
import { ensureScrape } from './ensure-scrape.ts';
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
  readonly openMetrics: OpenMetricsImplementation;
}

/**
 * What was last found in APIM for a key, by the hash of everything the API
 * there is made from (the model, the backend URL, the operator's policy
 * settings), in shared storage until the next resync: a reconcile that only
 * changes Kubernetes-side state (endpoint readiness, the Component entry)
 * then makes no APIM call, while every resync still looks for drift.
 */
export interface ApimSyncMarks {
  /** The current resync epoch, and the inputs APIM was found matching in it (none: APIM must be looked at). */
  get(key: string): Promise<ApimSyncMark>;
  /**
   * APIM matched `inputs` as read in `epoch`, the one `get` answered: a
   * reconcile that a resync overtook leaves a mark of the old epoch, which has
   * lapsed, so the key is still looked at in the new one.
   */
  set(key: string, inputs: string, epoch: string): Promise<void>;
  clear(key: string): Promise<void>;
}

export interface ApimSyncMark {
  readonly epoch: string;
  readonly inputs?: string;
}

export interface ConvergeDeps {
  readonly kube: KubeClient;
  readonly apim: ApimClient;
  readonly specs: SpecResolver;
  readonly marks: ApimSyncMarks;
  /** This resync epoch's listing of APIM; without it every API and subscription is read one by one. */
  readonly inventory?: Pick<ApimInventory, 'lookup'>;
}

export interface Converged {
  readonly serving: Serving;
  readonly gatewayUrl?: string;
  /** The Secret holding the API's subscription key, when it takes one. */
  readonly subscriptionKeySecret?: string;
  readonly scrape?: Scrape;
  readonly written: readonly string[];
  readonly drift: readonly string[];
  readonly requeueAfterMs?: number;
}

/** The mark of an API that is served in the mesh only and has nothing in APIM. */
const IN_MESH = 'in-mesh';

/** Metrics APIs and the management and security segments stay inside the mesh unless configured otherwise. */
export function isPublished(model: ExposedApi, publishInternalSegments: boolean): boolean {
  if (model.apiType === 'prometheus' || model.apiType === 'openmetrics') return false;
  return model.segment === 'coreFunction' || publishInternalSegments;
}

/** The API of an in-mesh key removed from APIM, without a read when this epoch's listing has neither it nor its subscription. */
async function removeListed(
  deps: ConvergeDeps,
  key: ExposedApi['key'],
  epoch: string,
): Promise<'deleted' | 'absent' | 'not-owned'> {
  const apiId = apiIdFor(key.namespace, key.name);
  const known = await deps.inventory?.lookup(apiId, subscriptionIdFor(apiId), epoch);
  if (known?.api === 'absent' && known.subscription === 'absent') return 'absent';
  return finalizeApim(deps.apim, key);
}

/** What the APIM side is made from, as one hash: any change means APIM must be looked at again. */
export function apimInputs(model: ExposedApi, serviceUrl: string, settings: ApimSettings): string {
  const { generation: _, deleting: __, ...stable } = model;
  return createHash('sha256')
    .update(canonicalJson({ model: stable, serviceUrl, settings }))
    .digest('base64url');
}

/**
 * One pass towards the desired state: the Ingress, the metrics scrape
 * configuration, then (for published APIs) the backend URL, the document and
 * the APIM API with its policy and subscription. Each step reads, compares
 * and writes only what differs.
 */
export async function converge(
  object: KubeObject,
  model: ExposedApi,
  deps: ConvergeDeps,
  settings: ConvergeSettings,
  resourceUnchanged: boolean,
): Promise<Converged> {
  const key = formatKey(model.key);
  const desiredIngress = renderIngress(model, {
    ingressClass: settings.ingressClass,
    labels: object.metadata.labels ?? {},
    ...(settings.gatewayBaseUrl ? { gatewayBaseUrl: settings.gatewayBaseUrl } : {}),
  });
  const before = await deps.kube.getIngress(model.key);
  const ingress = await deps.kube.applyIngress(desiredIngress);
  const written = ingress.metadata.resourceVersion !== before?.metadata.resourceVersion ? ['ingress'] : [];
  const scraped = await ensureScrape(deps.kube, object, model, settings.openMetrics);
  written.push(...scraped.written);
  const scrape = scraped.scrape ? { scrape: scraped.scrape } : {};
  if (!isPublished(model, settings.publishInternalSegments)) {
    // An API published before (another segment or apiType) is removed once; then APIM is looked at only per interval.
    const mark = await deps.marks.get(key);
    const removed = mark.inputs === IN_MESH ? 'absent' : await removeListed(deps, model.key, mark.epoch);
    await deps.marks.set(key, IN_MESH, mark.epoch);
    return {
      serving: {
        done: true,
        inMeshOnly: true,
        reason: 'InMeshOnly',
        message: 'Served inside the mesh through its Ingress; not published to APIM (metrics API or internal segment)',
      },
      ...scrape,
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
      serving: {
        done: false,
        inMeshOnly: false,
        reason: 'WaitingForIngressAddress',
        message: `Ingress ${key} has no load-balancer address yet; checking again`,
      },
      ...scrape,
      written,
      drift: [],
      requeueAfterMs: settings.notReadyRequeueMs,
    };
  }
  const apiId = apiIdFor(model.key.namespace, model.key.name);
  const published = {
    serving: {
      done: true,
      inMeshOnly: false,
      reason: 'Published',
      message: `Published as APIM API ${apiId}, backend ${serviceUrl}`,
    },
    gatewayUrl: settings.apimGatewayUrl,
    ...scrape,
  };
  const inputs = apimInputs(model, serviceUrl, settings.apim);
  const mark = await deps.marks.get(key);
  if (mark.inputs === inputs) {
    return {
      ...published,
      ...(model.apiKey ? { subscriptionKeySecret: subscriptionSecretName(model.key) } : {}),
      written,
      drift: [],
    };
  }
  const spec = model.specification ? await deps.specs.resolve(model.specification) : undefined;
  const known = await deps.inventory?.lookup(apiId, subscriptionIdFor(apiId), mark.epoch);
  const result = await ensureApim(deps.apim, model, serviceUrl, spec, settings.apim, resourceUnchanged, known?.api);
  const secret = await ensureSubscriptionKey(deps.apim, deps.kube, object, model, result.apiId, known?.subscription);
  await deps.marks.set(key, inputs, mark.epoch);
  return {
    ...published,
    ...(secret.secretName ? { subscriptionKeySecret: secret.secretName } : {}),
    written: [...written, ...result.written, ...secret.written],
    drift: result.drift,
  };
}
