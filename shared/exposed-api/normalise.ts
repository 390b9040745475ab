import type { ExposedApiObjectT, ExposedApiSpecT } from './schema.ts';
import type { Counter, ExposedApi } from './model.ts';
import { versionOf } from './rules.ts';
import { specSources } from './specification.ts';
import { corsIsOn, effectiveCors } from './cors.ts';

/** The names under which APIM accepts a subscription key when an API names none. */
export const APIM_KEY_NAMES = Object.freeze({ header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' });
const RENEWAL_SECONDS = { ps: 1, pm: 60 } as const;

function counter(identifier: string | undefined): Counter {
  return !identifier || identifier.toUpperCase() === 'IP' ? { kind: 'ip' } : { kind: 'header', name: identifier };
}

function rateLimit(rl: ExposedApiSpecT['rateLimit']): ExposedApi['rateLimit'] {
  if (!rl || rl.limit === undefined) return undefined;
  const seed = rl.period !== undefined;
  if (!seed && rl.enabled !== true) return undefined;
  const renewal = seed ? Number(rl.period) : RENEWAL_SECONDS[(rl.interval ?? 'ps') as keyof typeof RENEWAL_SECONDS];
  return { calls: Number(rl.limit), renewalPeriodSeconds: renewal, counter: counter(rl.identifier) };
}

function apiKey(v: ExposedApiSpecT['apiKeyVerification']): ExposedApi['apiKey'] {
  if (v?.enabled !== true) return undefined;
  if (v.location === 'query') return { query: APIM_KEY_NAMES.query };
  if (!v.location || v.location === 'header') return { header: APIM_KEY_NAMES.header };
  return { header: v.location };
}

function cors(c: ExposedApiSpecT['CORS']): ExposedApi['cors'] {
  if (!c || !corsIsOn(c)) return undefined;
  const e = effectiveCors(c);
  return {
    allowedOrigins: e.origins,
    allowedMethods: e.methods,
    allowedHeaders: e.headers,
    exposeHeaders: e.exposeHeaders,
    allowCredentials: e.credentials,
    preflightMaxAgeSeconds: e.maxAge,
    handlePreflight: e.preflight,
  };
}

function oasValidation(o: ExposedApiSpecT['OASValidation']): ExposedApi['oasValidation'] {
  if (!o || (o.requestEnabled !== true && o.responseEnabled !== true)) return undefined;
  return {
    request: o.requestEnabled === true,
    response: o.responseEnabled === true,
    allowUnspecifiedHeaders: o.allowUnspecifiedHeaders === true,
    allowUnspecifiedQueryParams: o.allowUnspecifiedQueryParams === true,
    allowUnspecifiedCookies: o.allowUnspecifiedCookies === true,
  };
}

/**
 * Turns a checked ExposedAPI of any version or form into the one internal
 * shape the reconciler uses. Call only on an object that passed checkExposedApi.
 */
export function normalise(object: ExposedApiObjectT): ExposedApi {
  const { metadata, spec } = object;
  const version = versionOf(object.apiVersion);
  if (!version) throw new Error(`normalise: unsupported apiVersion ${object.apiVersion}`);
  const [specification] = specSources(spec.specification);
  const optional = {
    uid: metadata.uid,
    generation: metadata.generation,
    developerUI: spec.developerUI,
    specification,
    apiKey: apiKey(spec.apiKeyVerification),
    rateLimit: rateLimit(spec.rateLimit),
    quota:
      spec.quota?.limit === undefined
        ? undefined
        : { calls: Number(spec.quota.limit), counter: counter(spec.quota.identifier) },
    cors: cors(spec.CORS),
    oasValidation: oasValidation(spec.OASValidation),
    template: spec.template,
  };
  return {
    key: { namespace: metadata.namespace ?? 'default', name: metadata.name ?? '' },
    apiVersion: version,
    deleting: metadata.deletionTimestamp !== undefined,
    name: spec.name ?? metadata.name ?? '',
    apiType: (spec.apiType ?? 'openapi') as ExposedApi['apiType'],
    segment: (spec.segment ?? 'coreFunction') as ExposedApi['segment'],
    path: (spec.path ?? '').replace(/\/+$/, ''),
    implementation: spec.implementation ?? '',
    port: spec.port ?? 0,
    ...(Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) as Partial<ExposedApi>),
  };
}
