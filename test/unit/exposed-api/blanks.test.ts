import t from 'tap';
import { checkAndNormalise, checkExposedApi } from '../../../shared/exposed-api/check.ts';
import { withoutBlanks } from '../../../shared/exposed-api/blanks.ts';
import { exposedApi } from '../../helpers/resources.ts';
import { CTK_GATEWAY_CONFIGURATION } from '../../helpers/canvas-component.ts';

t.test("the CTK chart's unset values are not set, each named in a warning, and nothing is refused", async (t) => {
  const object = exposedApi({ ...structuredClone(CTK_GATEWAY_CONFIGURATION) });
  const result = checkAndNormalise(object);
  if (!('model' in result)) throw new Error(`refused: ${JSON.stringify(result.problems)}`);
  t.notOk(result.model.quota, 'no quota');
  t.notOk(result.model.template, 'no policy fragment');
  t.notOk(result.model.rateLimit, 'the rate limit stays off (enabled: false)');
  t.ok(
    result.warnings.includes(
      'spec.quota.identifier and spec.quota.limit are empty: treated as not set, so spec.quota is off',
    ),
    'the quota warning names both fields',
  );
  t.ok(result.warnings.includes('spec.template is empty: treated as not set'), 'the template warning names it');
});

t.test('an empty section is off, silently; a section with something left keeps it', async (t) => {
  const empty = checkAndNormalise(exposedApi({ rateLimit: {}, quota: {}, CORS: {} }));
  if (!('model' in empty)) throw new Error('refused');
  t.notOk(empty.model.rateLimit);
  t.notOk(empty.model.quota);
  t.notOk(empty.model.cors);
  t.same(
    empty.warnings.filter((w) => /rateLimit|quota|CORS/.test(w)),
    [],
    'nothing to warn about',
  );
  const partial = checkAndNormalise(exposedApi({ rateLimit: { enabled: true, limit: '5', identifier: '' } }));
  if (!('model' in partial)) throw new Error('refused');
  t.same(partial.model.rateLimit?.counter, { kind: 'ip' }, 'a blank identifier is the default, the caller IP');
  t.equal(partial.model.rateLimit?.calls, 5);
  t.ok(partial.warnings.includes('spec.rateLimit.identifier is empty: treated as not set'));
});

t.test('a quota with a blank limit but an identifier is still incomplete', async (t) => {
  const result = checkExposedApi(exposedApi({ quota: { identifier: 'IP', limit: '' } }));
  t.same(result.problems, [{ field: 'spec.quota.limit', message: 'is required when a quota is given' }]);
});

t.test('a document reference without a URL is no document', async (t) => {
  for (const specification of [[{ url: null, version: 'v4' }], [{ version: 'v4' }], { url: '' }, '', [{ url: '' }]]) {
    const result = checkAndNormalise(exposedApi({ specification }));
    if (!('model' in result)) throw new Error(`refused ${JSON.stringify(specification)}`);
    t.notOk(result.model.specification, JSON.stringify(specification));
    t.match(result.warnings.join('\n'), /spec\.specification(\[0\])? has no URL: treated as not set/);
  }
  const kept = checkAndNormalise(
    exposedApi({
      specification: [
        { url: null, version: 'v4' },
        { url: 'https://example.com/a.json', version: 'v5' },
      ],
    }),
  );
  if (!('model' in kept)) throw new Error('refused');
  t.same(
    kept.model.specification,
    { kind: 'url', url: 'https://example.com/a.json', version: 'v5' },
    'the entry with a URL is used',
  );
});

t.test('required fields keep their blanks and are refused by name, once', async (t) => {
  const result = checkExposedApi(exposedApi({ name: '', path: '' }));
  t.same(
    result.problems.map((p) => p.field),
    ['spec.name', 'spec.path'],
  );
  const beta3 = withoutBlanks(exposedApi({ name: '' }, { version: 'v1beta3' }));
  t.notOk('name' in (beta3.object as any).spec, 'v1beta3 does not require a name, so a blank one is not set');
});

t.test('no field is reported twice, whatever the value', async (t) => {
  const fields = [
    'name',
    'apiType',
    'segment',
    'implementation',
    'path',
    'port',
    'developerUI',
    'template',
    'specification',
    'rateLimit.identifier',
    'rateLimit.limit',
    'rateLimit.interval',
    'rateLimit.period',
    'rateLimit.enabled',
    'quota.identifier',
    'quota.limit',
    'apiKeyVerification.location',
    'CORS.allowOrigins',
    'CORS.maxAge',
    'CORS.handlePreflightRequests.allowMethods',
    'OASValidation.requestEnabled',
  ];
  const values: unknown[] = ['', ' ', 'x y', 0, -1, 70000, {}, [], true, 'a"b', '<x>', '//', 'IP,', null];
  let checked = 0;
  for (const field of fields) {
    for (const value of values) {
      const object = exposedApi();
      const parts = field.split('.');
      let at: any = object.spec;
      for (const part of parts.slice(0, -1)) at = at[part] ??= {};
      at[parts.at(-1)!] = value;
      const seen = checkExposedApi(object).problems.map((p) => p.field);
      if (new Set(seen).size !== seen.length) t.fail(`spec.${field} = ${JSON.stringify(value)}: ${seen.join(', ')}`);
      checked++;
    }
  }
  t.equal(checked, fields.length * values.length);
});

t.test('an object without blanks is read as it is', async (t) => {
  const object = exposedApi({ rateLimit: { enabled: true, limit: 5 } });
  const read = withoutBlanks(object);
  t.same(read.object, object);
  t.same(read.warnings, []);
});
