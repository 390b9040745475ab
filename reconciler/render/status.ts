import type { ExposedApi } from '../../shared/exposed-api/model.ts';
import { canonicalJson } from './api-definition.ts';

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
    name: string;
    url: string;
    developerUI?: string;
    path: string;
    implementation: string;
    port: number;
    /** The Secret holding the subscription key; the key itself never goes in status. */
    subscriptionKeySecret?: string;
  };
  implementation: { ready: boolean };
  conditions: Condition[];
  observedGeneration?: number;
  retry?: { attempts: number; lastError: string; nextRetryAt: string };
  drift?: { repaired: string[]; at: string };
}

export interface StatusInput {
  readonly model: ExposedApi;
  /** The status the live object carries now (any shape). */
  readonly previous?: unknown;
  /** The current time, RFC 3339. */
  readonly now: string;
  readonly ready: boolean;
  /** CamelCase, e.g. `Published`, `InvalidSpecification`, `WaitingForIngressAddress`. */
  readonly reason: string;
  readonly message: string;
  /** The APIM gateway base URL when the API is published there; unpublished APIs get their in-mesh URL. */
  readonly gatewayUrl?: string;
  readonly subscriptionKeySecret?: string;
  readonly retry?: { readonly attempts: number; readonly lastError: string; readonly nextRetryAt: string };
  /** What this reconcile put back in APIM after someone changed it. */
  readonly drift?: readonly string[];
}

const MAX_TEXT = 1024;
const cap = (s: string): string => (s.length <= MAX_TEXT ? s : `${s.slice(0, MAX_TEXT - 1)}…`);

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

/**
 * The status to write for one reconcile. The Ready condition keeps its
 * lastTransitionTime while its status stays the same; other condition types
 * are kept as they are. Pure: the clock comes in as `now`.
 */
export function renderStatus(input: StatusInput): ExposedApiStatus {
  const { model } = input;
  if (!/^[A-Z][A-Za-z0-9]*$/.test(input.reason))
    throw new Error(`status: reason must be CamelCase, got ${JSON.stringify(input.reason)}`);
  const base = baseUrl(model, input.gatewayUrl);
  const apiStatus: ExposedApiStatus['apiStatus'] = {
    name: model.name,
    url: base + model.path,
    path: model.path,
    implementation: model.implementation,
    port: model.port,
  };
  if (model.developerUI)
    apiStatus.developerUI = /^https?:\/\//.test(model.developerUI) ? model.developerUI : base + model.developerUI;
  if (input.subscriptionKeySecret) apiStatus.subscriptionKeySecret = input.subscriptionKeySecret;

  const others = previousConditions(input.previous);
  const status: Condition['status'] = input.ready ? 'True' : 'False';
  const before = others.find((c) => c.type === 'Ready');
  const ready: Condition = {
    type: 'Ready',
    status,
    reason: input.reason,
    message: cap(input.message),
    lastTransitionTime: before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : input.now,
  };
  if (model.generation !== undefined) ready.observedGeneration = model.generation;
  const conditions = [...others.filter((c) => c.type !== 'Ready'), ready].sort((a, b) =>
    a.type < b.type ? -1 : a.type > b.type ? 1 : 0,
  );

  const result: ExposedApiStatus = { apiStatus, implementation: { ready: input.ready }, conditions };
  if (model.generation !== undefined) result.observedGeneration = model.generation;
  if (!input.ready && input.retry)
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
