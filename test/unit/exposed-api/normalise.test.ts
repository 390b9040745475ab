import t from 'tap';
import { model } from '../../helpers/golden.ts';
import type { ExposedApi } from '../../../shared/exposed-api/model.ts';
import { exposedApi, fixtureObject, seedExposedApi } from '../../helpers/resources.ts';

t.test('specification forms become one source', async (t) => {
  const url = 'https://example.com/spec.json';
  const cases: [string, Record<string, any>, ExposedApi['specification']][] = [
    ['v1 object', exposedApi({ specification: { url, version: 'v4' } }), { kind: 'url', url, version: 'v4' }],
    ['v1 from a cluster: list of {url}', exposedApi({ specification: [{ url }] }), { kind: 'url', url }],
    [
      'v1beta4 list, first wins',
      exposedApi({ specification: [{ url, version: 'v4' }, { url: 'https://x/5.json' }] }, { version: 'v1beta4' }),
      { kind: 'url', url, version: 'v4' },
    ],
    ['v1beta3 list of strings', exposedApi({ specification: [url] }, { version: 'v1beta3' }), { kind: 'url', url }],
    ['URL string', exposedApi({ specification: ` ${url} ` }, { version: 'v1beta3' }), { kind: 'url', url }],
    [
      'inline document',
      seedExposedApi({ specification: '{"openapi":"3.0.3"}' }),
      { kind: 'inline', text: '{"openapi":"3.0.3"}' },
    ],
    ['none', exposedApi({}), undefined],
  ];
  for (const [name, object, expected] of cases) t.same(model(object).specification, expected, name);
});

t.test('the full v1 example maps every policy', async (t) => {
  const m = model(fixtureObject('exposedapi-v1-full-example.yaml'));
  t.same(m.rateLimit, { calls: 100, renewalPeriodSeconds: 60, counter: { kind: 'ip' } });
  t.same(m.quota, { calls: 1000, counter: { kind: 'header', name: 'test-identifier' } });
  t.same(m.apiKey, { header: 'Ocp-Apim-Subscription-Key' });
  t.same(m.cors, {
    allowedOrigins: ['https://allowed-origin.com', 'https://another-allowed-origin.com'],
    allowedMethods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: [
      'Origin',
      'Accept',
      'X-Requested-With',
      'Content-Type',
      'Access-Control-Request-Method',
      'Access-Control-Request-Headers',
    ],
    exposeHeaders: [],
    allowCredentials: true,
    preflightMaxAgeSeconds: 3600,
    handlePreflight: true,
  });
  t.same(m.oasValidation, {
    request: true,
    response: true,
    allowUnspecifiedHeaders: false,
    allowUnspecifiedQueryParams: false,
    allowUnspecifiedCookies: false,
  });
  t.equal(m.segment, 'coreFunction');
  t.equal(m.developerUI, '/r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4/docs');
});

t.test('the seed form maps to the same shape', async (t) => {
  const m = model(seedExposedApi());
  t.equal(m.name, 'seed-api', 'spec.name falls back to the resource name');
  t.equal(m.apiType, 'openapi');
  t.same(
    m.rateLimit,
    { calls: 100, renewalPeriodSeconds: 60, counter: { kind: 'ip' } },
    'period is the renewal period',
  );
  t.same(m.cors?.allowedOrigins, ['https://app.example.com']);
  t.same(m.cors?.allowedMethods, ['GET', 'POST']);
  t.same(m.cors?.exposeHeaders, ['X-Total-Count']);
  t.equal(m.cors?.preflightMaxAgeSeconds, 600);
  t.equal(m.cors?.allowCredentials, true);
});

t.test('policies are present only when switched on', async (t) => {
  const cases: [string, Record<string, any>, (m: ExposedApi) => unknown, unknown][] = [
    ['rate limit off by default', exposedApi({ rateLimit: { limit: '10' } }), (m) => m.rateLimit, undefined],
    [
      'rate limit per second by default',
      exposedApi({ rateLimit: { enabled: true, limit: '10' } }),
      (m) => m.rateLimit,
      { calls: 10, renewalPeriodSeconds: 1, counter: { kind: 'ip' } },
    ],
    [
      'rate limit by header',
      exposedApi({ rateLimit: { enabled: true, limit: 3, interval: 'pm', identifier: 'X-Client-Id' } }),
      (m) => m.rateLimit,
      { calls: 3, renewalPeriodSeconds: 60, counter: { kind: 'header', name: 'X-Client-Id' } },
    ],
    [
      'ip identifier in any case',
      exposedApi({ quota: { limit: '7', identifier: 'ip' } }),
      (m) => m.quota,
      { calls: 7, counter: { kind: 'ip' } },
    ],
    ['CORS off unless enabled', exposedApi({ CORS: { allowOrigins: 'https://a.com' } }), (m) => m.cors, undefined],
    ['API key off', exposedApi({ apiKeyVerification: { enabled: false } }), (m) => m.apiKey, undefined],
    [
      'API key in the query',
      exposedApi({ apiKeyVerification: { enabled: true, location: 'query' } }),
      (m) => m.apiKey,
      { query: 'subscription-key' },
    ],
    [
      'API key in a named header',
      exposedApi({ apiKeyVerification: { enabled: true, location: 'X-Api-Key' } }),
      (m) => m.apiKey,
      { header: 'X-Api-Key' },
    ],
    [
      'OAS validation off',
      exposedApi({ OASValidation: { allowUnspecifiedHeaders: true } }),
      (m) => m.oasValidation,
      undefined,
    ],
    ['trailing slash of the path dropped', exposedApi({ path: '/a/b/' }), (m) => m.path, '/a/b'],
    [
      'deletion seen',
      exposedApi({}, { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } }),
      (m) => m.deleting,
      true,
    ],
  ];
  for (const [name, object, pick, expected] of cases) t.same(pick(model(object)), expected, name);
});
