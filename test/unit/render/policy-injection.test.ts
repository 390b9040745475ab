// Policy injection: hostile text in every field of an ExposedAPI, each either
// refused at admission with a denial naming the field, or rendered inert: the
// policy then has exactly the elements, attributes and expressions it has for
// the benign resource.
import t from 'tap';
import { decideValidation } from '../../../webhook/admission/decide.ts';
import { localChecks } from '../../../webhook/admission/validators.ts';
import { withDefaults } from '../../../shared/exposed-api/defaults.ts';
import { checkAndNormalise } from '../../../shared/exposed-api/check.ts';
import { renderPolicy, type PolicySettings } from '../../../reconciler/render/policy.ts';
import { policyShape, type PolicyShape } from '../../helpers/policy-shape.ts';
import { exposedApi, seedExposedApi } from '../../helpers/resources.ts';
import { model } from '../../helpers/golden.ts';
import { EVIL_BACKEND, HOSTILE_TEXT } from '../../helpers/hostile-text.ts';

const SETTINGS: PolicySettings = {
  jwt: { openIdConfigUrl: 'https://idp.example/.well-known/openid-configuration', audiences: ['api://operator'] },
  quotaPeriodSeconds: 86400,
};

/** A field, the resource it is set in, and the value the payload becomes there. */
interface Field {
  readonly field: string;
  readonly base: () => Record<string, any>;
  readonly value: (payload: string) => unknown;
  /**
   * Whether the policy reads the field. Those must refuse every payload at
   * admission; the others are in the table so that a future use of them in
   * the policy is covered.
   */
  readonly reachesPolicy: boolean;
}

/** An ODA v1 resource with every policy the operator renders switched on. */
const odaBase = (): Record<string, any> =>
  exposedApi({
    specification: [{ url: 'https://example.com/openapi.json' }],
    developerUI: '/docs',
    template: 'oda-common',
    apiKeyVerification: { enabled: true, location: 'header' },
    rateLimit: { enabled: true, identifier: 'X-Client-Id', limit: '100', interval: 'pm' },
    quota: { identifier: 'IP', limit: '1000' },
    OASValidation: { requestEnabled: true, responseEnabled: true },
    CORS: {
      enabled: true,
      allowCredentials: false,
      allowOrigins: 'https://a.example, https://b.example',
      handlePreflightRequests: {
        enabled: true,
        allowMethods: 'GET, POST',
        allowHeaders: 'Content-Type, X-Client-Id',
        maxAge: 600,
      },
    },
  });

const same = (p: string): string => p;
const FIELDS: readonly Field[] = [
  { field: 'metadata.name', base: odaBase, value: same, reachesPolicy: true },
  { field: 'metadata.namespace', base: odaBase, value: same, reachesPolicy: true },
  { field: 'spec.CORS.allowOrigins', base: odaBase, value: (p) => `https://a.example, ${p}`, reachesPolicy: true },
  {
    field: 'spec.CORS.handlePreflightRequests.allowMethods',
    base: odaBase,
    value: (p) => `GET, ${p}`,
    reachesPolicy: true,
  },
  {
    field: 'spec.CORS.handlePreflightRequests.allowHeaders',
    base: odaBase,
    value: (p) => `Content-Type, ${p}`,
    reachesPolicy: true,
  },
  { field: 'spec.CORS.handlePreflightRequests.maxAge', base: odaBase, value: same, reachesPolicy: true },
  { field: 'spec.rateLimit.identifier', base: odaBase, value: same, reachesPolicy: true },
  { field: 'spec.rateLimit.limit', base: odaBase, value: same, reachesPolicy: true },
  { field: 'spec.rateLimit.interval', base: odaBase, value: same, reachesPolicy: true },
  { field: 'spec.quota.identifier', base: odaBase, value: same, reachesPolicy: true },
  { field: 'spec.quota.limit', base: odaBase, value: same, reachesPolicy: true },
  { field: 'spec.template', base: odaBase, value: same, reachesPolicy: true },
  {
    field: 'spec.CORS.allowOrigins',
    base: seedExposedApi,
    value: (p) => ['https://a.example', p],
    reachesPolicy: true,
  },
  { field: 'spec.CORS.allowMethods', base: seedExposedApi, value: (p) => ['GET', p], reachesPolicy: true },
  { field: 'spec.CORS.allowHeaders', base: seedExposedApi, value: (p) => ['Content-Type', p], reachesPolicy: true },
  { field: 'spec.CORS.exposeHeaders', base: seedExposedApi, value: (p) => ['X-Total-Count', p], reachesPolicy: true },
  { field: 'spec.rateLimit.period', base: seedExposedApi, value: same, reachesPolicy: true },
  { field: 'spec.name', base: odaBase, value: same, reachesPolicy: false },
  { field: 'spec.path', base: odaBase, value: (p) => `/r1/api/${p}`, reachesPolicy: false },
  { field: 'spec.implementation', base: odaBase, value: same, reachesPolicy: false },
  { field: 'spec.developerUI', base: odaBase, value: (p) => `/docs/${p}`, reachesPolicy: false },
  { field: 'spec.segment', base: odaBase, value: same, reachesPolicy: false },
  { field: 'spec.apiType', base: odaBase, value: same, reachesPolicy: false },
  { field: 'spec.apiKeyVerification.location', base: odaBase, value: same, reachesPolicy: false },
  {
    field: 'spec.specification',
    base: odaBase,
    value: (p) => [{ url: `https://example.com/${p}` }],
    reachesPolicy: false,
  },
  {
    field: 'spec.specification',
    base: seedExposedApi,
    value: (p) => `openapi: 3.0.3\ninfo:\n  title: "${p}"\n`,
    reachesPolicy: false,
  },
];

function setAt(object: Record<string, any>, field: string, value: unknown): Record<string, any> {
  const copy = structuredClone(object);
  const keys = field.split('.');
  const last = keys.pop() ?? '';
  let node = copy;
  for (const key of keys) node = node[key];
  node[last] = value;
  return copy;
}

type Outcome = { readonly refused: readonly string[] } | { readonly shape: PolicyShape };

/** The webhook's mutation then its validation, then the model the reconciler reads and the policy it renders. */
async function admitAndRender(object: Record<string, any>): Promise<Outcome> {
  const defaulted = withDefaults(object);
  const request = {
    uid: 'u1',
    operation: 'CREATE' as const,
    name: defaulted.metadata.name,
    namespace: defaulted.metadata.namespace,
    object: defaulted,
  };
  const { response } = await decideValidation(request, [localChecks]);
  if (!response.allowed) return { refused: (response.status?.details?.causes ?? []).map((c) => c.field) };
  const read = checkAndNormalise(defaulted, { requiredAs: 'v1beta3' });
  if (!('model' in read))
    throw new Error(`allowed at admission but refused by the reconciler: ${JSON.stringify(read)}`);
  return { shape: policyShape(renderPolicy(read.model, SETTINGS)) };
}

const names = (field: string, refused: readonly string[]): boolean =>
  refused.some((f) => f === field || f.startsWith(`${field}.`) || f.startsWith(`${field}[`));
const comparable = (s: PolicyShape): unknown => ({
  elements: s.elements,
  expressions: s.expressions,
  namedValues: s.namedValues,
});

t.test('the comparison sees an injected element, attribute and expression', async (t) => {
  const benign = renderPolicy(model(withDefaults(odaBase())), SETTINGS);
  const shape = comparable(policyShape(benign));
  const tampered: [string, string][] = [
    ['element', benign.replace('<origin>https://a.example</origin>', `<origin>x</origin>${EVIL_BACKEND}`)],
    ['attribute', benign.replace('<cors ', '<cors x="1" ')],
    ['expression in text', benign.replace('<origin>https://a.example</origin>', '<origin>@(1)</origin>')],
    ['expression by reference', benign.replace('<origin>https://a.example</origin>', '<origin>&#64;(1)</origin>')],
    ['CDATA', benign.replace('<origin>https://a.example</origin>', '<origin><![CDATA[x]]></origin>')],
    ['named value', benign.replace('<origin>https://a.example</origin>', '<origin>{{x}}</origin>')],
  ];
  for (const [label, xml] of tampered)
    t.not(JSON.stringify(comparable(policyShape(xml))), JSON.stringify(shape), label);
  t.throws(() => policyShape(benign.replace('</cors>', '')), /not well-formed/, 'malformed XML');
});

t.test('every payload in every field is refused naming the field, or inert', async (t) => {
  const tally = { refused: 0, inert: 0 };
  for (const { field, base, value, reachesPolicy } of FIELDS) {
    const benign = await admitAndRender(base());
    if (!('shape' in benign)) throw new Error(`base of ${field} refused: ${benign.refused.join(', ')}`);
    for (const [label, payload] of HOSTILE_TEXT) {
      const outcome = await admitAndRender(setAt(base(), field, value(payload)));
      if ('refused' in outcome) {
        tally.refused += 1;
        t.ok(names(field, outcome.refused), `${field}, ${label}: the denial names the field`, {
          causes: outcome.refused,
        });
      } else {
        tally.inert += 1;
        t.notOk(reachesPolicy, `${field}, ${label}: accepted only where the policy does not read it`);
        t.same(comparable(outcome.shape), comparable(benign.shape), `${field}, ${label}: accepted and inert`);
      }
    }
  }
  t.comment(
    `${FIELDS.length} fields x ${HOSTILE_TEXT.length} payloads: ${tally.refused} refused, ${tally.inert} accepted and inert`,
  );
});
