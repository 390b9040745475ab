import t from 'tap';
import { createHash } from 'node:crypto';
import { model } from '../../helpers/golden.ts';
import { isOwnedBy } from '../../../reconciler/render/api-id.ts';
import { renderApiDefinition, specHashIn } from '../../../reconciler/render/api-definition.ts';
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
