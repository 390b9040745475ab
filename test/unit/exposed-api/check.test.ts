import t from 'tap';
import { checkAndNormalise, checkExposedApi } from '../../../shared/exposed-api/check.ts';
import { formatProblem } from '../../../shared/exposed-api/problems.ts';
import { exposedApi, fixtureObject, seedExposedApi } from '../../helpers/resources.ts';

const messages = (object: unknown): string[] => checkExposedApi(object).problems.map(formatProblem);

t.test('every real and documented form is accepted', async (t) => {
  const forms: [string, Record<string, any>][] = [
    ['v1 from a cluster, specification [{url}]', fixtureObject('exposedapi-from-cluster-1.json')],
    ['v1 metrics API from a cluster, no specification', fixtureObject('exposedapi-from-cluster-2.json')],
    ['v1 full example with every policy', fixtureObject('exposedapi-v1-full-example.yaml')],
    ['v1 {url, version}', exposedApi({ specification: { url: 'https://example.com/a.json', version: 'v4' } })],
    [
      'v1beta4 [{url, version}]',
      exposedApi({ specification: [{ url: 'https://example.com/a.json', version: 'v4' }] }, { version: 'v1beta4' }),
    ],
    ['v1beta3 [url]', exposedApi({ specification: ['https://example.com/a.json'] }, { version: 'v1beta3' })],
    ['seed v1beta3 with inline OpenAPI, {limit, period}, CORS lists', seedExposedApi()],
    ['numeric strings as integers', exposedApi({ rateLimit: { enabled: true, limit: 5 }, quota: { limit: 10 } })],
  ];
  for (const [name, object] of forms) {
    const result = checkExposedApi(object);
    t.same(result.problems, [], name);
    t.ok('model' in checkAndNormalise(object), `${name}: normalised`);
  }
});

t.test('each problem names its field and what to do', async (t) => {
  const cases: [string, Record<string, any>, string][] = [
    ['path without slash', exposedApi({ path: 'api/v1' }), 'spec.path: must start with "/"'],
    ['root path', exposedApi({ path: '/' }), 'spec.path: must not be the root path "/"'],
    ['double slash', exposedApi({ path: '/a//b' }), 'spec.path: must not contain "//"'],
    ['dot segment', exposedApi({ path: '/a/../b' }), 'spec.path: must not contain "." or ".." segments'],
    ['query in path', exposedApi({ path: '/a?x=1' }), 'spec.path: may contain only letters'],
    ['port too high', exposedApi({ port: 70000 }), 'spec.port: must be an integer from 1 to 65535, got 70000'],
    ['port as string', exposedApi({ port: '8080' }), 'spec.port: must be an integer from 1 to 65535, got "8080"'],
    ['port zero', exposedApi({ port: 0 }), 'spec.port: must be an integer from 1 to 65535, got 0'],
    [
      'rate limit not a number',
      exposedApi({ rateLimit: { enabled: true, limit: 'abc' } }),
      'spec.rateLimit.limit: must be a positive whole number of at most 10 digits, got "abc"',
    ],
    [
      'rate limit negative',
      exposedApi({ rateLimit: { enabled: true, limit: '-5' } }),
      'spec.rateLimit.limit: must be a positive whole number of at most 10 digits, got "-5"',
    ],
    [
      'rate limit fraction',
      exposedApi({ rateLimit: { enabled: true, limit: '1.5' } }),
      'spec.rateLimit.limit: must be a positive whole number of at most 10 digits, got "1.5"',
    ],
    [
      'rate limit a number too large to print in decimal',
      exposedApi({ rateLimit: { enabled: true, limit: 1e21 } }),
      'spec.rateLimit.limit: must be a positive whole number of at most 10 digits, got 1e+21',
    ],
    [
      'quota limit of 11 digits',
      exposedApi({ quota: { limit: 10000000000 } }),
      'spec.quota.limit: must be a positive whole number of at most 10 digits, got 10000000000',
    ],
    [
      'interval',
      exposedApi({ rateLimit: { enabled: true, limit: '5', interval: 'ph' } }),
      'spec.rateLimit.interval: must be "ps" or "pm", got "ph"',
    ],
    [
      'seed period over 300',
      seedExposedApi({ rateLimit: { limit: 10, period: 3600 } }),
      'spec.rateLimit.period: must be a whole number of seconds from 1 to 300',
    ],
    [
      'interval and period',
      exposedApi({ rateLimit: { enabled: true, limit: '5', interval: 'ps', period: 5 } }),
      'spec.rateLimit: give either interval',
    ],
    [
      'limit missing while on',
      exposedApi({ rateLimit: { enabled: true } }),
      'spec.rateLimit.limit: is required when the rate limit is on',
    ],
    [
      'quota limit',
      exposedApi({ quota: { identifier: 'IP', limit: 'lots' } }),
      'spec.quota.limit: must be a positive whole number of at most 10 digits, got "lots"',
    ],
    [
      'quota without limit',
      exposedApi({ quota: { identifier: 'IP' } }),
      'spec.quota.limit: is required when a quota is given',
    ],
    [
      'apiType enum',
      exposedApi({ apiType: 'graphql' }),
      'spec.apiType: must be "openapi", "prometheus", "openmetrics" or "mcp", got "graphql"',
    ],
    [
      'segment enum',
      exposedApi({ segment: 'core' }),
      'spec.segment: must be "coreFunction", "managementFunction" or "securityFunction", got "core"',
    ],
    [
      'implementation name',
      exposedApi({ implementation: 'My_Service' }),
      'spec.implementation: must be a Service name',
    ],
    ['v1 requires name', exposedApi({ name: undefined }), 'spec.name: is required in oda.tmforum.org/v1'],
    [
      'v1beta4 requires apiType',
      exposedApi({ apiType: undefined }, { version: 'v1beta4' }),
      'spec.apiType: is required in oda.tmforum.org/v1beta4',
    ],
    [
      'v1beta3 requires port',
      exposedApi({ port: undefined }, { version: 'v1beta3' }),
      'spec.port: is required in oda.tmforum.org/v1beta3',
    ],
    [
      'unknown version',
      { ...exposedApi(), apiVersion: 'oda.tmforum.org/v2' },
      'apiVersion: must be one of oda.tmforum.org/v1, oda.tmforum.org/v1beta4, oda.tmforum.org/v1beta3, got "oda.tmforum.org/v2"',
    ],
    [
      'specification of a wrong shape',
      exposedApi({ specification: 42 }),
      'spec.specification: must be a URL, an inline OpenAPI document',
    ],
    [
      'specification URL scheme',
      exposedApi({ specification: { url: 'file:///etc/passwd' } }),
      'spec.specification: must be an http(s) URL, got "file:///etc/passwd"',
    ],
    [
      'specification list item',
      exposedApi({ specification: [{ url: 'https://a/x.json' }, { url: 'gopher://b' }] }, { version: 'v1beta4' }),
      'spec.specification[1]: must be an http(s) URL',
    ],
    [
      'developerUI',
      exposedApi({ developerUI: 'docs' }),
      'spec.developerUI: must be a path starting with "/" or an http(s) URL',
    ],
    [
      'template with an expression',
      exposedApi({ template: '@(context.Variables)' }),
      'spec.template: must be the id of an APIM policy fragment',
    ],
    [
      'api key location',
      exposedApi({ apiKeyVerification: { enabled: true, location: 'x"y' } }),
      'spec.apiKeyVerification.location: must be "header", "query" or the name of the header',
    ],
    [
      'flag not boolean',
      exposedApi({ OASValidation: { requestEnabled: 'yes' } }),
      'spec.OASValidation.requestEnabled: must be true or false, got "yes"',
    ],
  ];
  for (const [name, object, expected] of cases) {
    const found = messages(object);
    t.ok(
      found.some((m) => m.startsWith(expected)),
      `${name}: ${expected}`,
      { found },
    );
    t.notOk('model' in checkAndNormalise(object), `${name}: no model for an invalid object`);
  }
});

t.test('values that reach policy XML cannot carry markup or policy expressions', async (t) => {
  const attacks: [string, Record<string, any>, string][] = [
    [
      'rate-limit counter header',
      exposedApi({ rateLimit: { enabled: true, limit: '5', identifier: '@(context.Request.Body)' } }),
      'spec.rateLimit.identifier',
    ],
    [
      'quota counter header',
      exposedApi({ quota: { limit: '5', identifier: 'x","") + @(1' } }),
      'spec.quota.identifier',
    ],
    [
      'origin with markup',
      exposedApi({ CORS: { enabled: true, allowOrigins: 'https://a.com"/><set-body>@{return 1;}</set-body>' } }),
      'spec.CORS.allowOrigins',
    ],
    [
      'origin with a path',
      exposedApi({ CORS: { enabled: true, allowOrigins: 'https://a.com/path' } }),
      'spec.CORS.allowOrigins',
    ],
    [
      'origin javascript:',
      exposedApi({ CORS: { enabled: true, allowOrigins: 'javascript:alert(1)' } }),
      'spec.CORS.allowOrigins',
    ],
    [
      'method expression',
      exposedApi({ CORS: { enabled: true, handlePreflightRequests: { allowMethods: 'GET, @(x)' } } }),
      'spec.CORS.handlePreflightRequests.allowMethods',
    ],
    [
      'header with angle brackets',
      exposedApi({ CORS: { enabled: true, handlePreflightRequests: { allowHeaders: 'X-A, </header><x>' } } }),
      'spec.CORS.handlePreflightRequests.allowHeaders',
    ],
    [
      'seed header list',
      seedExposedApi({ CORS: { allowOrigins: ['https://a.com'], allowHeaders: ['@{x}'] } }),
      'spec.CORS.allowHeaders',
    ],
    [
      'seed expose header',
      seedExposedApi({ CORS: { allowOrigins: ['https://a.com'], exposeHeaders: ['a b'] } }),
      'spec.CORS.exposeHeaders',
    ],
  ];
  for (const [name, object, field] of attacks) {
    t.ok(
      checkExposedApi(object).problems.some((p) => p.field === field),
      name,
    );
  }
});

t.test('CORS that browsers and APIM refuse', async (t) => {
  t.match(messages(exposedApi({ CORS: { enabled: true, allowCredentials: true } })), [
    /spec\.CORS\.allowOrigins: is "\*" \(the default\) while allowCredentials is true/,
  ]);
  t.match(messages(exposedApi({ CORS: { enabled: true, allowCredentials: true, allowOrigins: '*' } })), [
    /allowCredentials is true/,
  ]);
  t.match(messages(exposedApi({ CORS: { enabled: true, allowOrigins: '*, https://a.com' } })), [/use "\*" alone/]);
  t.match(
    messages(seedExposedApi({ CORS: { allowOrigins: ['*'], allowCredentials: true } })),
    [/allowCredentials is true/],
    'the seed form too',
  );
  t.same(
    messages(exposedApi({ CORS: { enabled: false, allowCredentials: true } })),
    [],
    'CORS that is off is not checked',
  );
  t.same(
    messages(
      exposedApi({
        CORS: { enabled: true, allowOrigins: '*', handlePreflightRequests: { allowMethods: '*', allowHeaders: '*' } },
      }),
    ),
    [],
    'wildcards without credentials',
  );
});

t.test('every problem is reported at once', async (t) => {
  const found = messages(
    exposedApi({ path: 'x', port: 0, rateLimit: { enabled: true, limit: 'abc', interval: 'x' }, implementation: 'A' }),
  );
  t.equal(found.length, 5, found.join('\n'));
});

t.test('warnings for input accepted but doubtful', async (t) => {
  const cases: [string, Record<string, any>, RegExp][] = [
    ['deprecated v1beta3', exposedApi({}, { version: 'v1beta3' }), /v1beta3 is deprecated: use oda.tmforum.org\/v1/],
    ['deprecated v1beta4', exposedApi({}, { version: 'v1beta4' }), /v1beta4 is deprecated/],
    [
      'rate limit without enabled',
      exposedApi({ rateLimit: { limit: '10' } }),
      /spec\.rateLimit has a limit but enabled is not true/,
    ],
    [
      'rate limit defaulted to off',
      exposedApi({ rateLimit: { enabled: false, limit: '10' } }),
      /no rate limit is applied/,
    ],
    [
      'several specifications',
      exposedApi({ specification: [{ url: 'https://a/1.json' }, { url: 'https://a/2.json' }] }),
      /only the first is imported/,
    ],
    ['openapi without a document', exposedApi({}), /spec\.specification is not set/],
    ['v1beta3 without apiType', exposedApi({ apiType: undefined }, { version: 'v1beta3' }), /spec\.apiType is not set/],
  ];
  for (const [name, object, expected] of cases) {
    const result = checkExposedApi(object);
    t.same(result.problems, [], `${name}: accepted`);
    t.ok(
      result.warnings.some((w) => expected.test(w)),
      name,
      { warnings: result.warnings },
    );
  }
  t.same(
    checkExposedApi(fixtureObject('exposedapi-from-cluster-2.json')).warnings,
    [],
    'a metrics API needs no document',
  );
});

t.test('the reconciler reads every object through one version: required fields as v1beta3', async (t) => {
  const seedReadAsV1 = { ...seedExposedApi(), apiVersion: 'oda.tmforum.org/v1' };
  t.match(
    messages(seedReadAsV1),
    [/spec\.apiType: is required in oda\.tmforum\.org\/v1/, /spec\.name: is required/],
    'admission checks v1 as v1',
  );
  const read = checkAndNormalise(seedReadAsV1, { requiredAs: 'v1beta3' });
  t.ok('model' in read, 'the reconciler can still work with it');
  t.same(
    checkExposedApi(exposedApi({ port: undefined }), { requiredAs: 'v1beta3' }).problems.map(formatProblem),
    ['spec.port: is required in oda.tmforum.org/v1'],
    'what a reconcile needs is still required',
  );
});
