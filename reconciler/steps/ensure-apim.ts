import type { ExposedApi } from '../../shared/exposed-api/model.ts';
import { PermanentError } from '../../shared/errors.ts';
import type { ApimApiState, ApimClient, Listed } from '../clients/apim.ts';
import { renderApiDefinition, specHashIn, type ApiDefinition } from '../render/api-definition.ts';
import { apiIdFor, isOwnedBy } from '../render/api-id.ts';
import { renderPolicy, type PolicySettings } from '../render/policy.ts';
import { rememberStoredPolicy, samePolicy } from '../render/policy-meaning.ts';
import { subscriptionIdFor } from '../render/subscription-secret.ts';
import type { ResolvedSpec } from './resolve-spec.ts';

export interface ApimSettings {
  readonly policy: PolicySettings;
  readonly openidProviderId?: string;
}

export interface ApimResult {
  readonly apiId: string;
  /** What was written: `api`, `import`, `policy`; empty when APIM was already right. */
  readonly written: readonly string[];
  /** Fields found changed in APIM by someone else and put back. */
  readonly drift: readonly string[];
}

/** The API fields the operator sets, compared one by one: any difference is a write, and on an unchanged spec, drift. */
function differingFields(live: ApimApiState, desired: ApiDefinition): string[] {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const pairs: [string, unknown, unknown][] = [
    ['displayName', live.displayName, desired.displayName],
    ['path', live.path, desired.path],
    ['serviceUrl', live.serviceUrl, desired.serviceUrl],
    ['protocols', [...live.protocols].sort(), [...desired.protocols].sort()],
    ['subscriptionRequired', live.subscriptionRequired, desired.subscriptionRequired],
    [
      'subscriptionKeyHeader',
      desired.subscriptionKeyHeader && live.subscriptionKeyHeader,
      desired.subscriptionKeyHeader,
    ],
    ['subscriptionKeyQuery', desired.subscriptionKeyQuery && live.subscriptionKeyQuery, desired.subscriptionKeyQuery],
    ['description', live.description, desired.description],
    ['openidProviderId', live.openidProviderId, desired.openidProviderId],
  ];
  return pairs.filter(([, a, b]) => !same(a, b)).map(([field]) => field);
}

/** Writes the policy, and remembers that what APIM stored of it means it (APIM reformats what it is sent). */
async function writePolicy(apim: ApimClient, apiId: string, policy: string): Promise<void> {
  const stored = await apim.putPolicy(apiId, policy);
  if (stored !== undefined) rememberStoredPolicy(stored, policy);
}

/**
 * Makes the APIM API and its policy what the ExposedAPI says, reading first
 * and writing only what differs. The document is imported only when its hash
 * changed, always together with serviceUrl (an import alone resets it), and
 * into a new revision of a live API that becomes current only once it is
 * complete, so live traffic never sees a half-updated API. The operator never
 * touches an API it did not create.
 */
export async function ensureApim(
  apim: ApimClient,
  model: ExposedApi,
  serviceUrl: string,
  spec: ResolvedSpec | undefined,
  settings: ApimSettings,
  /** True when the ExposedAPI is as it was at the last successful reconcile: then any difference in APIM is drift. */
  resourceUnchanged: boolean,
  /** The API as this epoch's listing has it: when it already matches, it is not read again. */
  known?: Listed<ApimApiState>,
): Promise<ApimResult> {
  const apiId = apiIdFor(model.key.namespace, model.key.name);
  const desired = renderApiDefinition(model, {
    serviceUrl,
    ...(spec ? { spec: { format: spec.format as never, value: spec.value, sha256: spec.sha256 } } : {}),
    ...(settings.openidProviderId ? { openidProviderId: settings.openidProviderId } : {}),
  });
  // A listed API that needs no write stands for the live one; anything else is read, for its ETag and its present state.
  const listed = known && known !== 'absent' ? known.found : undefined;
  const listedMatches =
    listed !== undefined &&
    isOwnedBy(listed.description, model.key) &&
    specHashIn(listed.description) === specHashIn(desired.description) &&
    differingFields(listed, desired).length === 0;
  const live = listedMatches ? listed : await apim.getApi(apiId);
  if (live && !isOwnedBy(live.description, model.key)) {
    throw new PermanentError(
      `APIM already has an API with id ${apiId} that this operator did not create; rename or remove it, or rename the ExposedAPI`,
      { reason: 'ApiIdTaken' },
    );
  }
  const written: string[] = [];
  const drift: string[] = [];
  const specChanged = !live || specHashIn(live.description) !== specHashIn(desired.description);
  const fields = live ? differingFields(live, desired) : ['api'];
  const policy = renderPolicy(model, settings.policy);
  if (live && specChanged && desired.import) {
    // A new document for a live API: import it into a new revision, give that the policy, and only then make it current.
    const rev = String(Number(live.apiRevision ?? '1') + 1);
    await apim.putRevision(apiId, rev, desired);
    await writePolicy(apim, `${apiId};rev=${rev}`, policy);
    await apim.releaseRevision(apiId, rev);
    await apim.deleteApi(`${apiId};rev=${live.apiRevision ?? '1'}`, '*');
    written.push('revision', 'import', 'policy');
    if (resourceUnchanged) drift.push('api.import');
    return { apiId, written, drift };
  }
  if (specChanged || fields.length > 0) {
    const { import: _unchangedDocument, ...withoutImport } = desired;
    await apim.putApi(apiId, specChanged ? desired : withoutImport, live?.etag);
    written.push(live ? 'api' : 'api-created');
    if (specChanged && desired.import) written.push('import');
    if (live && resourceUnchanged) drift.push(...fields.map((f) => `api.${f}`));
  }
  const livePolicy = await apim.getPolicy(apiId);
  if (livePolicy === undefined || !samePolicy(livePolicy, policy)) {
    await writePolicy(apim, apiId, policy);
    written.push('policy');
    if (live && resourceUnchanged) drift.push('policy');
  }
  return { apiId, written, drift };
}

/**
 * Removes the API if this operator made it, and the subscription the operator
 * made for its key (explicitly, first: whether APIM drops an API's
 * subscriptions with the API is not something to rely on). A missing API is
 * already the goal.
 */
export async function finalizeApim(
  apim: ApimClient,
  key: ExposedApi['key'],
): Promise<'deleted' | 'absent' | 'not-owned'> {
  const apiId = apiIdFor(key.namespace, key.name);
  const live = await apim.getApi(apiId);
  if (live && !isOwnedBy(live.description, key)) return 'not-owned';
  await apim.deleteSubscription(subscriptionIdFor(apiId));
  if (!live) return 'absent';
  await apim.deleteApi(apiId, live.etag || '*');
  return 'deleted';
}
