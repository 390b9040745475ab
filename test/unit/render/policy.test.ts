import t from 'tap';
import { golden, model } from '../../helpers/golden.ts';
import type { ExposedApi } from '../../../shared/exposed-api/model.ts';
import { renderPolicy, type PolicySettings } from '../../../reconciler/render/policy.ts';
import { policyMeaning } from '../../../reconciler/render/policy-meaning.ts';
import { exposedApi, fixtureObject, seedExposedApi } from '../../helpers/resources.ts';

const TENANT = '00000000-0000-0000-0000-000000000001';
const SETTINGS: PolicySettings = {
  jwt: {
    openIdConfigUrl: `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`,
    audiences: ['api://oda-apim-operator', 'api://a-second-audience'],
    issuers: [`https://login.microsoftonline.com/${TENANT}/v2.0`],
  },
  quotaPeriodSeconds: 86400,
};
/** The only expressions the operator writes: counter keys scoped by the API id. */
const OPERATOR_EXPRESSION =
  /^@\("[a-z][a-z0-9-]*:" \+ context\.Request\.(IpAddress|Headers\.GetValueOrDefault\("test-identifier",""\))\)$/;

/** Every attribute value and text of a rendered document, entities decoded. */
function values(xml: string): string[] {
  const decode = (s: string): string =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  return [...xml.matchAll(/="([^"]*)"|>([^<]+)</g)]
    .map((m) => decode(m[1] ?? m[2] ?? '').trim())
    .filter((v) => v !== '');
}

t.test('golden policies', async (t) => {
  const cases: [string, ExposedApi, PolicySettings][] = [
    ['policy-v1-full-example.xml', model(fixtureObject('exposedapi-v1-full-example.yaml')), SETTINGS],
    ['policy-seed.xml', model(seedExposedApi()), SETTINGS],
    ['policy-minimal.xml', model(exposedApi()), { quotaPeriodSeconds: 86400 }],
  ];
  for (const [file, m, settings] of cases) {
    const xml = renderPolicy(m, settings);
    golden(t, file, xml);
    t.equal(renderPolicy(m, settings), xml, `${file}: deterministic`);
    const expressions = values(xml).filter((v) => /^@[({]/.test(v));
    t.ok(
      expressions.every((v) => OPERATOR_EXPRESSION.test(v)),
      `${file}: only the operator's own expressions`,
      { expressions },
    );
    t.equal(policyMeaning(xml), policyMeaning(renderPolicy(m, settings)));
  }
});

t.test('the order of the inbound policies', async (t) => {
  const m = { ...model(fixtureObject('exposedapi-v1-full-example.yaml')), template: 'oda-common' };
  const xml = renderPolicy(m, SETTINGS);
  const inbound = xml.slice(xml.indexOf('<inbound>'), xml.indexOf('</inbound>'));
  const order = [
    '<base />',
    '<cors ',
    '<validate-jwt ',
    '<rate-limit-by-key ',
    '<quota-by-key ',
    '<validate-content ',
    '<validate-parameters ',
    '<include-fragment fragment-id="oda-common" />',
  ].map((s) => inbound.indexOf(s));
  t.ok(
    order.every((i) => i >= 0),
    'every policy is there',
  );
  t.same(
    order,
    [...order].sort((a, b) => a - b),
    'in order',
  );
  const outbound = xml.slice(xml.indexOf('<outbound>'), xml.indexOf('</outbound>'));
  t.match(
    outbound,
    /<base \/>[\s\S]*<validate-content [\s\S]*<validate-headers specified-header-action="prevent" unspecified-header-action="ignore" \/>/,
  );
  t.notMatch(xml, /check-header|subscription/i, 'the API key is an API setting, not a policy');
});

t.test('policies follow the model', async (t) => {
  const base = model(exposedApi());
  const cases: [string, Partial<ExposedApi>, PolicySettings, RegExp[], RegExp[]][] = [
    [
      'no jwt without settings',
      {},
      { quotaPeriodSeconds: 300 },
      [],
      [/validate-jwt/, /cors/, /rate-limit/, /quota/, /validate-/],
    ],
    [
      'jwt without issuers',
      {},
      {
        quotaPeriodSeconds: 300,
        jwt: { openIdConfigUrl: 'https://idp/.well-known/openid-configuration', audiences: ['b', 'a', 'a'] },
      },
      [/<audiences>\s*<audience>a<\/audience>\s*<audience>b<\/audience>\s*<\/audiences>/],
      [/issuers/],
    ],
    [
      'rate limit by header',
      { rateLimit: { calls: 5, renewalPeriodSeconds: 1, counter: { kind: 'header', name: 'X-Client-Id' } } },
      { quotaPeriodSeconds: 300 },
      [
        /<rate-limit-by-key calls="5" renewal-period="1" counter-key="@\(&quot;[a-z0-9-]+:&quot; \+ context.Request.Headers.GetValueOrDefault\(&quot;X-Client-Id&quot;,&quot;&quot;\)\)" \/>/,
      ],
      [],
    ],
    [
      'quota period from settings',
      { quota: { calls: 10, counter: { kind: 'ip' } } },
      { quotaPeriodSeconds: 604800 },
      [
        /<quota-by-key calls="10" renewal-period="604800" counter-key="@\(&quot;[a-z0-9-]+:&quot; \+ context.Request.IpAddress\)" \/>/,
      ],
      [],
    ],
    [
      'request validation, unspecified allowed',
      {
        oasValidation: {
          request: true,
          response: false,
          allowUnspecifiedHeaders: true,
          allowUnspecifiedQueryParams: true,
          allowUnspecifiedCookies: true,
        },
      },
      { quotaPeriodSeconds: 300, validationMaxSize: 4096 },
      [
        /<headers specified-parameter-action="prevent" unspecified-parameter-action="ignore" \/>/,
        /<query specified-parameter-action="prevent" unspecified-parameter-action="ignore" \/>/,
        /max-size="4096"/,
      ],
      [/validate-headers/],
    ],
    [
      'request validation, unspecified refused',
      {
        oasValidation: {
          request: true,
          response: false,
          allowUnspecifiedHeaders: false,
          allowUnspecifiedQueryParams: false,
          allowUnspecifiedCookies: false,
        },
      },
      { quotaPeriodSeconds: 300 },
      [
        /<headers specified-parameter-action="prevent" unspecified-parameter-action="prevent" \/>/,
        /<query specified-parameter-action="prevent" unspecified-parameter-action="prevent" \/>/,
        /max-size="102400"/,
      ],
      [],
    ],
    [
      'response validation only',
      {
        oasValidation: {
          request: false,
          response: true,
          allowUnspecifiedHeaders: false,
          allowUnspecifiedQueryParams: false,
          allowUnspecifiedCookies: false,
        },
      },
      { quotaPeriodSeconds: 300 },
      [/<outbound>[\s\S]*<validate-content[\s\S]*<validate-headers/],
      [/validate-parameters/, /<inbound>\s*<base \/>\s*<validate-content/],
    ],
    [
      'cors without preflight handling is still a cors policy',
      {
        cors: {
          allowedOrigins: ['https://b.example', 'https://a.example'],
          allowedMethods: ['GET'],
          allowedHeaders: ['Accept'],
          exposeHeaders: [],
          allowCredentials: false,
          preflightMaxAgeSeconds: 0,
          handlePreflight: false,
        },
      },
      { quotaPeriodSeconds: 300 },
      [
        /<cors allow-credentials="false" terminate-unmatched-request="false">/,
        /<origin>https:\/\/a.example<\/origin>\s*<origin>https:\/\/b.example<\/origin>/,
        /preflight-result-max-age="0"/,
      ],
      [/expose-headers/],
    ],
  ];
  for (const [label, patch, settings, present, absent] of cases) {
    const xml = renderPolicy({ ...base, ...patch }, settings);
    for (const p of present) t.match(xml, p, `${label}: has ${p}`);
    for (const p of absent) t.notMatch(xml, p, `${label}: has no ${p}`);
  }
  t.throws(() => renderPolicy(base, { quotaPeriodSeconds: 300, validationMaxSize: 102401 }), /validationMaxSize/);
});

t.test('user text is escaped', async (t) => {
  const nasty = `x"<>&'y`;
  const m: ExposedApi = {
    ...model(exposedApi()),
    cors: {
      allowedOrigins: [`https://${nasty}`],
      allowedMethods: ['GET'],
      allowedHeaders: [nasty],
      exposeHeaders: [nasty],
      allowCredentials: false,
      preflightMaxAgeSeconds: 1,
      handlePreflight: true,
    },
  };
  const xml = renderPolicy(m, {
    quotaPeriodSeconds: 300,
    jwt: { openIdConfigUrl: `https://idp/?a=1&b="2"`, audiences: [nasty] },
  });
  t.notMatch(xml, /x"<>&'y/, 'never raw');
  t.match(xml, /<origin>https:\/\/x&quot;&lt;&gt;&amp;&apos;y<\/origin>/);
  t.match(xml, /<header>x&quot;&lt;&gt;&amp;&apos;y<\/header>/);
  t.match(xml, /<audience>x&quot;&lt;&gt;&amp;&apos;y<\/audience>/);
  t.match(xml, /url="https:\/\/idp\/\?a=1&amp;b=&quot;2&quot;"/);
  t.equal(policyMeaning(xml), policyMeaning(xml.replace(/&apos;/g, '&#39;')), 'entities decode to the same meaning');
});

t.test('user text that APIM would evaluate is refused', async (t) => {
  const base = model(exposedApi());
  const cors = (origin: string, header = 'Accept'): Partial<ExposedApi> => ({
    cors: {
      allowedOrigins: [origin],
      allowedMethods: ['GET'],
      allowedHeaders: [header],
      exposeHeaders: [],
      allowCredentials: false,
      preflightMaxAgeSeconds: 1,
      handlePreflight: true,
    },
  });
  const cases: [string, Partial<ExposedApi>, PolicySettings][] = [
    ['origin expression', cors('@(context.Variables["x"])'), { quotaPeriodSeconds: 300 }],
    ['header block expression', cors('https://a', '@{return "x";}'), { quotaPeriodSeconds: 300 }],
    ['named value', cors('https://a', '{{secret}}'), { quotaPeriodSeconds: 300 }],
    [
      'counter header',
      { rateLimit: { calls: 1, renewalPeriodSeconds: 1, counter: { kind: 'header', name: '@(x)' } } },
      { quotaPeriodSeconds: 300 },
    ],
    [
      'counter header breaking out of the string',
      { quota: { calls: 1, counter: { kind: 'header', name: 'a",""))+("' } } },
      { quotaPeriodSeconds: 300 },
    ],
    ['fragment id', { template: '@(x)' }, { quotaPeriodSeconds: 300 }],
    [
      'a count that prints as 1e+21',
      { rateLimit: { calls: 1e21, renewalPeriodSeconds: 1, counter: { kind: 'ip' } } },
      { quotaPeriodSeconds: 300 },
    ],
    ['a fractional quota period', { quota: { calls: 1, counter: { kind: 'ip' } } }, { quotaPeriodSeconds: 300.5 }],
    [
      'audience',
      {},
      { quotaPeriodSeconds: 300, jwt: { openIdConfigUrl: 'https://idp', audiences: ['@(context.Request.Url)'] } },
    ],
    [
      'openid url',
      {},
      { quotaPeriodSeconds: 300, jwt: { openIdConfigUrl: '@(context.Request.Url)', audiences: ['a'] } },
    ],
  ];
  for (const [label, patch, settings] of cases)
    t.throws(() => renderPolicy({ ...base, ...patch }, settings), /refused/, label);
});

t.test('policyMeaning compares by meaning', async (t) => {
  const xml = renderPolicy(model(fixtureObject('exposedapi-v1-full-example.yaml')), SETTINGS);
  const same: [string, string][] = [
    ['CRLF and tabs', xml.replace(/\n/g, '\r\n').replace(/ {2}/g, '\t')],
    ['no whitespace between elements', xml.replace(/>\s+</g, '><')],
    ['empty element instead of self-closing', xml.replace(/<([a-z-]+)([^<>]*?) \/>/g, '<$1$2></$1>')],
    [
      'attributes reordered, single quotes',
      xml.replace(
        /<rate-limit-by-key calls="(\d+)" renewal-period="(\d+)" counter-key="([^"]*)" \/>/,
        `<rate-limit-by-key counter-key='$3' renewal-period='$2' calls='$1'/>`,
      ),
    ],
    [
      'quotes as characters inside single quotes',
      xml.replace(
        /counter-key="@\(&quot;([a-z0-9-]+):&quot; \+ context.Request.Headers.GetValueOrDefault\(&quot;test-identifier&quot;,&quot;&quot;\)\)"/,
        `counter-key='@("$1:" + context.Request.Headers.GetValueOrDefault("test-identifier",""))'`,
      ),
    ],
    ['numeric entities', xml.replace(/&quot;/g, '&#34;')],
    [
      'declaration and comments',
      `<?xml version="1.0" encoding="utf-8"?>\n<!-- managed -->\n${xml.replace('<inbound>', '<inbound>\n<!-- keep <this> -->')}`,
    ],
    [
      'text with surrounding whitespace',
      xml.replace('<origin>https://allowed-origin.com</origin>', '<origin>\n   https://allowed-origin.com\n</origin>'),
    ],
  ];
  const meaning = policyMeaning(xml);
  t.notMatch(meaning, /unparsed/);
  for (const [label, variant] of same) {
    t.not(variant, xml, `${label}: the variant differs in bytes`);
    t.equal(policyMeaning(variant), meaning, `${label}: same meaning`);
  }
  const different: [string, string][] = [
    ['a changed attribute', xml.replace('calls="100"', 'calls="101"')],
    ['a changed text', xml.replace('https://allowed-origin.com', 'https://evil.example')],
    ['a removed policy', xml.replace(/<quota-by-key [^>]*\/>/, '')],
    ['an added attribute', xml.replace('<base />', '<base x="1" />')],
    ['a renamed element', xml.replace('<quota-by-key ', '<rate-limit-by-key ')],
    ['broken XML', xml.replace('</inbound>', '')],
  ];
  for (const [label, variant] of different) t.not(policyMeaning(variant), meaning, `${label}: different meaning`);
});
