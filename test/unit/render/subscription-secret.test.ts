import t from 'tap';
import { model } from '../../helpers/golden.ts';
import {
  renderSubscriptionSecret,
  subscriptionDisplayName,
  subscriptionIdFor,
  subscriptionSecretName,
} from '../../../reconciler/render/subscription-secret.ts';
import { fixtureObject } from '../../helpers/resources.ts';

t.test('the Secret: name, labels and owner as the Ingress has them, the key and its names', async (t) => {
  const object = fixtureObject('exposedapi-v1-full-example.yaml');
  object.metadata.uid = '6f1c2a3e-0000-4000-8000-000000000001';
  object.metadata.labels = { 'oda.tmforum.org/componentName': 'r1-productcatalog', other: 'x' };
  const m = model(object);
  const secret = renderSubscriptionSecret(m, 'k3y', { labels: object.metadata.labels });
  t.equal(secret.metadata.name, `${object.metadata.name}-apim-key`);
  t.equal(secret.type, 'Opaque');
  t.same(secret.stringData, { primaryKey: 'k3y', header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' });
  t.same(secret.metadata.labels, {
    'app.kubernetes.io/managed-by': 'oda-apim-operator',
    'oda.tmforum.org/exposedapi': object.metadata.name,
    'oda.tmforum.org/componentName': 'r1-productcatalog',
  });
  t.match(secret.metadata.ownerReferences, [
    {
      kind: 'ExposedAPI',
      name: object.metadata.name,
      uid: object.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
});

t.test('a query-located key names its query parameter', async (t) => {
  const object = fixtureObject('exposedapi-v1-full-example.yaml');
  object.spec.apiKeyVerification = { enabled: true, location: 'query' };
  t.equal(renderSubscriptionSecret(model(object), 'k').stringData.query, 'subscription-key');
});

t.test('names stay within Kubernetes and APIM limits and stay distinct', async (t) => {
  const long = 'a'.repeat(250);
  t.equal(subscriptionSecretName({ namespace: 'ns', name: 'x' }), 'x-apim-key');
  const capped = subscriptionSecretName({ namespace: 'ns', name: long });
  t.ok(capped.length <= 253 && capped.endsWith('-apim-key'));
  t.not(capped, subscriptionSecretName({ namespace: 'ns', name: `${long}b` }));
  t.ok(subscriptionDisplayName({ namespace: 'ns', name: long }).length <= 100);
  t.equal(subscriptionDisplayName({ namespace: 'ns', name: 'x' }), 'ExposedAPI ns/x');
  t.equal(subscriptionIdFor('ns--x'), 'oda-apim-ns--x');
});
