// The chart's monitoring and scaling objects: off by default, each behind its
// value; when on, they select what the chart runs (Services, Deployment, the
// serving certificate's CA), and a scaler leaves the replica count to itself.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART, RELEASE, render, type Rendered } from '../../helpers/helm.ts';

const ci = (name: string) => join(CHART, 'ci', `${name}-values.yaml`);
const KINDS = ['ServiceMonitor', 'PrometheusRule', 'ScaledObject', 'HorizontalPodAutoscaler'];
const reconcilerOf = (objects: Rendered[]) =>
  objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `${RELEASE.name}-reconciler`);

t.test('the defaults render none of them, and set the replica count', async (t) => {
  const objects = render();
  t.same(
    objects.filter((o) => KINDS.includes(o.kind)).map((o) => o.kind),
    [],
  );
  t.notOk(
    objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard')),
    'no dashboard',
  );
  t.equal(reconcilerOf(objects)?.spec.replicas, 2);
});

t.test('ServiceMonitors: the admin port over HTTP, the webhook over verified TLS', async (t) => {
  const objects = render([ci('monitoring')]);
  const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
  const services = objects.filter((o) => o.kind === 'Service');
  t.equal(monitors.length, 2);
  for (const monitor of monitors) {
    t.equal(monitor.metadata.labels.release, 'kube-prometheus-stack', `${monitor.metadata.name}: the selector label`);
    const selected = services.filter((s) =>
      Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v),
    );
    t.same(
      selected.map((s) => s.metadata.name),
      [monitor.metadata.name],
      `${monitor.metadata.name}: selects its Service only`,
    );
    const ports = selected[0]?.spec.ports.map((p: Rendered) => p.name);
    t.ok(ports.includes(monitor.spec.endpoints[0].port), `${monitor.metadata.name}: a port the Service has`);
  }
  const webhook = monitors.find((m) => m.metadata.name.endsWith('-webhook'))?.spec.endpoints[0];
  t.equal(webhook.scheme, 'https');
  t.same(webhook.tlsConfig, {
    serverName: `${RELEASE.name}-webhook.${RELEASE.namespace}.svc`,
    ca: { secret: { name: `${RELEASE.name}-webhook-tls`, key: 'ca.crt' } },
  });
  const certificate = objects.find((o) => o.kind === 'Certificate' && o.metadata.name.endsWith('-webhook-tls'));
  t.equal(certificate?.spec.secretName, webhook.tlsConfig.ca.secret.name, "the CA is the serving Secret's ca.crt");
  t.ok(certificate?.spec.dnsNames.includes(webhook.tlsConfig.serverName), 'the certificate names the serverName');
  const skip = render([ci('monitoring')], ['monitoring.serviceMonitor.webhook.insecureSkipVerify=true']);
  t.same(
    skip.find((o) => o.kind === 'ServiceMonitor' && o.metadata.name.endsWith('-webhook'))?.spec.endpoints[0].tlsConfig,
    {
      insecureSkipVerify: true,
    },
  );
});

t.test('the dashboard ConfigMap carries the JSON file and the sidecar label', async (t) => {
  const objects = render([ci('monitoring')]);
  const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === `${RELEASE.name}-dashboard`);
  t.equal(map?.metadata.labels.grafana_dashboard, '1');
  t.equal(map?.metadata.annotations.grafana_folder, 'ODA');
  t.same(
    JSON.parse(map?.data['oda-apim-operator.json']),
    JSON.parse(readFileSync(join(CHART, 'dashboards/oda-apim-operator.json'), 'utf8')),
  );
  const relabelled = render(
    [ci('monitoring')],
    ['monitoring.grafanaDashboard.labels.grafana_dashboard=null', 'monitoring.grafanaDashboard.labels.dashboards=oda'],
  );
  const other = relabelled.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard'));
  t.equal(other?.metadata.labels.dashboards, 'oda', 'the label is configurable');
});

t.test('KEDA and the HPA scale the reconciler Deployment, which then has no replica count', async (t) => {
  for (const [name, kind] of [
    ['keda', 'ScaledObject'],
    ['hpa', 'HorizontalPodAutoscaler'],
  ] as const) {
    const objects = render([ci(name)]);
    const scaler = objects.find((o) => o.kind === kind);
    const deployment = reconcilerOf(objects);
    t.equal(scaler?.spec.scaleTargetRef.name, deployment?.metadata.name, `${name}: targets the reconciler`);
    t.equal(scaler?.spec.scaleTargetRef.kind, 'Deployment');
    t.notOk('replicas' in (deployment?.spec ?? {}), `${name}: replicas left to the scaler`);
    t.notOk(
      objects.find((o) => o.kind === (kind === 'ScaledObject' ? 'HorizontalPodAutoscaler' : 'ScaledObject')),
      `${name}: only one scaler`,
    );
  }
  const keda = render([ci('keda')]).find((o) => o.kind === 'ScaledObject');
  t.match(keda?.spec, { minReplicaCount: 2, maxReplicaCount: 12, triggers: [{ type: 'prometheus' }] });
  t.equal(keda?.spec.triggers[0].metadata.threshold, '25');
  const hpa = render([ci('hpa')]).find((o) => o.kind === 'HorizontalPodAutoscaler');
  t.match(hpa?.spec, { minReplicas: 1, maxReplicas: 8 });
  t.equal(hpa?.spec.metrics[0].external.target.averageValue, '20');
});
