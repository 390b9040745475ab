import type { ResourceKey } from '../key.ts';
import type { API_TYPES, ExposedApiVersion, SEGMENTS } from './schema.ts';
import type { SpecSource } from './specification.ts';

/** Who a rate-limit or quota counter is kept for. */
export type Counter = { readonly kind: 'ip' } | { readonly kind: 'header'; readonly name: string };

/**
 * The one internal shape of an ExposedAPI, whatever version or form it came
 * in. Optional policy parts are present only when they are switched on.
 */
export interface ExposedApi {
  readonly key: ResourceKey;
  readonly uid?: string;
  readonly generation?: number;
  readonly apiVersion: ExposedApiVersion;
  readonly deleting: boolean;
  readonly name: string;
  readonly apiType: (typeof API_TYPES)[number];
  readonly segment: (typeof SEGMENTS)[number];
  /** Leading `/`, no trailing `/`. */
  readonly path: string;
  readonly implementation: string;
  readonly port: number;
  readonly developerUI?: string;
  /** The document to import; further ones in the resource are ignored (with a warning at admission). */
  readonly specification?: SpecSource;
  readonly apiKey?: { readonly header?: string; readonly query?: string };
  readonly rateLimit?: { readonly calls: number; readonly renewalPeriodSeconds: number; readonly counter: Counter };
  readonly quota?: { readonly calls: number; readonly counter: Counter };
  readonly cors?: {
    readonly allowedOrigins: readonly string[];
    readonly allowedMethods: readonly string[];
    readonly allowedHeaders: readonly string[];
    readonly exposeHeaders: readonly string[];
    readonly allowCredentials: boolean;
    readonly preflightMaxAgeSeconds: number;
    readonly handlePreflight: boolean;
  };
  readonly oasValidation?: {
    readonly request: boolean;
    readonly response: boolean;
    readonly allowUnspecifiedHeaders: boolean;
    readonly allowUnspecifiedQueryParams: boolean;
    readonly allowUnspecifiedCookies: boolean;
  };
  readonly template?: string;
}
