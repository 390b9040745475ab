// Generated ExposedAPIs for property tests (fast-check): hostile JSON, shells
// with hostile values where a user's go, plausible resources, and resources
// with every policy on whose policy values mix valid ones with hostile text.
import fc from 'fast-check';
import { HOSTILE_TEXT } from './hostile-text.ts';

/** Any JSON, with what breaks naive code: prototype keys, control characters, huge and odd numbers. */
export const hostileJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(
      null,
      true,
      false,
      '',
      '\u0000',
      '\u202e',
      '@(context.Request)',
      1e308,
      -0,
      Number.MAX_SAFE_INTEGER,
    ),
    fc.string({ unit: 'binary' }),
    fc.double(),
    fc.integer(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'spec', 'url', 'enabled'), fc.string()),
      tie('value'),
      { maxKeys: 5 },
    ),
  ),
})).value;

const SECTIONS = ['rateLimit', 'quota', 'CORS', 'OASValidation', 'apiKeyVerification', 'specification', 'path', 'port'];
/** An ExposedAPI shell with hostile values where a user's go. */
export const shell = fc.record({
  apiVersion: fc.constantFrom('oda.tmforum.org/v1', 'oda.tmforum.org/v1beta4', 'oda.tmforum.org/v1beta3', 'x/v1'),
  kind: fc.constant('ExposedAPI'),
  metadata: fc.record({ name: fc.constantFrom('api', 'a.b', 'API', ''), namespace: fc.constant('components') }),
  spec: fc.dictionary(fc.constantFrom(...SECTIONS, 'name', 'implementation', 'template'), hostileJson, {
    maxKeys: 8,
  }),
});

/** ExposedAPIs a user could write: valid values and blanks, in every section, every version. */
export const plausible = fc.record({
  apiVersion: fc.constantFrom('oda.tmforum.org/v1', 'oda.tmforum.org/v1beta4', 'oda.tmforum.org/v1beta3'),
  kind: fc.constant('ExposedAPI'),
  metadata: fc.record({ name: fc.constantFrom('r1-api', 'api'), namespace: fc.constant('components') }),
  spec: fc.record(
    {
      name: fc.constant('productcatalog'),
      implementation: fc.constant('r1-prodcat'),
      path: fc.constantFrom('/r1/api', '/r1/api/'),
      port: fc.constantFrom(80, 8080),
      apiType: fc.constantFrom('openapi', 'prometheus'),
      segment: fc.constantFrom('coreFunction', 'managementFunction'),
      specification: fc.constantFrom(
        'https://example.com/a.json',
        [{ url: 'https://example.com/a.json', version: 'v4' }],
        { url: 'https://example.com/a.json' },
      ),
      rateLimit: fc.record(
        {
          enabled: fc.boolean(),
          identifier: fc.constantFrom('IP', 'x-client', ''),
          limit: fc.constantFrom('100', 5, ''),
          interval: fc.constantFrom('ps', 'pm'),
        },
        { requiredKeys: [] },
      ),
      quota: fc.record(
        { identifier: fc.constantFrom('IP', ''), limit: fc.constantFrom('1000', '') },
        { requiredKeys: [] },
      ),
      apiKeyVerification: fc.record(
        { enabled: fc.boolean(), location: fc.constantFrom('header', 'query') },
        { requiredKeys: [] },
      ),
      OASValidation: fc.record({ requestEnabled: fc.boolean(), responseEnabled: fc.boolean() }, { requiredKeys: [] }),
      CORS: fc.record(
        {
          enabled: fc.boolean(),
          allowCredentials: fc.constant(false),
          allowOrigins: fc.constantFrom('*', 'https://a.example, https://b.example'),
          handlePreflightRequests: fc.record(
            { enabled: fc.boolean(), maxAge: fc.constantFrom(0, 3600) },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['name', 'implementation', 'path', 'port'] },
  ),
});

/** Hostile text: the known payloads, random mixes of their pieces, and any string. */
const hostileText = fc.oneof(
  fc.constantFrom(...HOSTILE_TEXT.map(([, text]) => text)),
  fc
    .array(
      fc.constantFrom('<', '>', '/', '&', ';', '#', '"', "'", '=', '@(', '@{', ')', '}', '{{', '<![CDATA[', ']]>'),
      { maxLength: 8 },
    )
    .chain((pieces) =>
      fc
        .array(fc.constantFrom('\n', '\t', ' ', ',', '\uff1c', '\u2039', 'a', '-', '.', ':', 'https://'), {
          maxLength: 4,
        })
        .map((more) => [...pieces, ...more].join('')),
    ),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
/** Mostly a valid value, sometimes hostile text: with a dozen such fields, about half of the resources pass. */
const mostly = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<T | string> =>
  fc.oneof({ weight: 20, arbitrary: valid }, { weight: 1, arbitrary: hostileText });

/** Every character an HTTP token may hold, including the ones XML must escape (`&`, `'`). */
const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
const method = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,8}$/);
const counter = fc.oneof(fc.constantFrom('IP', 'ip'), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,12}$/));
const origin = fc
  .tuple(fc.constantFrom('http', 'https'), fc.domain(), fc.option(fc.integer({ min: 1, max: 65535 })))
  .map(([scheme, host, port]) => `${scheme}://${host}${port === null ? '' : `:${port}`}`);
const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/);
/** Limits as users write them, with the numbers that print oddly (`1e+21`) and the largest a string may hold. */
const limit = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 2147483647 }) },
  { weight: 1, arbitrary: fc.constantFrom(1e21, Number.MAX_SAFE_INTEGER, 9999999999, '9999999999') },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 999999999 }).map(String) },
);
const list = <T>(item: fc.Arbitrary<T>) => fc.array(mostly(item), { minLength: 1, maxLength: 3 });
const csv = <T>(item: fc.Arbitrary<T>) => list(item).map((items) => items.join(', '));
/** `*` alone or a list of origins: a list that mixes them is refused, and says so. */
const origins = fc.oneof({ weight: 1, arbitrary: fc.constant(['*']) }, { weight: 4, arbitrary: list(origin) });

const odaCors = fc.record({
  enabled: fc.constant(true),
  allowCredentials: fc.boolean(),
  allowOrigins: origins.map((items) => items.join(', ')),
  handlePreflightRequests: fc.record({
    enabled: fc.boolean(),
    allowMethods: csv(method),
    allowHeaders: csv(token),
    maxAge: fc.integer({ min: 0, max: 2147483647 }),
  }),
});
const seedCors = fc.record({
  allowOrigins: origins,
  allowMethods: list(method),
  allowHeaders: list(token),
  exposeHeaders: list(token),
  allowCredentials: fc.boolean(),
});

/** ExposedAPIs with every policy on, each value that reaches the policy mostly valid and sometimes hostile. */
export const policyHeavy = fc.record({
  apiVersion: fc.constantFrom('oda.tmforum.org/v1', 'oda.tmforum.org/v1beta4', 'oda.tmforum.org/v1beta3'),
  kind: fc.constant('ExposedAPI'),
  metadata: fc.record({
    name: mostly(fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.'))),
    namespace: mostly(label),
  }),
  spec: fc.record({
    name: fc.constant('productcatalog'),
    apiType: fc.constant('openapi'),
    implementation: fc.constant('r1-prodcat'),
    path: fc.constant('/r1/api'),
    port: fc.constant(8080),
    template: mostly(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,16}$/)),
    rateLimit: fc.record({
      enabled: fc.constant(true),
      identifier: mostly(counter),
      limit: mostly(limit),
      interval: fc.constantFrom('ps', 'pm'),
    }),
    quota: fc.record({ identifier: mostly(counter), limit: mostly(limit) }),
    OASValidation: fc.record({
      requestEnabled: fc.boolean(),
      responseEnabled: fc.boolean(),
      allowUnspecifiedHeaders: fc.boolean(),
      allowUnspecifiedQueryParams: fc.boolean(),
    }),
    CORS: fc.oneof(odaCors, seedCors),
  }),
});
