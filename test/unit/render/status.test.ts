import t from 'tap';
import { model } from '../../helpers/golden.ts';
import type { ExposedApi } from '../../../shared/exposed-api/model.ts';
import {
  renderStatus,
  statusEquals,
  type ExposedApiStatus,
  type StatusInput,
} from '../../../reconciler/render/status.ts';
import { exposedApi, fixtureObject } from '../../helpers/resources.ts';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';
const full = (): ExposedApi => {
  const object = fixtureObject('exposedapi-v1-full-example.yaml');
  object.metadata.generation = 3;
  return model(object);
};
const PUBLISHED = { done: true, inMeshOnly: false, reason: 'Published', message: 'Published to APIM' };
const READY_ENDPOINTS = { ready: true, reason: 'EndpointsReady', message: '1 ready endpoint' } as const;
const published = (extra: Partial<StatusInput> = {}): StatusInput => ({
  model: full(),
  now: T0,
  serving: PUBLISHED,
  implementation: READY_ENDPOINTS,
  gatewayUrl: 'https://apim.azure-api.net/',
  ...extra,
});
const failing = (reason: string, message: string) => ({ done: false, inMeshOnly: false, reason, message });
const conditionOf = (status: ExposedApiStatus, type: string) => status.conditions.find((c) => c.type === type);

t.test('a published API', async (t) => {
  const status = renderStatus(published({ subscriptionKeySecret: 'r1-pcm-subscription-key' }));
  const path = '/r1-productcatalogmanagement/tmf-api/productCatalogManagement/v4';
  t.same(status, {
    apiStatus: {
      name: 'r1-productcatalogmanagement-productcatalogmanagement',
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
        type: 'ImplementationReady',
        status: 'True',
        reason: 'EndpointsReady',
        message: '1 ready endpoint',
        lastTransitionTime: T0,
        observedGeneration: 3,
      },
      {
        type: 'Published',
        status: 'True',
        reason: 'Published',
        message: 'Published to APIM',
        lastTransitionTime: T0,
        observedGeneration: 3,
      },
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
    serving: { done: true, inMeshOnly: true, reason: 'InMeshOnly', message: 'Metrics APIs are not published to APIM' },
  });
  t.same(
    status.conditions.map((c) => [c.type, c.status, c.reason]),
    [
      ['ImplementationReady', 'True', 'NotRequired'],
      ['InMeshOnly', 'True', 'InMeshOnly'],
      ['Ready', 'True', 'InMeshOnly'],
    ],
    'in the mesh only, no Published condition; readiness not required',
  );
  t.equal(status.apiStatus.url, 'http://r1-prodcatapi.components.svc.cluster.local:8080/r1/metrics');
  t.equal(status.apiStatus.developerUI, 'https://docs.example.com/ui', 'absolute developer UI kept');
  t.notOk('observedGeneration' in status, 'no generation, none observed');
});

t.test('lastTransitionTime moves only when the status does', async (t) => {
  const first = renderStatus(published());
  const again = renderStatus(published({ now: T1, previous: first }));
  t.equal(conditionOf(again, 'Ready')?.lastTransitionTime, T0, 'same status: kept');
  t.ok(statusEquals(first, again));
  const failed = renderStatus(
    published({
      now: T1,
      previous: again,
      serving: failing('ApimUnavailable', 'APIM answered 503'),
      retry: { attempts: 2, lastError: 'HTTP 503', nextRetryAt: '2026-01-01T00:05:04Z' },
    }),
  );
  t.same(conditionOf(failed, 'ImplementationReady')?.lastTransitionTime, T0, 'the endpoints stayed ready');
  t.same(conditionOf(failed, 'Ready'), {
    type: 'Ready',
    status: 'False',
    reason: 'ApimUnavailable',
    message: 'APIM answered 503',
    lastTransitionTime: T1,
    observedGeneration: 3,
  });
  t.same(failed.retry, { attempts: 2, lastError: 'HTTP 503', nextRetryAt: '2026-01-01T00:05:04Z' });
  t.equal(failed.implementation.ready, false);
  t.notOk(statusEquals(again, failed));
  const recovered = renderStatus(published({ now: '2026-01-01T01:00:00Z', previous: failed }));
  t.equal(conditionOf(recovered, 'Ready')?.lastTransitionTime, '2026-01-01T01:00:00Z');
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
    ['Alpha', 'ImplementationReady', 'Published', 'Ready', 'Zeta'],
  );
  t.same(status.drift, { repaired: ['policy', 'serviceUrl'], at: T0 });
  const later = renderStatus(published({ now: T1, previous: status }));
  t.same(later.drift, { repaired: ['policy', 'serviceUrl'], at: T0 }, 'the last repair stays on record');
});

t.test('checks and caps', async (t) => {
  t.throws(() => renderStatus(published({ serving: failing('not camel', '') })), /CamelCase/);
  t.throws(() => renderStatus(published({ serving: failing('', '') })), /CamelCase/);
  const long = renderStatus(
    published({
      serving: failing('Failed', 'm'.repeat(5000)),
      retry: { attempts: 1, lastError: 'e'.repeat(5000), nextRetryAt: T1 },
    }),
  );
  t.ok(long.conditions.every((c) => c.message.length <= 1024));
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

t.test('Ready needs both: the API served and a ready endpoint behind it', async (t) => {
  const cases: [string, Partial<StatusInput>, boolean, string][] = [
    ['published, endpoints ready', {}, true, 'Published'],
    [
      'published, no ready endpoint',
      { implementation: { ready: false, reason: 'NoReadyEndpoints', message: 'none ready' } },
      false,
      'NoReadyEndpoints',
    ],
    [
      'published, no Service',
      { implementation: { ready: false, reason: 'ServiceNotFound', message: 'no Service' } },
      false,
      'ServiceNotFound',
    ],
    [
      'waiting for the Ingress, endpoints ready',
      { serving: failing('WaitingForIngressAddress', 'x') },
      false,
      'WaitingForIngressAddress',
    ],
    [
      'failing and no endpoint: the serving reason comes first',
      {
        serving: failing('RetryingAfterError', 'x'),
        implementation: { ready: false, reason: 'NoReadyEndpoints', message: 'none ready' },
      },
      false,
      'RetryingAfterError',
    ],
    [
      'an ExternalName Service',
      { implementation: { ready: true, reason: 'ExternalNameService', message: 'x' } },
      true,
      'Published',
    ],
  ];
  for (const [label, extra, ready, reason] of cases) {
    const status = renderStatus(published(extra));
    t.equal(status.implementation.ready, ready, `${label}: implementation.ready`);
    t.equal(conditionOf(status, 'Ready')?.status, ready ? 'True' : 'False', `${label}: Ready`);
    t.equal(conditionOf(status, 'Ready')?.reason, reason, `${label}: reason`);
  }
});

t.test('a metrics API carries its scrape condition, which never holds Ready back', async (t) => {
  const m = model(exposedApi({ apiType: 'prometheus', path: '/r1/metrics' }));
  const status = renderStatus({
    model: m,
    now: T0,
    serving: { done: true, inMeshOnly: true, reason: 'InMeshOnly', message: 'in the mesh' },
    implementation: READY_ENDPOINTS,
    scrape: { done: false, reason: 'ServiceMonitorCrdMissing', message: 'no CRD' },
  });
  t.equal(status.implementation.ready, true);
  t.match(conditionOf(status, 'MetricsScrape'), { status: 'False', reason: 'ServiceMonitorCrdMissing' });
});
