import t from 'tap';
import { createHash } from 'node:crypto';
import { model } from '../../helpers/golden.ts';
import { isOwnedBy } from '../../../reconciler/render/api-id.ts';
import { canonicalJson, desiredStateHash, importFormatFor, renderApiDefinition, specHashIn } from '../../../reconciler/render/api-definition.ts';
import { exposedApi, fixtureObject, fixtureText } from '../../helpers/resources.ts';

const SERVICE_URL = 'http://10.0.0.7/r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4';

t.test('import formats', async (t) => {
  const cases: [Parameters<typeof importFormatFor>, string][] = [
    [['swagger2', 'json', 'inline'], 'swagger-json'],
    [['swagger2', 'json', 'url'], 'swagger-link-json'],
    [['openapi3', 'json', 'inline'], 'openapi+json'],
    [['openapi3', 'json', 'url'], 'openapi+json-link'],
    [['openapi3', 'yaml', 'inline'], 'openapi'],
    [['openapi3', 'yaml', 'url'], 'openapi-link'],
  ];
  for (const [args, expected] of cases) t.equal(importFormatFor(...args), expected, args.join(' '));
  t.throws(() => importFormatFor('swagger2', 'yaml', 'inline'), /JSON only/);
  t.throws(() => importFormatFor('swagger2', 'yaml', 'url'), /JSON only/);
});

t.test('the definition of the full v1 example', async (t) => {
  const m = model(fixtureObject('exposedapi-v1-full-example.yaml'));
  const value = fixtureText('TMF620-ProductCatalog-v4.0.0.swagger.json');
  const d = renderApiDefinition(m, { serviceUrl: SERVICE_URL, spec: { format: 'swagger-json', value }, openidProviderId: 'entra' });
  t.equal(d.displayName, 'productcatalogmanagement (components/r1-productcatalogmanagement-productcatalogmanagement)');
  t.equal(d.path, 'r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4');
  t.equal(d.serviceUrl, SERVICE_URL);
  t.same(d.protocols, ['https']);
  t.equal(d.subscriptionRequired, true);
  t.equal(d.subscriptionKeyHeader, 'Ocp-Apim-Subscription-Key');
  t.notOk('subscriptionKeyQuery' in d);
  t.equal(d.openidProviderId, 'entra');
  t.same(d.import, { format: 'swagger-json', value });
  t.ok(isOwnedBy(d.description, m.key), 'owned');
  t.equal(specHashIn(d.description), createHash('sha256').update(value).digest('hex'));
});

t.test('the definition follows the model', async (t) => {
  const base = model(exposedApi());
  const none = renderApiDefinition(base, { serviceUrl: 'https://gw/x' });
  t.equal(none.subscriptionRequired, false);
  t.notOk('subscriptionKeyHeader' in none || 'subscriptionKeyQuery' in none || 'import' in none || 'openidProviderId' in none);
  t.equal(specHashIn(none.description), 'none');
  const query = renderApiDefinition(model(exposedApi({ apiKeyVerification: { enabled: true, location: 'query' } })), { serviceUrl: 'https://gw/x' });
  t.equal(query.subscriptionKeyQuery, 'subscription-key');
  t.notOk('subscriptionKeyHeader' in query);
  const custom = renderApiDefinition(model(exposedApi({ apiKeyVerification: { enabled: true, location: 'X-Api-Key' } })), { serviceUrl: 'https://gw/x' });
  t.equal(custom.subscriptionKeyHeader, 'X-Api-Key');
  t.throws(() => renderApiDefinition(base, { serviceUrl: 'ftp://x' }), /serviceUrl/);
  t.throws(() => renderApiDefinition(base, { serviceUrl: `https://x/${'a'.repeat(2000)}` }), /serviceUrl/);
});

t.test('desiredStateHash', async (t) => {
  const m = model(exposedApi());
  const d = renderApiDefinition(m, { serviceUrl: 'https://gw/x', spec: { format: 'openapi', value: 'openapi: 3.0.3' } });
  const hash = desiredStateHash(d, '<policies/>');
  t.match(hash, /^[0-9a-f]{64}$/);
  const reordered = Object.fromEntries(Object.entries(d).reverse()) as typeof d;
  t.equal(desiredStateHash(reordered, '<policies/>'), hash, 'key order does not matter');
  t.equal(desiredStateHash({ ...d, openidProviderId: undefined }, '<policies/>'), hash, 'an undefined member is an absent one');
  const changes: [string, string][] = [
    ['policy', desiredStateHash(d, '<policies />')],
    ['service URL', desiredStateHash({ ...d, serviceUrl: 'https://gw/y' }, '<policies/>')],
    ['document', desiredStateHash({ ...d, import: { format: 'openapi', value: 'openapi: 3.0.2' } }, '<policies/>')],
    ['format', desiredStateHash({ ...d, import: { format: 'openapi-link', value: 'openapi: 3.0.3' } }, '<policies/>')],
    ['subscription', desiredStateHash({ ...d, subscriptionRequired: true }, '<policies/>')],
    ['display name', desiredStateHash({ ...d, displayName: 'other' }, '<policies/>')],
  ];
  for (const [label, changed] of changes) t.not(changed, hash, `${label} changes the hash`);
  t.equal(canonicalJson({ b: [1, { d: 1, c: undefined }], a: 'x' }), '{"a":"x","b":[1,{"d":1}]}');
});
