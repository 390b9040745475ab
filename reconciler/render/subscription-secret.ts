import type { ExposedApi } from '../../shared/exposed-api/model.ts';
import { keyHash } from './api-id.ts';
import { ownedMetadata, type IngressManifest, type IngressSettings } from './ingress.ts';
import { APIM_KEY_NAMES } from '../../shared/exposed-api/normalise.ts';

const MAX_NAME = 253;
const MAX_SUBSCRIPTION_DISPLAY_NAME = 100;
const SUFFIX = '-apim-key';

export interface SubscriptionSecret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: IngressManifest['metadata'];
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

/** What every subscription id the operator makes starts with: a listing by this prefix finds them all. */
export const SUBSCRIPTION_ID_PREFIX = 'oda-apim-';

/** The APIM subscription id of an API: fixed prefix + the API id (both `[a-z0-9-]`, ≤ 256 characters). */
export function subscriptionIdFor(apiId: string): string {
  return `${SUBSCRIPTION_ID_PREFIX}${apiId}`;
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
export function renderSubscriptionSecret(
  model: ExposedApi,
  primaryKey: string,
  settings: Pick<IngressSettings, 'labels'> = {},
): SubscriptionSecret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: ownedMetadata(model, subscriptionSecretName(model.key), settings.labels),
    type: 'Opaque',
    stringData: {
      primaryKey,
      header: model.apiKey?.header ?? APIM_KEY_NAMES.header,
      query: model.apiKey?.query ?? APIM_KEY_NAMES.query,
    },
  };
}
