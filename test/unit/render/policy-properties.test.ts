// Properties of the policy renderer over generated resources (fast-check,
// seeded so that a failure reproduces): for every resource admission accepts,
// the policy is well-formed XML made only of the operator's own elements,
// attributes and expressions.
import t from 'tap';
import fc from 'fast-check';
import { checkAndNormalise } from '../../../shared/exposed-api/check.ts';
import { withDefaults } from '../../../shared/exposed-api/defaults.ts';
import { renderPolicy, type PolicySettings } from '../../../reconciler/render/policy.ts';
import { policyShape, type PolicyShape } from '../../helpers/policy-shape.ts';
import { plausible, policyHeavy, shell } from '../../helpers/exposed-api-arbitraries.ts';

const RUNS = { seed: 20261207, numRuns: 1500 };
const SETTINGS: PolicySettings = {
  jwt: {
    openIdConfigUrl: 'https://idp.example/.well-known/openid-configuration',
    audiences: ['api://operator'],
    issuers: ['https://idp.example/'],
  },
  quotaPeriodSeconds: 86400,
};

/** Every element the operator writes, with its attributes, and where it writes text. Written out, not derived from the renderer. */
const VOCABULARY = new Set([
  'policies[]',
  'policies/inbound[]',
  'policies/inbound/base[]',
  'policies/inbound/cors[allow-credentials,terminate-unmatched-request]',
  'policies/inbound/cors/allowed-origins[]',
  'policies/inbound/cors/allowed-origins/origin[]',
  'policies/inbound/cors/allowed-origins/origin/#text',
  'policies/inbound/cors/allowed-methods[preflight-result-max-age]',
  'policies/inbound/cors/allowed-methods/method[]',
  'policies/inbound/cors/allowed-methods/method/#text',
  'policies/inbound/cors/allowed-headers[]',
  'policies/inbound/cors/allowed-headers/header[]',
  'policies/inbound/cors/allowed-headers/header/#text',
  'policies/inbound/cors/expose-headers[]',
  'policies/inbound/cors/expose-headers/header[]',
  'policies/inbound/cors/expose-headers/header/#text',
  'policies/inbound/validate-jwt[failed-validation-error-message,failed-validation-httpcode,header-name,require-scheme]',
  'policies/inbound/validate-jwt/openid-config[url]',
  'policies/inbound/validate-jwt/audiences[]',
  'policies/inbound/validate-jwt/audiences/audience[]',
  'policies/inbound/validate-jwt/audiences/audience/#text',
  'policies/inbound/validate-jwt/issuers[]',
  'policies/inbound/validate-jwt/issuers/issuer[]',
  'policies/inbound/validate-jwt/issuers/issuer/#text',
  'policies/inbound/rate-limit-by-key[calls,counter-key,renewal-period]',
  'policies/inbound/quota-by-key[calls,counter-key,renewal-period]',
  'policies/inbound/validate-content[max-size,size-exceeded-action,unspecified-content-type-action]',
  'policies/inbound/validate-content/content[action,type,validate-as]',
  'policies/inbound/validate-parameters[specified-parameter-action,unspecified-parameter-action]',
  'policies/inbound/validate-parameters/headers[specified-parameter-action,unspecified-parameter-action]',
  'policies/inbound/validate-parameters/query[specified-parameter-action,unspecified-parameter-action]',
  'policies/inbound/validate-parameters/path[specified-parameter-action]',
  'policies/inbound/include-fragment[fragment-id]',
  'policies/backend[]',
  'policies/backend/base[]',
  'policies/outbound[]',
  'policies/outbound/base[]',
  'policies/outbound/validate-content[max-size,size-exceeded-action,unspecified-content-type-action]',
  'policies/outbound/validate-content/content[action,type,validate-as]',
  'policies/outbound/validate-headers[specified-header-action,unspecified-header-action]',
  'policies/on-error[]',
  'policies/on-error/base[]',
]);
/** The operator's only expressions: counter keys scoped by the API id, by client IP or by a plain header. */
const OPERATOR_EXPRESSION =
  /^policies\/inbound\/(rate-limit|quota)-by-key@counter-key: @\("[a-z][a-z0-9-]*:" \+ context\.Request\.(IpAddress|Headers\.GetValueOrDefault\("[A-Za-z0-9][A-Za-z0-9_.-]*",""\))\)$/;
/** Attributes that hold a count, a size or a period: APIM reads them as whole numbers. */
const NUMERIC = /@(calls|renewal-period|preflight-result-max-age|max-size|failed-validation-httpcode)$/;

/** What in a policy the operator did not write itself; empty when the policy is all its own. */
function foreign(shape: PolicyShape): string[] {
  return [
    ...shape.elements.filter((e) => !VOCABULARY.has(e)).map((e) => `element ${e}`),
    ...shape.expressions.filter((e) => !OPERATOR_EXPRESSION.test(e)).map((e) => `expression ${e}`),
    ...shape.namedValues.map((at) => `named value at ${at}`),
    ...shape.values
      .filter((v) => NUMERIC.test(v.at) && !/^[0-9]+$/.test(v.value))
      .map((v) => `number ${JSON.stringify(v.value)} at ${v.at}`),
  ];
}

t.test('every accepted resource renders well-formed XML in the operator vocabulary', async (t) => {
  let accepted = 0;
  let everyPolicy = 0;
  fc.assert(
    fc.property(fc.oneof(policyHeavy, plausible, shell), (object) => {
      const read = checkAndNormalise(withDefaults(object));
      if (!('model' in read)) return;
      accepted += 1;
      if (read.model.cors && read.model.rateLimit && read.model.quota && read.model.template) everyPolicy += 1;
      const xml = renderPolicy(read.model, SETTINGS);
      // policyShape throws, saying why, on XML that is not well-formed.
      const outside = foreign(policyShape(xml));
      if (outside.length > 0) throw new Error(`not the operator's own: ${outside.join('; ')}\n${xml}`);
    }),
    RUNS,
  );
  t.ok(accepted > RUNS.numRuns / 5, `${accepted} of ${RUNS.numRuns} generated resources accepted and rendered`);
  t.ok(everyPolicy > RUNS.numRuns / 10, `${everyPolicy} of them with CORS, rate limit, quota and a fragment`);
});

t.test('the vocabulary check sees what the operator does not write', async (t) => {
  const base = `<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;
  t.same(foreign(policyShape(base)), [], 'a minimal policy is the operator’s own');
  const cases: [string, string, RegExp][] = [
    ['element', base.replace('<base />', '<set-backend-service base-url="https://evil.example" />'), /^element /m],
    ['attribute', base.replace('<base />', '<base x="1" />'), /^element policies\/inbound\/base\[x\]/m],
    ['expression', base.replace('<base />', '<base />@(1)'), /^expression /m],
    ['named value', base.replace('<base />', '<base />{{x}}'), /^named value /m],
    [
      'number',
      base.replace('<base />', '<rate-limit-by-key calls="1e+21" renewal-period="1" counter-key="k" />'),
      /^number "1e\+21"/m,
    ],
  ];
  for (const [label, xml, found] of cases) t.match(foreign(policyShape(xml)).join('\n'), found, label);
});
