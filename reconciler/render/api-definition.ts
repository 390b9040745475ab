import { configure } from 'safe-stable-stringify';
import type { ExposedApi } from '../../shared/exposed-api/model.ts';
import { displayNameFor, ownershipMarker } from './api-id.ts';

export type ImportFormat =
  | 'openapi'
  | 'openapi+json'
  | 'openapi-link'
  | 'openapi+json-link'
  | 'swagger-json'
  | 'swagger-link-json';

/** What the reconciler writes to APIM for one API (the API entity; the policy goes separately). */
export interface ApiDefinition {
  displayName: string;
  /** Without the leading `/`. */
  path: string;
  serviceUrl: string;
  protocols: ['https'];
  subscriptionRequired: boolean;
  subscriptionKeyHeader?: string;
  subscriptionKeyQuery?: string;
  /** Carries the ownership marker and the `spec-sha256:` line. */
  description: string;
  openidProviderId?: string;
  import?: { format: ImportFormat; value: string };
}

export const MAX_SERVICE_URL_LENGTH = 2000;
const SPEC_HASH_PREFIX = 'spec-sha256: ';

/** The `spec-sha256:` value in a description this operator wrote, if any. */
export function specHashIn(description: string | undefined): string | undefined {
  const line = description?.split(/\r?\n/).find((l) => l.trim().startsWith(SPEC_HASH_PREFIX));
  return line?.trim().slice(SPEC_HASH_PREFIX.length);
}

export interface ApiDefinitionInput {
  readonly serviceUrl: string;
  /** The document to import, with its SHA-256 (hex) as the resolver computed it once. */
  readonly spec?: { readonly format: ImportFormat; readonly value: string; readonly sha256: string };
  readonly openidProviderId?: string;
}

/** The API entity for an ExposedAPI. Pure: the caller fetched the document and found the backend URL. */
export function renderApiDefinition(model: ExposedApi, input: ApiDefinitionInput): ApiDefinition {
  if (!/^https?:\/\//.test(input.serviceUrl) || input.serviceUrl.length > MAX_SERVICE_URL_LENGTH) {
    throw new Error(
      `api definition: serviceUrl must be an http(s) URL of at most ${MAX_SERVICE_URL_LENGTH} characters`,
    );
  }
  const description = [
    `${model.name}: ExposedAPI ${model.key.namespace}/${model.key.name}, published by oda-apim-operator. Changes made here are overwritten.`,
    ownershipMarker(model.key),
    `${SPEC_HASH_PREFIX}${input.spec ? input.spec.sha256 : 'none'}`,
  ].join('\n');
  const definition: ApiDefinition = {
    displayName: displayNameFor(model),
    path: model.path.replace(/^\/+/, ''),
    serviceUrl: input.serviceUrl,
    protocols: ['https'],
    subscriptionRequired: model.apiKey !== undefined,
    description,
  };
  if (model.apiKey?.header) definition.subscriptionKeyHeader = model.apiKey.header;
  if (model.apiKey?.query) definition.subscriptionKeyQuery = model.apiKey.query;
  if (input.openidProviderId) definition.openidProviderId = input.openidProviderId;
  if (input.spec) definition.import = { format: input.spec.format, value: input.spec.value };
  return definition;
}

/** A cycle throws, as in JSON.stringify. */
const stableStringify = configure({ deterministic: true, circularValue: TypeError });

/** JSON with object keys sorted at every level and undefined members left out (the same bytes as JSON.stringify otherwise). */
export function canonicalJson(value: unknown): string {
  return stableStringify(value) ?? 'null';
}
