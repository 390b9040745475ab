import Type, { type Static } from 'typebox';

/**
 * The one description of every ExposedAPI form users send: ODA Canvas
 * `oda.tmforum.org` v1, v1beta4 and v1beta3 (including the objects real
 * clusters hold) and the seed operator's v1beta3 form. The static types below
 * are derived from these schemas, so the model and the schema cannot drift.
 *
 * `x-message` is an annotation read by check-schema.ts: the sentence a user
 * sees when a value does not match, e.g. `spec.port: must be an integer from 1 to 65535`.
 */

export const GROUP = 'oda.tmforum.org';
export const VERSIONS = ['v1', 'v1beta4', 'v1beta3'] as const;
export type ExposedApiVersion = (typeof VERSIONS)[number];
export const DEPRECATED_VERSIONS: readonly ExposedApiVersion[] = ['v1beta4', 'v1beta3'];

export const API_TYPES = ['openapi', 'prometheus', 'openmetrics', 'mcp'] as const;
export const SEGMENTS = ['coreFunction', 'managementFunction', 'securityFunction'] as const;
export const RATE_INTERVALS = ['ps', 'pm'] as const;

const quoted = (values: readonly string[]): string =>
  values
    .map((v) => `"${v}"`)
    .join(', ')
    .replace(/, ([^,]*)$/, ' or $1');

/**
 * A count of calls, as a number or a string of at most 10 digits. The number
 * has the same bound: the policy writes it in decimal, and a JSON number from
 * 1e21 on would print as `1e+21`, which is no count APIM reads.
 */
const MAX_COUNT = 9999999999;
const PositiveWhole = Type.Union(
  [Type.Integer({ minimum: 1, maximum: MAX_COUNT }), Type.String({ pattern: '^[1-9][0-9]{0,9}$' })],
  { 'x-message': 'must be a positive whole number of at most 10 digits' },
);
const Flag = Type.Boolean({ 'x-message': 'must be true or false' });
const Text = Type.String({ minLength: 1, 'x-message': 'must be a non-empty string' });
const Csv = Type.String({ 'x-message': 'must be a comma-separated string' });
const StringList = Type.Array(Type.String(), { 'x-message': 'must be a list of strings' });
const CsvOrList = Type.Union([Csv, StringList], {
  'x-message': 'must be a comma-separated string or a list of strings',
});
const Seconds = Type.Integer({
  minimum: 0,
  maximum: 2147483647,
  'x-message': 'must be a whole number of seconds, 0 or more',
});

const SpecUrl = Type.Object(
  {
    url: Type.String({ minLength: 1, 'x-message': 'must be the URL of an OpenAPI document' }),
    version: Type.Optional(Type.String()),
  },
  { additionalProperties: true, 'x-message': 'must be an object with a url' },
);

export const Specification = Type.Union(
  [
    Type.String({ minLength: 1 }),
    Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    SpecUrl,
    Type.Array(SpecUrl, { minItems: 1 }),
  ],
  { 'x-message': 'must be a URL, an inline OpenAPI document, a list of URLs, or {url, version} (alone or in a list)' },
);

export const RateLimit = Type.Object(
  {
    enabled: Type.Optional(Flag),
    identifier: Type.Optional(Text),
    limit: Type.Optional(PositiveWhole),
    interval: Type.Optional(
      Type.String({ enum: [...RATE_INTERVALS], 'x-message': `must be ${quoted(RATE_INTERVALS)}` }),
    ),
    /** The seed form: renewal period in seconds (APIM allows at most 300). */
    period: Type.Optional(
      Type.Union(
        [Type.Integer({ minimum: 1, maximum: 300 }), Type.String({ pattern: '^([1-9][0-9]?|[12][0-9]{2}|300)$' })],
        {
          'x-message': 'must be a whole number of seconds from 1 to 300 (the longest rate-limit period APIM allows)',
        },
      ),
    ),
  },
  { additionalProperties: true, 'x-message': 'must be an object' },
);

export const Quota = Type.Object(
  { identifier: Type.Optional(Text), limit: Type.Optional(PositiveWhole) },
  { additionalProperties: true, 'x-message': 'must be an object' },
);

export const ApiKeyVerification = Type.Object(
  { enabled: Type.Optional(Flag), location: Type.Optional(Text) },
  { additionalProperties: true, 'x-message': 'must be an object' },
);

export const OasValidation = Type.Object(
  {
    requestEnabled: Type.Optional(Flag),
    responseEnabled: Type.Optional(Flag),
    allowUnspecifiedHeaders: Type.Optional(Flag),
    allowUnspecifiedQueryParams: Type.Optional(Flag),
    allowUnspecifiedCookies: Type.Optional(Flag),
  },
  { additionalProperties: true, 'x-message': 'must be an object' },
);

export const Preflight = Type.Object(
  {
    enabled: Type.Optional(Flag),
    allowHeaders: Type.Optional(Csv),
    allowMethods: Type.Optional(Csv),
    maxAge: Type.Optional(Seconds),
  },
  { additionalProperties: true, 'x-message': 'must be an object' },
);

/** ODA form (CSV strings, handlePreflightRequests) and seed form (lists) in one. */
export const Cors = Type.Object(
  {
    enabled: Type.Optional(Flag),
    allowCredentials: Type.Optional(Flag),
    allowOrigins: Type.Optional(CsvOrList),
    allowMethods: Type.Optional(StringList),
    allowHeaders: Type.Optional(StringList),
    exposeHeaders: Type.Optional(StringList),
    maxAge: Type.Optional(Seconds),
    handlePreflightRequests: Type.Optional(Preflight),
  },
  { additionalProperties: true, 'x-message': 'must be an object' },
);

export const ExposedApiSpec = Type.Object(
  {
    name: Type.Optional(Text),
    apiType: Type.Optional(Type.String({ enum: [...API_TYPES], 'x-message': `must be ${quoted(API_TYPES)}` })),
    segment: Type.Optional(Type.String({ enum: [...SEGMENTS], 'x-message': `must be ${quoted(SEGMENTS)}` })),
    specification: Type.Optional(Specification),
    implementation: Type.Optional(Type.String({ 'x-message': 'must be the name of a Service' })),
    path: Type.Optional(Type.String({ 'x-message': 'must be a string starting with "/"' })),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, 'x-message': 'must be an integer from 1 to 65535' }),
    ),
    developerUI: Type.Optional(Type.String({ 'x-message': 'must be a path starting with "/" or an https URL' })),
    template: Type.Optional(Type.String({ 'x-message': 'must be the id of an APIM policy fragment' })),
    apiKeyVerification: Type.Optional(ApiKeyVerification),
    rateLimit: Type.Optional(RateLimit),
    quota: Type.Optional(Quota),
    OASValidation: Type.Optional(OasValidation),
    CORS: Type.Optional(Cors),
    required: Type.Optional(Flag),
    resources: Type.Optional(
      Type.Array(Type.Object({}, { additionalProperties: true }), { 'x-message': 'must be a list of objects' }),
    ),
  },
  { additionalProperties: true, 'x-message': 'must be an object' },
);

export const ObjectMeta = Type.Object(
  {
    name: Type.Optional(Type.String()),
    namespace: Type.Optional(Type.String()),
    uid: Type.Optional(Type.String()),
    generation: Type.Optional(Type.Integer()),
    resourceVersion: Type.Optional(Type.String()),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
    finalizers: Type.Optional(Type.Array(Type.String())),
    deletionTimestamp: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const ExposedApiObject = Type.Object(
  {
    apiVersion: Type.String({ 'x-message': `must be one of ${VERSIONS.map((v) => `${GROUP}/${v}`).join(', ')}` }),
    kind: Type.Literal('ExposedAPI', { 'x-message': 'must be "ExposedAPI"' }),
    metadata: ObjectMeta,
    spec: ExposedApiSpec,
    status: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

/** Fields each version's CRD lists as required; the seed's v1beta3 CRD needs fewer than ODA's. */
export const REQUIRED_BY_VERSION: Readonly<Record<ExposedApiVersion, readonly (keyof ExposedApiSpecT)[]>> = {
  v1: ['name', 'apiType', 'implementation', 'path', 'port'],
  v1beta4: ['name', 'apiType', 'implementation', 'path', 'port'],
  v1beta3: ['implementation', 'path', 'port'],
};

export type ExposedApiSpecT = Static<typeof ExposedApiSpec>;
export type ExposedApiObjectT = Static<typeof ExposedApiObject>;
export type SpecificationT = Static<typeof Specification>;
export type RateLimitT = Static<typeof RateLimit>;
export type CorsT = Static<typeof Cors>;
