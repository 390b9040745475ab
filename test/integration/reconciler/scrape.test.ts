// Metrics APIs are scraped the three ways the Canvas offers (OPENMETRICS_IMPLEMENTATION).
import t from 'tap';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { startReconciler } from '../../../reconciler/server.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { DEFAULT_RESOURCE_TYPES, SERVICE_MONITOR } from '../../fakes/kube-api-server.ts';
import { startReconcilerEnvironment, type EnvironmentOptions } from '../../helpers/reconciler-env.ts';
import { NS } from '../../helpers/reconciler-process.ts';

const metricsApi = (name: string) => ({
  apiVersion: 'oda.tmforum.org/v1',
  kind: 'ExposedAPI',
  metadata: { name, namespace: NS, labels: { 'oda.tmforum.org/componentName': 'r1-productcatalog' } },
  spec: {
    name: 'metrics',
    apiType: 'prometheus',
    implementation: 'r1-productcatalog-sm',
    path: '/r1-productcatalog/metrics',
    port: 4000,
    segment: 'managementFunction',
  },
});

async function running(
  t: { teardown(fn: () => unknown): void },
  env: Record<string, string> = {},
  options: EnvironmentOptions = {},
) {
  const world = await startReconcilerEnvironment(options);
  const reconciler = await startReconciler({ ...world.env, ...env }, testLogger());
  t.teardown(async () => {
    await reconciler.close(1000);
    await world.close();
  });
  const custom = world.kube.kubeconfig().makeApiClient(CustomObjectsApi);
  const create = (name: string) =>
    custom.createNamespacedCustomObject({
      group: 'oda.tmforum.org',
      version: 'v1',
      namespace: NS,
      plural: 'exposedapis',
      body: metricsApi(name),
    });
  const remove = (name: string) =>
    custom.deleteNamespacedCustomObject({
      group: 'oda.tmforum.org',
      version: 'v1',
      namespace: NS,
      plural: 'exposedapis',
      name,
    });
  const status = (name: string): any => (world.kube.get('exposedapis', NS, name) as any)?.status;
  const scrape = (name: string): any => status(name)?.conditions?.find((c: any) => c.type === 'MetricsScrape');
  return { world, reconciler, create, remove, status, scrape };
}

/** A Pod of the metrics Service, as its Deployment would run it. */
const pod = (name: string, container: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS, labels: { impl: 'r1-metricsapi' } },
  spec: { containers: [{ name: container, image: 'metrics:1' }] },
});

t.test('ServiceMonitor (the default): owned, labelled like the ExposedAPI, removed with it', async (t) => {
  const { world, create, remove, scrape } = await running(t);
  await create('r1-metrics');
  await world.kube.waitFor(() => scrape('r1-metrics')?.status === 'True', 60_000);
  const monitor: any = world.kube.get('servicemonitors', NS, 'r1-metrics');
  t.equal(monitor.metadata.labels['oda.tmforum.org/componentName'], 'r1-productcatalog', "the ExposedAPI's labels");
  t.equal(monitor.metadata.labels['app.kubernetes.io/managed-by'], 'oda-apim-operator');
  t.match(monitor.metadata.ownerReferences, [{ kind: 'ExposedAPI', name: 'r1-metrics', controller: true }]);
  t.same(monitor.spec.selector, { matchLabels: { name: 'r1-productcatalog-sm' } });
  await remove('r1-metrics');
  await world.kube.waitFor(() => world.kube.get('exposedapis', NS, 'r1-metrics') === undefined, 60_000);
  t.notOk(world.kube.get('servicemonitors', NS, 'r1-metrics'), 'deleted by the finalizer');
});

t.test('without the ServiceMonitor CRD: a condition and an Event say so, and the API stays Ready', async (t) => {
  const types = DEFAULT_RESOURCE_TYPES.filter((type) => type !== SERVICE_MONITOR);
  const { world, create, status, scrape } = await running(t, {}, { types });
  await create('r1-metrics');
  await world.kube.waitFor(() => scrape('r1-metrics')?.reason === 'ServiceMonitorCrdMissing', 60_000);
  t.equal(scrape('r1-metrics').status, 'False');
  t.match(scrape('r1-metrics').message, /prometheus-operator|OPENMETRICS_IMPLEMENTATION/);
  t.equal(status('r1-metrics').implementation.ready, true, 'still Ready');
  await world.kube.waitFor(
    () =>
      world.kube
        .objects('events.events.k8s.io', NS)
        .some((e: any) => e.reason === 'ServiceMonitorCrdMissing' && e.type === 'Warning'),
    60_000,
  );
  t.pass('a Warning Event names the missing CRD');
});

t.test('PrometheusAnnotation: the Pods are annotated, and only our annotations go on delete', async (t) => {
  const { world, create, remove, scrape } = await running(t, { OPENMETRICS_IMPLEMENTATION: 'PrometheusAnnotation' });
  world.implementation(NS, 'r1-productcatalog-sm', { selector: { impl: 'r1-metricsapi' } });
  world.kube.seed(pod('metrics-a', 'registerallevents'), pod('metrics-b', 'registerallevents'));
  world.kube.seed({ ...pod('other', 'x'), metadata: { name: 'other', namespace: NS, labels: { impl: 'other' } } });
  await create('r1-metrics');
  await world.kube.waitFor(() => scrape('r1-metrics')?.status === 'True', 60_000);
  for (const name of ['metrics-a', 'metrics-b']) {
    t.equal(
      (world.kube.get('pods', NS, name) as any).metadata.annotations['prometheus.io/scrape'],
      'true',
      `${name} annotated`,
    );
  }
  t.notOk((world.kube.get('pods', NS, 'other') as any).metadata.annotations, 'a Pod of another Service is not');
  t.notOk(world.kube.get('servicemonitors', NS, 'r1-metrics'), 'no ServiceMonitor in this mode');
  await remove('r1-metrics');
  await world.kube.waitFor(() => world.kube.get('exposedapis', NS, 'r1-metrics') === undefined, 60_000);
  t.same((world.kube.get('pods', NS, 'metrics-a') as any).metadata.annotations ?? {}, {}, 'annotations removed');
});

t.test('DataDogAnnotation: an OpenMetrics check on the first container, as the Canvas writes it', async (t) => {
  const { world, create, scrape } = await running(t, { OPENMETRICS_IMPLEMENTATION: 'DataDogAnnotation' });
  world.implementation(NS, 'r1-productcatalog-sm', { selector: { impl: 'r1-metricsapi' } });
  world.kube.seed(pod('metrics-a', 'registerallevents'));
  await create('r1-metrics');
  await world.kube.waitFor(() => scrape('r1-metrics')?.status === 'True', 60_000);
  const annotations = (world.kube.get('pods', NS, 'metrics-a') as any).metadata.annotations;
  t.same(JSON.parse(annotations['ad.datadoghq.com/registerallevents.checks']), {
    openmetrics: {
      instances: [
        {
          openmetrics_endpoint: `http://r1-productcatalog-sm.${NS}.svc.cluster.local:4000/r1-productcatalog/metrics`,
          namespace: 'components',
          metrics: ['.*'],
        },
      ],
    },
  });
});
