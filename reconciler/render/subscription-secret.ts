import type { ExposedApi } from '../../shared/exposed-api/model.ts';
import { keyHash } from './api-id.ts';
import { renderIngress, type IngressSettings } from './ingress.ts';

/** APIM's own names when the API does not set them (see clients/apim.ts). */
const DEFAULT_KEY_HEADER = 'Ocp-Apim-Subscription-Key';
const DEFAULT_KEY_QUERY = 'subscription-key';
const MAX_NAME = 253;
const MAX_SUBSCRIPTION_DISPLAY_NAME = 100;
const SUFFIX = '-apim-key';

export interface SubscriptionSecret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller: true; blockOwnerDeletion: true }[];
  };
  type: 'Opaque';
  stringData: { primaryKey: string; header: string; query: string };
}

/** `<name>-apim-key`; a name too long for that keeps a prefix and the key hash. */
export function subscriptionSecretName(key: ExposedApi['key']): string {
  const plain = `${key.name}${SUFFIX}`;
  if (plain.length <= MAX_NAME) return plain;
  const tail = `-${keyHash(key.namespace, key.name)}${SUFFIX}`;
  return `${key.name.slice(0, MAX_NAME - tail.length).replace(/[^a-z0-9]+$/, '')}${tail}`;
}

/** The APIM subscription id of an API: fixed prefix + the API id (both `[a-z0-9-]`, ≤ 256 characters). */
export function subscriptionIdFor(apiId: string): string {
  return `oda-apim-${apiId}`;
}

/** The subscription's display name (APIM: 1–100 characters), carrying the resource key. */
export function subscriptionDisplayName(key: ExposedApi['key']): string {
  const full = `ExposedAPI ${key.namespace}/${key.name}`;
  if (full.length <= MAX_SUBSCRIPTION_DISPLAY_NAME) return full;
  const tail = `… ${keyHash(key.namespace, key.name)}`;
  return full.slice(0, MAX_SUBSCRIPTION_DISPLAY_NAME - tail.length) + tail;
}

/**
 * The Secret holding the API's subscription key, beside the ExposedAPI: the
 * same labels and owner reference as the operator's Ingress (so Kubernetes
 * deletes it with the ExposedAPI), the primary key and the names under which
 * APIM accepts it.
 */
export function renderSubscriptionSecret(model: ExposedApi, primaryKey: string, settings: Pick<IngressSettings, 'labels'> = {}): SubscriptionSecret {
  const { labels, ownerReferences } = renderIngress(model, settings.labels ? { labels: settings.labels } : {}).metadata;
  const metadata: SubscriptionSecret['metadata'] = { name: subscriptionSecretName(model.key), namespace: model.key.namespace, labels };
  if (ownerReferences) metadata.ownerReferences = ownerReferences;
  return {
    apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque',
    stringData: { primaryKey, header: model.apiKey?.header ?? DEFAULT_KEY_HEADER, query: model.apiKey?.query ?? DEFAULT_KEY_QUERY },
  };
}
