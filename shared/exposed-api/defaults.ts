import { CORS_DEFAULTS, isSeedCors } from './cors.ts';
import type { CorsT } from './schema.ts';
import { versionOf } from './rules.ts';

/** The finalizer that makes Kubernetes wait for the APIM API and Ingress to be cleaned up. */
export const CLEANUP_FINALIZER = 'oda.tmforum.org/apim-cleanup';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function fill(target: Obj, defaults: Obj): void {
  for (const [key, value] of Object.entries(defaults)) if (target[key] === undefined) target[key] = value;
}

/**
 * Returns a copy of an ExposedAPI with the CRD's documented defaults filled in
 * and the cleanup finalizer added; it never changes a value the user set and
 * never creates a policy section the user did not ask for, so applying it
 * twice gives the same object (re-admission yields an empty patch). The seed's
 * forms (rateLimit with `period`, CORS lists) have no such defaults.
 */
export function withDefaults<T>(object: T): T {
  const copy = structuredClone(object) as Obj;
  if (!isObj(copy)) return copy as T;
  const metadata = isObj(copy.metadata) ? copy.metadata : undefined;
  if (metadata && metadata.deletionTimestamp === undefined) {
    const finalizers = Array.isArray(metadata.finalizers) ? metadata.finalizers : [];
    if (!finalizers.includes(CLEANUP_FINALIZER)) metadata.finalizers = [...finalizers, CLEANUP_FINALIZER];
  }
  const spec = copy.spec;
  if (!isObj(spec)) return copy as T;
  if (versionOf(copy.apiVersion) === 'v1') fill(spec, { segment: 'coreFunction' });
  if (isObj(spec.rateLimit) && spec.rateLimit.period === undefined)
    fill(spec.rateLimit, { enabled: false, interval: 'ps' });
  if (isObj(spec.apiKeyVerification)) fill(spec.apiKeyVerification, { enabled: false });
  if (isObj(spec.OASValidation)) {
    fill(spec.OASValidation, {
      requestEnabled: false,
      responseEnabled: false,
      allowUnspecifiedHeaders: false,
      allowUnspecifiedQueryParams: false,
      allowUnspecifiedCookies: false,
    });
  }
  if (isObj(spec.CORS) && !isSeedCors(spec.CORS as CorsT)) {
    const cors = spec.CORS;
    fill(cors, {
      enabled: false,
      allowCredentials: false,
      allowOrigins: CORS_DEFAULTS.allowOrigins,
      handlePreflightRequests: {},
    });
    if (isObj(cors.handlePreflightRequests)) {
      fill(cors.handlePreflightRequests, {
        enabled: true,
        allowHeaders: CORS_DEFAULTS.allowHeaders,
        allowMethods: CORS_DEFAULTS.allowMethods,
        maxAge: CORS_DEFAULTS.maxAge,
      });
    }
  }
  return copy as T;
}
