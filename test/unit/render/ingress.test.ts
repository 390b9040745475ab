import t from 'tap';
import { golden, model } from '../../helpers/golden.ts';
import { backendUrlFrom, renderIngress } from '../../../reconciler/render/ingress.ts';
import { exposedApi, fixtureObject } from '../../helpers/resources.ts';

const UID = '6f1c2a3e-0000-4000-8000-000000000001';
const LABELS = { 'oda.tmforum.org/componentName': 'r1-productcatalogmanagement', app: 'ignored' };

t.test('golden Ingress of the full v1 example', async (t) => {
  const object = fixtureObject('exposedapi-v1-full-example.yaml');
  object.metadata.uid = UID;
  const ingress = renderIngress(model(object), { labels: LABELS });
  golden(t, 'ingress-v1-full-example.json', `${JSON.stringify(ingress, null, 2)}\n`);
  t.same(renderIngress(model(object), { labels: LABELS }), ingress, 'deterministic');
});

t.test('the Ingress follows the model and settings', async (t) => {
  const m = model(exposedApi({}, { metadata: { uid: UID } }));
  const plain = renderIngress(m);
  t.equal(plain.metadata.name, 'r1-productcatalog');
  t.equal(plain.metadata.namespace, 'components');
  t.equal(plain.spec.ingressClassName, 'istio');
  t.same(plain.metadata.labels, {
    'app.kubernetes.io/managed-by': 'oda-apim-operator',
    'oda.tmforum.org/exposedapi': 'r1-productcatalog',
  });
  t.same(plain.spec.rules, [
    {
      http: {
        paths: [
          {
            path: '/r1/tmf-api/productCatalogManagement/v4',
            pathType: 'Prefix',
            backend: { service: { name: 'r1-prodcatapi', port: { number: 8080 } } },
          },
        ],
      },
    },
  ]);
  t.same(plain.metadata.ownerReferences, [
    {
      apiVersion: 'oda.tmforum.org/v1',
      kind: 'ExposedAPI',
      name: 'r1-productcatalog',
      uid: UID,
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  t.notOk('tls' in plain.spec);

  const custom = renderIngress(m, { ingressClass: 'nginx', host: 'api.example.com', tls: { secretName: 'api-tls' } });
  t.equal(custom.spec.ingressClassName, 'nginx');
  t.equal(custom.spec.rules[0]?.host, 'api.example.com');
  t.same(custom.spec.tls, [{ hosts: ['api.example.com'], secretName: 'api-tls' }]);

  const beta = renderIngress(model(exposedApi({}, { version: 'v1beta3', metadata: { uid: UID } })));
  t.equal(
    beta.metadata.ownerReferences?.[0]?.apiVersion,
    'oda.tmforum.org/v1beta3',
    'owner apiVersion is the stored version',
  );
  t.notOk('ownerReferences' in renderIngress(model(exposedApi())).metadata, 'no uid, no owner reference');

  const longName = 'a'.repeat(70);
  const long = renderIngress({ ...m, key: { namespace: 'components', name: longName } });
  const label = long.metadata.labels['oda.tmforum.org/exposedapi'] ?? '';
  t.ok(label.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(label), `label value ${label} is valid`);
});

t.test('backendUrlFrom', async (t) => {
  const m = model(exposedApi({ path: '/r1/api' }));
  const ingress = (extra: {
    tls?: boolean;
    host?: string;
    lb?: { hostname?: string; ip?: string }[];
  }): Record<string, any> => {
    const rendered: Record<string, any> = renderIngress(m, {
      ...(extra.host ? { host: extra.host } : {}),
      ...(extra.tls ? { tls: { secretName: 's' } } : {}),
    });
    return extra.lb ? { ...rendered, status: { loadBalancer: { ingress: extra.lb } } } : rendered;
  };
  const cases: [string, Record<string, any>, { gatewayBaseUrl?: string }, string | undefined][] = [
    ['no address yet', ingress({}), {}, undefined],
    ['empty load balancer list', ingress({ lb: [] }), {}, undefined],
    ['ip', ingress({ lb: [{ ip: '10.0.0.7' }] }), {}, 'http://10.0.0.7/r1/api'],
    ['IPv6', ingress({ lb: [{ ip: 'fd00::7' }] }), {}, 'http://[fd00::7]/r1/api'],
    [
      'hostname wins over ip',
      ingress({ lb: [{ hostname: 'lb.example.net', ip: '10.0.0.7' }] }),
      {},
      'http://lb.example.net/r1/api',
    ],
    ['tls means https', ingress({ tls: true, lb: [{ ip: '10.0.0.7' }] }), {}, 'https://10.0.0.7/r1/api'],
    [
      'the rule host is what the gateway routes on',
      ingress({ host: 'api.example.com', tls: true, lb: [{ ip: '10.0.0.7' }] }),
      {},
      'https://api.example.com/r1/api',
    ],
    [
      'configured gateway base URL',
      ingress({}),
      { gatewayBaseUrl: 'https://gw.internal:8443/' },
      'https://gw.internal:8443/r1/api',
    ],
  ];
  for (const [label, object, settings, expected] of cases) t.equal(backendUrlFrom(object, settings), expected, label);
});
