import t from 'tap';
import { CLEANUP_FINALIZER, withDefaults } from '../../../shared/exposed-api/defaults.ts';
import { exposedApi, fixtureObject, seedExposedApi } from '../../helpers/resources.ts';

t.test('adds the finalizer once and keeps the others', async (t) => {
  const once = withDefaults(exposedApi({}, { metadata: { finalizers: ['other/finalizer'] } }));
  t.same(once.metadata.finalizers, ['other/finalizer', CLEANUP_FINALIZER]);
  t.same(withDefaults(once), once, 'idempotent');
});

t.test('never adds the finalizer to an object being deleted', async (t) => {
  const deleting = exposedApi({}, { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: [] } });
  t.same(withDefaults(deleting).metadata.finalizers, []);
});

t.test('fills the CRD defaults inside sections the user gave, and nothing else', async (t) => {
  const out = withDefaults(
    exposedApi({
      rateLimit: { limit: '5' },
      CORS: { enabled: true, allowOrigins: 'https://a.com' },
      apiKeyVerification: {},
      OASValidation: { requestEnabled: true },
    }),
  );
  t.equal(out.spec.segment, 'coreFunction');
  t.same(out.spec.rateLimit, { limit: '5', enabled: false, interval: 'ps' });
  t.same(out.spec.CORS, {
    enabled: true,
    allowOrigins: 'https://a.com',
    allowCredentials: false,
    handlePreflightRequests: {
      enabled: true,
      allowHeaders:
        'Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, Access-Control-Request-Headers',
      allowMethods: 'GET, POST, HEAD, OPTIONS',
      maxAge: 1800,
    },
  });
  t.same(out.spec.apiKeyVerification, { enabled: false });
  t.same(out.spec.OASValidation, {
    requestEnabled: true,
    responseEnabled: false,
    allowUnspecifiedHeaders: false,
    allowUnspecifiedQueryParams: false,
    allowUnspecifiedCookies: false,
  });
  const bare = withDefaults(exposedApi({}));
  t.same(
    Object.keys(bare.spec).sort(),
    [...Object.keys(exposedApi({}).spec), 'segment'].sort(),
    'no policy section is invented',
  );
});

t.test('values the user set are kept', async (t) => {
  const full = fixtureObject('exposedapi-v1-full-example.yaml');
  const out = withDefaults(full);
  t.same(out.spec.rateLimit, full.spec.rateLimit);
  t.same(out.spec.CORS, full.spec.CORS);
  t.same(withDefaults(exposedApi({ segment: 'managementFunction' })).spec.segment, 'managementFunction');
});

t.test('segment only in v1, and no defaults for the seed forms', async (t) => {
  t.notOk('segment' in withDefaults(exposedApi({}, { version: 'v1beta4' })).spec);
  const seed = seedExposedApi();
  const out = withDefaults(seed);
  t.same(out.spec, seed.spec);
});

t.test('does not touch malformed sections or the input', async (t) => {
  const odd = exposedApi({ rateLimit: 'fast', CORS: ['x'] });
  const frozen = structuredClone(odd);
  const out = withDefaults(odd);
  t.same(odd, frozen, 'input unchanged');
  t.equal(out.spec.rateLimit, 'fast');
  t.same(out.spec.CORS, ['x']);
});
