import t from 'tap';
import { createHash } from 'node:crypto';
import { model } from '../../helpers/golden.ts';
import { isOwnedBy } from '../../../reconciler/render/api-id.ts';
import { canonicalJson, renderApiDefinition, specHashIn } from '../../../reconciler/render/api-definition.ts';
import fc from 'fast-check';
import { exposedApi, fixtureObject, fixtureText } from '../../helpers/resources.ts';

const SERVICE_URL = 'http://10.0.0.7/r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4';

t.test('the definition of the full v1 example', async (t) => {
  const m = model(fixtureObject('exposedapi-v1-full-example.yaml'));
  const value = fixtureText('TMF620-ProductCatalog-v4.0.0.swagger.json');
  const sha256 = createHash('sha256').update(value).digest('hex');
  const d = renderApiDefinition(m, {
    serviceUrl: SERVICE_URL,
    spec: { format: 'swagger-json', value, sha256 },
    openidProviderId: 'entra',
  });
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
  t.equal(specHashIn(d.description), sha256, "the document's hash, as the resolver computed it");
});

t.test('the definition follows the model', async (t) => {
  const base = model(exposedApi());
  const none = renderApiDefinition(base, { serviceUrl: 'https://gw/x' });
  t.equal(none.subscriptionRequired, false);
  t.notOk(
    'subscriptionKeyHeader' in none || 'subscriptionKeyQuery' in none || 'import' in none || 'openidProviderId' in none,
  );
  t.equal(specHashIn(none.description), 'none');
  const query = renderApiDefinition(model(exposedApi({ apiKeyVerification: { enabled: true, location: 'query' } })), {
    serviceUrl: 'https://gw/x',
  });
  t.equal(query.subscriptionKeyQuery, 'subscription-key');
  t.notOk('subscriptionKeyHeader' in query);
  const custom = renderApiDefinition(
    model(exposedApi({ apiKeyVerification: { enabled: true, location: 'X-Api-Key' } })),
    { serviceUrl: 'https://gw/x' },
  );
  t.equal(custom.subscriptionKeyHeader, 'X-Api-Key');
  t.throws(() => renderApiDefinition(base, { serviceUrl: 'ftp://x' }), /serviceUrl/);
  t.throws(() => renderApiDefinition(base, { serviceUrl: `https://x/${'a'.repeat(2000)}` }), /serviceUrl/);
});

/** What canonicalJson means, written out (its first implementation): keys sorted, undefined members left out. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

t.test(
  'canonicalJson: the same bytes as its first implementation (hashes stored in statuses stay the same)',
  async (t) => {
    const withUndefined = fc.dictionary(fc.string(), fc.option(fc.jsonValue(), { nil: undefined }));
    for (const values of [fc.jsonValue(), withUndefined, fc.array(withUndefined)])
      fc.assert(
        fc.property(values, (v) => canonicalJson(v) === reference(v)),
        { numRuns: 2000 },
      );
    t.equal(
      canonicalJson({ b: 1, a: [undefined, { d: undefined, c: 'é\ud800' }] }),
      '{"a":[null,{"c":"é\\ud800"}],"b":1}',
    );
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    t.throws(() => canonicalJson(cycle), TypeError, 'a cycle throws');
  },
);
