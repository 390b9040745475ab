import type { ExposedApi } from '../../shared/exposed-api/model.ts';
import { canonicalJson } from './api-definition.ts';
import type { ImplementationReadiness } from './readiness.ts';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** The ExposedAPI status: what the ODA Canvas component operator reads, plus conditions and retry state. */
export interface ExposedApiStatus {
  apiStatus: {
    /** The ExposedAPI's metadata.name, as the Canvas's API operators write it: the component operator finds its children by it. */
    name: string;
    url: string;
    developerUI?: string;
    path: string;
    implementation: string;
    port: number;
    /** The Secret holding the subscription key; the key itself never goes in status. */
    subscriptionKeySecret?: string;
  };
  /** `ready`: the API is served (published, or in the mesh only) and its Service has a ready endpoint. */
  implementation: { ready: boolean };
  conditions: Condition[];
  observedGeneration?: number;
  retry?: { attempts: number; lastError: string; nextRetryAt: string };
  drift?: { repaired: string[]; at: string };
}

/** How far serving the API got: published to APIM, or in the mesh only (done); or not yet, with why. */
export interface Serving {
  readonly done: boolean;
  /** In the mesh only (metrics APIs, internal segments): the condition is InMeshOnly instead of Published. */
  readonly inMeshOnly: boolean;
  /** CamelCase, e.g. `Published`, `InMeshOnly`, `WaitingForIngressAddress`, `RetryingAfterError`. */
  readonly reason: string;
  readonly message: string;
}

/** Whether the metrics API's scrape configuration is in place (metrics APIs only; it never holds Ready back). */
export interface Scrape {
  readonly done: boolean;
  readonly reason: string;
  readonly message: string;
}

export interface StatusInput {
  readonly model: ExposedApi;
  /** The status the live object carries now (any shape). */
  readonly previous?: unknown;
  /** The current time, RFC 3339. */
  readonly now: string;
  readonly serving: Serving;
  /** Undefined when endpoint readiness is not required (REQUIRE_READY_ENDPOINTS=false). */
  readonly implementation?: ImplementationReadiness;
  readonly scrape?: Scrape;
  /** The APIM gateway base URL when the API is published there; unpublished APIs get their in-mesh URL. */
  readonly gatewayUrl?: string;
  readonly subscriptionKeySecret?: string;
  readonly retry?: { readonly attempts: number; readonly lastError: string; readonly nextRetryAt: string };
  /** What this reconcile put back in APIM after someone changed it. */
  readonly drift?: readonly string[];
}

/** The condition types this renderer owns; others on the object are kept as they are. */
export const OWN_CONDITIONS = ['Ready', 'Published', 'InMeshOnly', 'ImplementationReady', 'MetricsScrape'] as const;

const MAX_TEXT = 1024;
const cap = (s: string): string => (s.length <= MAX_TEXT ? s : `${s.slice(0, MAX_TEXT - 1)}…`);
const CAMEL = /^[A-Z][A-Za-z0-9]*$/;

function previousConditions(previous: unknown): Condition[] {
  const conditions = (previous as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(conditions) ? conditions.filter((c): c is Condition => typeof c?.type === 'string') : [];
}

function previousDrift(previous: unknown): ExposedApiStatus['drift'] {
  const drift = (previous as { drift?: ExposedApiStatus['drift'] } | undefined)?.drift;
  return drift && Array.isArray(drift.repaired) && typeof drift.at === 'string' ? drift : undefined;
}

/** Where callers reach the API: the gateway when published, else the Service inside the mesh. */
function baseUrl(model: ExposedApi, gatewayUrl: string | undefined): string {
  if (gatewayUrl) return gatewayUrl.replace(/\/+$/, '');
  return `http://${model.implementation}.${model.key.namespace}.svc.cluster.local:${model.port}`;
}

const NOT_REQUIRED: ImplementationReadiness = {
  ready: true,
  reason: 'NotRequired',
  message: 'Endpoint readiness is not checked (REQUIRE_READY_ENDPOINTS=false)',
};

/**
 * The status to write for one reconcile. `Published` (or `InMeshOnly`) says
 * whether the API is served, `ImplementationReady` whether its Service has a
 * ready endpoint, `Ready` (and `implementation.ready`, what the Canvas reads)
 * both. A condition keeps its lastTransitionTime while its status stays the
 * same; other parties' condition types are kept. Pure: the clock comes in as
 * `now`.
 */
export function renderStatus(input: StatusInput): ExposedApiStatus {
  const { model, serving } = input;
  const implementation = input.implementation ?? NOT_REQUIRED;
  const ready = serving.done && implementation.ready;
  const base = baseUrl(model, input.gatewayUrl);
  const apiStatus: ExposedApiStatus['apiStatus'] = {
    name: model.key.name,
    url: base + model.path,
    path: model.path,
    implementation: model.implementation,
    port: model.port,
  };
  if (model.developerUI)
    apiStatus.developerUI = /^https?:\/\//.test(model.developerUI) ? model.developerUI : base + model.developerUI;
  if (input.subscriptionKeySecret) apiStatus.subscriptionKeySecret = input.subscriptionKeySecret;

  const before = previousConditions(input.previous);
  const condition = (type: string, status: boolean, reason: string, message: string): Condition => {
    if (!CAMEL.test(reason)) throw new Error(`status: reason must be CamelCase, got ${JSON.stringify(reason)}`);
    const value: Condition['status'] = status ? 'True' : 'False';
    const was = before.find((c) => c.type === type);
    const c: Condition = {
      type,
      status: value,
      reason,
      message: cap(message),
      lastTransitionTime: was?.status === value && was.lastTransitionTime ? was.lastTransitionTime : input.now,
    };
    if (model.generation !== undefined) c.observedGeneration = model.generation;
    return c;
  };
  const readyWhy = !serving.done ? serving : !implementation.ready ? implementation : serving;
  const own: Condition[] = [
    condition(serving.inMeshOnly ? 'InMeshOnly' : 'Published', serving.done, serving.reason, serving.message),
    condition('ImplementationReady', implementation.ready, implementation.reason, implementation.message),
    condition('Ready', ready, readyWhy.reason, readyWhy.message),
  ];
  if (input.scrape) own.push(condition('MetricsScrape', input.scrape.done, input.scrape.reason, input.scrape.message));
  const others = before.filter((c) => !(OWN_CONDITIONS as readonly string[]).includes(c.type));
  const conditions = [...others, ...own].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));

  const result: ExposedApiStatus = { apiStatus, implementation: { ready }, conditions };
  if (model.generation !== undefined) result.observedGeneration = model.generation;
  if (!serving.done && input.retry)
    result.retry = {
      attempts: input.retry.attempts,
      lastError: cap(input.retry.lastError),
      nextRetryAt: input.retry.nextRetryAt,
    };
  const drift =
    input.drift && input.drift.length > 0
      ? { repaired: [...new Set(input.drift)].sort(), at: input.now }
      : previousDrift(input.previous);
  if (drift) result.drift = drift;
  return result;
}

function withoutTransitionTimes(status: unknown): unknown {
  if (status === null || typeof status !== 'object') return status;
  const conditions = previousConditions(status)
    .map(({ lastTransitionTime: _, ...rest }) => rest)
    .sort((x, y) => (x.type < y.type ? -1 : x.type > y.type ? 1 : 0));
  return { ...status, conditions };
}

/** True when two statuses differ at most in conditions' lastTransitionTime: no need to write. */
export function statusEquals(a: unknown, b: unknown): boolean {
  return canonicalJson(withoutTransitionTimes(a)) === canonicalJson(withoutTransitionTimes(b));
}
