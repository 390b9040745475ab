import t from 'tap';
import { model } from '../../helpers/golden.ts';
import type { ExposedApi } from '../../../shared/exposed-api/model.ts';
import { renderStatus, statusEquals, type StatusInput } from '../../../reconciler/render/status.ts';
import { exposedApi, fixtureObject } from '../../helpers/resources.ts';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';
const full = (): ExposedApi => {
  const object = fixtureObject('exposedapi-v1-full-example.yaml');
  object.metadata.generation = 3;
  return model(object);
};
const published = (extra: Partial<StatusInput> = {}): StatusInput => ({
  model: full(),
  now: T0,
  ready: true,
  reason: 'Published',
  message: 'Published to APIM',
  gatewayUrl: 'https://apim.azure-api.net/',
  ...extra,
});

t.test('a published API', async (t) => {
  const status = renderStatus(published({ subscriptionKeySecret: 'r1-pcm-subscription-key' }));
  const path = '/r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4';
  t.same(status, {
    apiStatus: {
      name: 'productcatalogmanagement',
      url: `https://apim.azure-api.net${path}`,
      path,
      implementation: 'r1-prodcatapi',
      port: 8080,
      developerUI: `https://apim.azure-api.net${path}/docs`,
      subscriptionKeySecret: 'r1-pcm-subscription-key',
    },
    implementation: { ready: true },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Published',
        message: 'Published to APIM',
        lastTransitionTime: T0,
        observedGeneration: 3,
      },
    ],
    observedGeneration: 3,
  });
});

t.test('an unpublished API gets its in-mesh URL', async (t) => {
  const m = model(
    exposedApi({ apiType: 'prometheus', path: '/r1/metrics', developerUI: 'https://docs.example.com/ui' }),
  );
  const status = renderStatus({
    model: m,
    now: T0,
    ready: true,
    reason: 'InMeshOnly',
    message: 'Metrics APIs are not published to APIM',
  });
  t.equal(status.apiStatus.url, 'http://r1-prodcatapi.components.svc.cluster.local:8080/r1/metrics');
  t.equal(status.apiStatus.developerUI, 'https://docs.example.com/ui', 'absolute developer UI kept');
  t.notOk('observedGeneration' in status, 'no generation, none observed');
});

t.test('lastTransitionTime moves only when the status does', async (t) => {
  const first = renderStatus(published());
  const again = renderStatus(published({ now: T1, previous: first }));
  t.equal(again.conditions[0]?.lastTransitionTime, T0, 'same status: kept');
  t.ok(statusEquals(first, again));
  const failing = renderStatus(
    published({
      now: T1,
      previous: again,
      ready: false,
      reason: 'ApimUnavailable',
      message: 'APIM answered 503',
      retry: { attempts: 2, lastError: 'HTTP 503', nextRetryAt: '2026-01-01T00:05:04Z' },
    }),
  );
  t.same(failing.conditions[0], {
    type: 'Ready',
    status: 'False',
    reason: 'ApimUnavailable',
    message: 'APIM answered 503',
    lastTransitionTime: T1,
    observedGeneration: 3,
  });
  t.same(failing.retry, { attempts: 2, lastError: 'HTTP 503', nextRetryAt: '2026-01-01T00:05:04Z' });
  t.equal(failing.implementation.ready, false);
  t.notOk(statusEquals(again, failing));
  const recovered = renderStatus(published({ now: '2026-01-01T01:00:00Z', previous: failing }));
  t.equal(recovered.conditions[0]?.lastTransitionTime, '2026-01-01T01:00:00Z');
  t.notOk('retry' in recovered, 'no retry once ready');
});

t.test('other conditions and drift are kept', async (t) => {
  const previous = {
    conditions: [
      { type: 'Zeta', status: 'True', reason: 'X', message: '', lastTransitionTime: T0 },
      { type: 'Alpha', status: 'False', reason: 'Y', message: '', lastTransitionTime: T0 },
    ],
  };
  const status = renderStatus(published({ previous, drift: ['policy', 'serviceUrl', 'policy'] }));
  t.same(
    status.conditions.map((c) => c.type),
    ['Alpha', 'Ready', 'Zeta'],
  );
  t.same(status.drift, { repaired: ['policy', 'serviceUrl'], at: T0 });
  const later = renderStatus(published({ now: T1, previous: status }));
  t.same(later.drift, { repaired: ['policy', 'serviceUrl'], at: T0 }, 'the last repair stays on record');
});

t.test('checks and caps', async (t) => {
  t.throws(() => renderStatus(published({ reason: 'not camel' })), /CamelCase/);
  t.throws(() => renderStatus(published({ reason: '' })), /CamelCase/);
  const long = renderStatus(
    published({
      ready: false,
      reason: 'Failed',
      message: 'm'.repeat(5000),
      retry: { attempts: 1, lastError: 'e'.repeat(5000), nextRetryAt: T1 },
    }),
  );
  t.ok((long.conditions[0]?.message.length ?? 0) <= 1024);
  t.ok((long.retry?.lastError.length ?? 0) <= 1024);
  t.notMatch(
    JSON.stringify(renderStatus(published({ subscriptionKeySecret: 'keys' }))),
    /primaryKey|secondaryKey/,
    'only the Secret name',
  );
});

t.test('statusEquals', async (t) => {
  const a = renderStatus(published());
  const cases: [string, unknown, boolean][] = [
    ['itself', a, true],
    [
      'another transition time',
      { ...a, conditions: a.conditions.map((c) => ({ ...c, lastTransitionTime: T1 })) },
      true,
    ],
    ['keys in another order', Object.fromEntries(Object.entries(a).reverse()), true],
    ['another message', { ...a, conditions: a.conditions.map((c) => ({ ...c, message: 'x' })) }, false],
    ['another generation', { ...a, observedGeneration: 4 }, false],
    ['another url', { ...a, apiStatus: { ...a.apiStatus, url: 'https://x' } }, false],
    ['no status yet', undefined, false],
  ];
  for (const [label, b, expected] of cases) t.equal(statusEquals(a, b), expected, label);
});
