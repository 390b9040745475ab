// Properties of the admission model over generated input (fast-check, seeded
// so that a failure reproduces): the checks never throw and always answer; the
// mutation is idempotent and changes no meaning.
import t from 'tap';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { checkAndNormalise, checkExposedApi } from '../../../shared/exposed-api/check.ts';
import { withDefaults } from '../../../shared/exposed-api/defaults.ts';

const RUNS = { seed: 20261207, numRuns: 2000 };

/** Any JSON, with what breaks naive code: prototype keys, control characters, huge and odd numbers. */
const hostileJson = fc.letrec((tie) => ({
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
const shell = fc.record({
  apiVersion: fc.constantFrom('oda.tmforum.org/v1', 'oda.tmforum.org/v1beta4', 'oda.tmforum.org/v1beta3', 'x/v1'),
  kind: fc.constant('ExposedAPI'),
  metadata: fc.record({ name: fc.constantFrom('api', 'a.b', 'API', ''), namespace: fc.constant('components') }),
  spec: fc.dictionary(fc.constantFrom(...SECTIONS, 'name', 'implementation', 'template'), hostileJson, {
    maxKeys: 8,
  }),
});

t.test('the checks never throw, and answer with a model or with problems', async (t) => {
  fc.assert(
    fc.property(fc.oneof(hostileJson, shell), (input) => {
      const result = checkAndNormalise(input);
      if ('model' in result) return typeof result.model.key.name === 'string';
      return result.problems.length > 0 && result.problems.every((p) => typeof p.message === 'string');
    }),
    RUNS,
  );
  t.pass(`${RUNS.numRuns} hostile inputs`);
});

/** ExposedAPIs a user could write: valid values and blanks, in every section, every version. */
const plausible = fc.record({
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

t.test('mutation: a second one is an empty patch, and it changes no meaning', async (t) => {
  let accepted = 0;
  fc.assert(
    fc.property(plausible, (object) => {
      const once = withDefaults(object);
      if (jsonpatch.compare(once, withDefaults(once)).length > 0) return false;
      const before = checkAndNormalise(object);
      const after = checkAndNormalise(once);
      if (!('model' in before)) return !('model' in after);
      accepted += 1;
      return 'model' in after && JSON.stringify(after.model) === JSON.stringify(before.model);
    }),
    { ...RUNS, numRuns: 500 },
  );
  t.ok(accepted > 100, `${accepted} of 500 generated resources accepted`);
});

t.test('the checks are deterministic and leave their input alone', async (t) => {
  fc.assert(
    fc.property(fc.oneof(plausible, shell), (object) => {
      const copy = structuredClone(object);
      const first = checkExposedApi(object);
      const second = checkExposedApi(object);
      return JSON.stringify(first) === JSON.stringify(second) && JSON.stringify(object) === JSON.stringify(copy);
    }),
    { ...RUNS, numRuns: 500 },
  );
  t.pass('deterministic, input untouched');
});
