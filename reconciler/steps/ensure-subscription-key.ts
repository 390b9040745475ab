import type { ExposedApi } from '../../shared/exposed-api/model.ts';
import { RetryableError } from '../../shared/errors.ts';
import type { ApimClient } from '../clients/apim.ts';
import type { KubeClient, KubeObject } from '../clients/kube.ts';
import { renderSubscriptionSecret, subscriptionDisplayName, subscriptionIdFor, subscriptionSecretName } from '../render/subscription-secret.ts';

export interface SubscriptionKeyResult {
  /** The Secret holding the key, for status; undefined when the API takes no key. */
  readonly secretName?: string;
  /** `subscription`, `subscription-removed`; the Secret is not listed (applySecret does not say whether it wrote). */
  readonly written: readonly string[];
}

/**
 * With API key verification on: an active APIM subscription scoped to this
 * API only, and its primary key in a Secret beside the ExposedAPI (written
 * only when it differs). With it off: the operator's subscription is deleted
 * (the Secret is left; its key no longer works). The key itself goes nowhere
 * else: not in the result, status, logs or events.
 *
 * The keys are read on every pass (POST listSecrets: no change in APIM, but
 * ARM counts it against the write quota), so a key regenerated in APIM or a
 * Secret deleted by hand is put right by the next resync.
 */
export async function ensureSubscriptionKey(apim: ApimClient, kube: KubeClient, object: KubeObject, model: ExposedApi, apiId: string): Promise<SubscriptionKeyResult> {
  const sid = subscriptionIdFor(apiId);
  if (!model.apiKey) {
    return { written: (await apim.deleteSubscription(sid)) ? ['subscription-removed'] : [] };
  }
  const wrote = await apim.ensureSubscription(sid, { displayName: subscriptionDisplayName(model.key), scope: `/apis/${apiId}` });
  const keys = await apim.listSubscriptionKeys(sid);
  if (!keys) throw new RetryableError(`APIM subscription ${sid} disappeared before its key could be read; trying again`);
  await kube.applySecret(renderSubscriptionSecret(model, keys.primaryKey, { labels: object.metadata.labels ?? {} }));
  return { secretName: subscriptionSecretName(model.key), written: wrote ? ['subscription'] : [] };
}
