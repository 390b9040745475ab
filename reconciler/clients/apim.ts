/**
 * The reconciler's narrow view of Azure API Management, and the only file that
 * imports @azure/arm-apimanagement. 404 becomes undefined (or success for a
 * delete); APIM's validation refusals (400, 422) become PermanentError with
 * APIM's details in the message; everything else (408, 409, 412, 429, 5xx,
 * network, credential and polling failures) becomes RetryableError, with
 * `retryAfterMs` from Retry-After when the service sent one.
 *
 * The SDK's own retries are cut down to a couple of quick ones for 5xx/408 and
 * network errors; 429 and 503 with Retry-After are not retried here but handed
 * to the queue, which delays the job without holding a worker.
 */
import { ApiManagementClient, type ApiContract, type ApiCreateOrUpdateParameter } from '@azure/arm-apimanagement';
import {
  exponentialRetryPolicy,
  isRestError,
  systemErrorRetryPolicy,
  type PipelineResponse,
  type RestError,
} from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';
import { PermanentError, RetryableError, errorMessage } from '../../shared/errors.ts';
import { APIM_KEY_NAMES } from '../../shared/exposed-api/normalise.ts';
import { armResponsePolicy, retryAfterMs, withOperation, type ArmResponse } from './arm-responses.ts';
import { furtherRequestsBudgetPolicy } from './further-requests-budget.ts';

export { retryAfterMs };

export interface ApimTarget {
  subscriptionId: string;
  resourceGroup: string;
  serviceName: string;
  endpoint: string /* ARM_ENDPOINT */;
}
export interface ApimApiState {
  id: string;
  etag: string;
  displayName: string;
  path: string;
  serviceUrl?: string;
  protocols: string[];
  subscriptionRequired: boolean;
  subscriptionKeyHeader?: string;
  subscriptionKeyQuery?: string;
  description?: string;
  openidProviderId?: string;
  apiRevision?: string;
  isCurrent?: boolean;
}
export interface ApimSubscriptionState {
  id: string;
  displayName?: string;
  state?: string;
  scope?: string;
}
/**
 * What a service-wide listing said about one entity: found (without an ETag),
 * absent from a complete listing, or unknown (undefined): then read it.
 */
export type Listed<T> = { readonly found: T } | 'absent' | undefined;
export interface ApiDefinition {
  displayName: string;
  path: string;
  serviceUrl: string;
  protocols: string[];
  subscriptionRequired: boolean;
  subscriptionKeyHeader?: string;
  subscriptionKeyQuery?: string;
  description: string;
  openidProviderId?: string;
  import?: { format: string; value: string };
}
export interface ApimClient {
  /** 404 → undefined. */
  getApi(apiId: string): Promise<ApimApiState | undefined>;
  /** Creates or updates and awaits the long-running operation. */
  putApi(apiId: string, api: ApiDefinition, ifMatch?: string): Promise<ApimApiState>;
  /** 404 → success. */
  deleteApi(apiId: string, ifMatch: string): Promise<void>;
  /** The policy document as APIM returns it (reformatted: compare meaning, not bytes); undefined when none. */
  getPolicy(apiId: string): Promise<string | undefined>;
  /** Returns the text APIM stored, as its answer carries it (reformatted), or undefined when the answer has none. */
  putPolicy(apiId: string, xml: string): Promise<string | undefined>;
  /** Creates or updates the provider when it is missing or differs; no write otherwise. */
  ensureOpenIdProvider(
    id: string,
    p: { displayName: string; metadataEndpoint: string; clientId: string },
  ): Promise<void>;
  /** 404 → undefined. */
  listSubscriptionKeys(subscriptionId: string): Promise<{ primaryKey: string } | undefined>;
  /**
   * Makes subscription `sid` an active one with this display name and scope
   * (`/apis/{apiId}`; APIM answers with the full ARM id, which counts as the
   * same). Reads first; writes only when it is missing or differs. Returns
   * whether it wrote.
   */
  ensureSubscription(
    sid: string,
    s: { displayName: string; scope: string },
    /** What a listing said: a listed subscription that already matches needs no read. */
    known?: Listed<ApimSubscriptionState>,
  ): Promise<boolean>;
  /** Deletes subscription `sid` when it exists (read first, no write when absent); 404 → success. Returns whether it deleted. */
  deleteSubscription(sid: string, known?: Listed<ApimSubscriptionState>): Promise<boolean>;
  /** Every API of the service (current revisions), a page of up to 100 per request. */
  listApis(): AsyncIterable<ApimApiState[]>;
  /** The subscriptions whose id starts with `prefix`, a page of up to 100 per request; never their keys. */
  listSubscriptions(prefix: string): AsyncIterable<ApimSubscriptionState[]>;
  /**
   * Writes `api` (with its import) into revision `rev` of an existing API,
   * made from the current one: live traffic keeps the current revision meanwhile.
   */
  putRevision(apiId: string, rev: string, api: ApiDefinition): Promise<void>;
  /** Makes revision `rev` the current one (an APIM release). */
  releaseRevision(apiId: string, rev: string): Promise<void>;
}
export interface ApimClientOptions {
  /**
   * Awaited before every call, each SDK retry of it and each further request it
   * sends (a long-running operation's polls), with whether it reads or writes:
   * the ARM budget shared by all workers plugs in here.
   */
  takeBudget?: (kind: 'reads' | 'writes', op: string) => Promise<void>;
  /** Called once per client call, for metrics: the HTTP status of its (first) answer, or 'error' when none came. */
  onCall?: (op: string, status: number | 'error', ms: number) => void;
  /** Called for every HTTP answer, retried attempts and polls included (429s, ARM's remaining request budget). */
  onArmResponse?: (response: ArmResponse) => void;
  /** Interval between polls of a long-running operation; default 1000 ms (a Retry-After on the poll wins). */
  pollIntervalMs?: number;
}

/** APIM's largest page: one request per 100 entities. */
const PAGE_SIZE = 100;
const SDK_RETRY = { maxRetries: 2, retryDelayInMs: 300, maxRetryDelayInMs: 3000 };
const PERMANENT_STATUS = new Set([400, 422]);

export function createApimClient(
  target: ApimTarget,
  credential: TokenCredential,
  options: ApimClientOptions = {},
): ApimClient {
  const sdk = new ApiManagementClient(credential, target.subscriptionId, {
    endpoint: target.endpoint,
    retryOptions: { maxRetries: 0 },
  });
  // Replace the default retry policy (which also waits out any Retry-After on 429/503) with small retries of 5xx/408 and network errors.
  sdk.pipeline.removePolicy({ name: 'defaultRetryPolicy' });
  sdk.pipeline.addPolicy(exponentialRetryPolicy(SDK_RETRY), { phase: 'Retry' });
  sdk.pipeline.addPolicy(systemErrorRetryPolicy(SDK_RETRY), { phase: 'Retry' });
  if (options.takeBudget)
    sdk.pipeline.addPolicy(furtherRequestsBudgetPolicy(options.takeBudget), { afterPhase: 'Retry' });
  if (options.onArmResponse) sdk.pipeline.addPolicy(armResponsePolicy(options.onArmResponse), { afterPhase: 'Retry' });
  const rg = target.resourceGroup;
  const svc = target.serviceName;
  const poll = { updateIntervalInMs: options.pollIntervalMs ?? 1000 };

  /** Runs one SDK call: the ARM budget, metrics, error classification. */
  async function call<T>(
    op: string,
    subject: string,
    write: boolean,
    run: (onResponse: (r: PipelineResponse) => void) => Promise<T>,
    notFound?: () => T,
  ): Promise<T> {
    await options.takeBudget?.(write ? 'writes' : 'reads', op);
    const started = performance.now();
    let status: number | 'error' = 'error';
    const onResponse = (r: PipelineResponse) => {
      if (status === 'error') status = r.status;
    };
    try {
      const result = await withOperation(op, () => run(onResponse));
      options.onCall?.(op, status, performance.now() - started);
      return result;
    } catch (error) {
      if (isRestError(error) && error.statusCode !== undefined) status = error.statusCode;
      options.onCall?.(op, status, performance.now() - started);
      if (notFound && isRestError(error) && error.statusCode === 404) return notFound();
      throw classify(op, subject, error);
    }
  }

  /**
   * Runs a policy call and returns the policy text of its answer. azure-sdk-for-js
   * #31566: the SDK deserialises the answer as XML and loses `value` of APIM's
   * JSON, so the raw body is read when it does.
   */
  async function policyText(
    onResponse: (r: PipelineResponse) => void,
    send: (onResponse: (r: PipelineResponse) => void) => Promise<{ value?: string }>,
  ): Promise<string | undefined> {
    let raw: PipelineResponse | undefined;
    const answer = await send((r) => {
      raw = r;
      onResponse(r);
    });
    return answer.value ?? policyFromBody(raw?.bodyAsText ?? undefined);
  }

  /** Walks a paged SDK listing, each page one budgeted, classified call. */
  async function* pages<T, S>(
    op: string,
    list: (onResponse: (r: PipelineResponse) => void) => AsyncIterableIterator<T[]>,
    map: (item: T) => S,
  ): AsyncGenerator<S[]> {
    let current: ((r: PipelineResponse) => void) | undefined;
    const iterator = list((r) => current?.(r));
    for (let n = 1; ; n++) {
      const next = await call(op, `page ${n}`, false, async (onResponse) => {
        current = onResponse;
        return iterator.next();
      });
      if (next.done) return;
      yield next.value.map(map);
    }
  }

  return {
    listApis: () =>
      pages(
        'listApis',
        (onResponse) => sdk.api.listByService(rg, svc, { top: PAGE_SIZE, onResponse }).byPage(),
        toState,
      ),

    listSubscriptions: (prefix) =>
      pages(
        'listSubscriptions',
        (onResponse) =>
          sdk.subscription
            .list(rg, svc, { filter: `startswith(name,'${prefix.replaceAll("'", "''")}')`, top: PAGE_SIZE, onResponse })
            .byPage(),
        (s): ApimSubscriptionState => ({
          id: s.name ?? '',
          ...(s.displayName !== undefined ? { displayName: s.displayName } : {}),
          ...(s.state !== undefined ? { state: s.state } : {}),
          ...(s.scope !== undefined ? { scope: s.scope } : {}),
        }),
      ),

    getApi: (apiId) =>
      call(
        'getApi',
        apiId,
        false,
        async (onResponse) => toState(await sdk.api.get(rg, svc, apiId, { onResponse })),
        () => undefined,
      ),

    putApi: (apiId, api, ifMatch) =>
      call('putApi', apiId, true, async (onResponse) => {
        const result = await sdk.api.beginCreateOrUpdateAndWait(rg, svc, apiId, toParameters(api), {
          ...poll,
          ...(ifMatch ? { ifMatch } : {}),
          onResponse,
        });
        if (result.eTag !== undefined) return toState(result);
        // The final read of a long-running PUT may come back without its ETag header: read the entity tag.
        const tag = await sdk.api.getEntityTag(rg, svc, apiId);
        return toState({ ...result, eTag: tag.eTag });
      }),

    deleteApi: (apiId, ifMatch) =>
      call(
        'deleteApi',
        apiId,
        true,
        async (onResponse) => {
          await sdk.api.beginDeleteAndWait(rg, svc, apiId, ifMatch, { ...poll, deleteRevisions: true, onResponse });
        },
        () => undefined,
      ),

    getPolicy: (apiId) =>
      call(
        'getPolicy',
        apiId,
        false,
        (onResponse) =>
          policyText(onResponse, (hook) =>
            sdk.apiPolicy.get(rg, svc, apiId, 'policy', { format: 'xml', onResponse: hook }),
          ),
        () => undefined,
      ),

    putPolicy: (apiId, xml) =>
      call('putPolicy', apiId, true, (onResponse) =>
        policyText(onResponse, (hook) =>
          sdk.apiPolicy.createOrUpdate(rg, svc, apiId, 'policy', { format: 'xml', value: xml }, { onResponse: hook }),
        ),
      ),

    async ensureOpenIdProvider(id, p) {
      const current = await call(
        'getOpenIdProvider',
        id,
        false,
        (onResponse) => sdk.openIdConnectProvider.get(rg, svc, id, { onResponse }),
        () => undefined,
      );
      if (
        current &&
        current.displayName === p.displayName &&
        current.metadataEndpoint === p.metadataEndpoint &&
        current.clientId === p.clientId
      )
        return;
      await call('putOpenIdProvider', id, true, async (onResponse) => {
        await sdk.openIdConnectProvider.createOrUpdate(
          rg,
          svc,
          id,
          { displayName: p.displayName, metadataEndpoint: p.metadataEndpoint, clientId: p.clientId },
          { onResponse },
        );
      });
    },

    putRevision: (apiId, rev, api) =>
      call('putRevision', `${apiId};rev=${rev}`, true, async (onResponse) => {
        const parameters = {
          ...toParameters(api),
          sourceApiId: `/apis/${apiId}`,
          apiRevisionDescription: `oda-apim-operator: new OpenAPI document (${new Date().toISOString()})`,
        };
        await sdk.api.beginCreateOrUpdateAndWait(rg, svc, `${apiId};rev=${rev}`, parameters, { ...poll, onResponse });
      }),

    releaseRevision: (apiId, rev) =>
      call('releaseRevision', apiId, true, async (onResponse) => {
        await sdk.apiRelease.createOrUpdate(
          rg,
          svc,
          apiId,
          `rev-${rev}`,
          {
            apiId: `/apis/${apiId};rev=${rev}`,
            notes: 'Released by oda-apim-operator once the new document was fully in place',
          },
          { onResponse },
        );
      }),

    async ensureSubscription(sid, wanted, known) {
      if (known && known !== 'absent' && subscriptionMatches(known.found, wanted)) return false;
      const live = await call(
        'getSubscription',
        sid,
        false,
        async (onResponse) => await sdk.subscription.get(rg, svc, sid, { onResponse }),
        () => undefined,
      );
      if (live && subscriptionMatches(live, wanted)) return false;
      await call('putSubscription', sid, true, async (onResponse) => {
        await sdk.subscription.createOrUpdate(
          rg,
          svc,
          sid,
          { displayName: wanted.displayName, scope: wanted.scope, state: 'active' },
          { ...(live?.eTag ? { ifMatch: live.eTag } : {}), onResponse },
        );
      });
      return true;
    },

    async deleteSubscription(sid, known) {
      if (known === 'absent') return false;
      const live = await call(
        'getSubscription',
        sid,
        false,
        async (onResponse) => await sdk.subscription.get(rg, svc, sid, { onResponse }),
        () => undefined,
      );
      if (!live) return false;
      await call(
        'deleteSubscription',
        sid,
        true,
        async (onResponse) => {
          await sdk.subscription.delete(rg, svc, sid, live.eTag || '*', { onResponse });
        },
        () => undefined,
      );
      return true;
    },

    listSubscriptionKeys: (subscriptionId) =>
      call(
        'listSubscriptionKeys',
        subscriptionId,
        true,
        async (onResponse) => {
          const keys = await sdk.subscription.listSecrets(rg, svc, subscriptionId, { onResponse });
          return keys.primaryKey === undefined ? undefined : { primaryKey: keys.primaryKey };
        },
        () => undefined,
      ),
  };
}

/** An active subscription with this display name and scope: nothing to write. */
function subscriptionMatches(
  live: { displayName?: string; state?: string; scope?: string },
  wanted: { displayName: string; scope: string },
): boolean {
  return live.displayName === wanted.displayName && live.state === 'active' && sameScope(live.scope, wanted.scope);
}

/** `/apis/x` and `/subscriptions/…/service/s/apis/x` name the same scope; ids are case-insensitive. */
export function sameScope(live: string | undefined, wanted: string): boolean {
  if (live === undefined) return false;
  const a = live.toLowerCase();
  const b = wanted.toLowerCase();
  if (a === b) return true;
  const tail = (s: string) => /\/service\/[^/]+(\/.*)$/.exec(s)?.[1] ?? s;
  return tail(a) === tail(b);
}

function toParameters(api: ApiDefinition): ApiCreateOrUpdateParameter {
  // Both names or none: a half-filled pair leaves the other to whatever APIM keeps, and drift checks need both.
  const keys =
    api.subscriptionKeyHeader !== undefined || api.subscriptionKeyQuery !== undefined
      ? {
          subscriptionKeyParameterNames: {
            header: api.subscriptionKeyHeader ?? APIM_KEY_NAMES.header,
            query: api.subscriptionKeyQuery ?? APIM_KEY_NAMES.query,
          },
        }
      : {};
  return {
    displayName: api.displayName,
    path: api.path,
    // Sent with every PUT: an import without serviceUrl in the same request resets it.
    serviceUrl: api.serviceUrl,
    protocols: api.protocols,
    subscriptionRequired: api.subscriptionRequired,
    description: api.description,
    ...keys,
    authenticationSettings: api.openidProviderId
      ? { openid: { openidProviderId: api.openidProviderId, bearerTokenSendingMethods: ['authorizationHeader'] } }
      : {},
    ...(api.import ? { format: api.import.format, value: api.import.value } : {}),
  };
}

function toState(api: ApiContract & { eTag?: string }): ApimApiState {
  const state: ApimApiState = {
    id: api.name ?? '',
    etag: api.eTag ?? '',
    displayName: api.displayName ?? '',
    path: api.path ?? '',
    protocols: [...(api.protocols ?? [])],
    subscriptionRequired: api.subscriptionRequired ?? true,
  };
  const optional: Partial<ApimApiState> = {
    serviceUrl: api.serviceUrl,
    subscriptionKeyHeader: api.subscriptionKeyParameterNames?.header,
    subscriptionKeyQuery: api.subscriptionKeyParameterNames?.query,
    description: api.description,
    openidProviderId: api.authenticationSettings?.openid?.openidProviderId,
    apiRevision: api.apiRevision,
    isCurrent: api.isCurrent,
  };
  for (const [key, value] of Object.entries(optional))
    if (value !== undefined && value !== null) Object.assign(state, { [key]: value });
  return state;
}

/** The policy text from a raw answer: APIM's JSON (`properties.value`), or the document itself. */
export function policyFromBody(body: string | undefined): string | undefined {
  if (body === undefined || body.trim() === '') return undefined;
  if (body.trimStart().startsWith('<')) return body;
  try {
    const parsed = JSON.parse(body) as { properties?: { value?: unknown } };
    return typeof parsed.properties?.value === 'string' ? parsed.properties.value : undefined;
  } catch {
    return undefined;
  }
}

interface ArmErrorBody {
  code?: string;
  message?: string;
  target?: string;
  details?: ArmErrorBody[];
}

/** APIM's error from a RestError: the SDK's parsed `details`, else the raw body. */
function armError(error: RestError): ArmErrorBody {
  const parsed = error.details as ({ error?: ArmErrorBody } & ArmErrorBody) | undefined;
  if (parsed?.error) return parsed.error;
  if (parsed?.code || parsed?.message) return parsed;
  try {
    return (JSON.parse(error.response?.bodyAsText ?? '') as { error?: ArmErrorBody }).error ?? {};
  } catch {
    return {};
  }
}

function describe(body: ArmErrorBody, fallback: string): string {
  const details = (body.details ?? [])
    .map((d) => (d.target ? `${d.target}: ${d.message ?? d.code}` : (d.message ?? d.code ?? '')))
    .filter((d) => d.length > 0);
  const head = `${body.code ?? 'Error'}: ${body.message ?? fallback}`;
  return details.length > 0 ? `${head} ${details.join('; ')}` : head;
}

/** Turns any failure of an SDK call into PermanentError or RetryableError, naming the operation and the API. */
export function classify(op: string, subject: string, error: unknown): Error {
  const where = `APIM ${op} ${subject}`;
  if (isRestError(error) && error.statusCode !== undefined) {
    const text = `${where} failed with ${error.statusCode} ${describe(armError(error), error.message)}`;
    if (PERMANENT_STATUS.has(error.statusCode))
      return new PermanentError(text, { cause: error, reason: 'ApimRejected' });
    return new RetryableError(text, { cause: error, retryAfterMs: retryAfterMs(error.response?.headers) });
  }
  const message = errorMessage(error);
  // A long-running operation that failed while polling: a plain Error "The long-running operation has failed. <code>. <message>".
  if (/long-running operation has failed/i.test(message) && /\bValidationError\b/.test(message)) {
    return new PermanentError(`${where} failed while APIM processed it: ${message}`, {
      cause: error,
      reason: 'ApimRejected',
    });
  }
  return new RetryableError(`${where} failed: ${message}`, { cause: error });
}
