// Every metric and label that an alert (the rendered PrometheusRule), a
// Grafana panel (dashboards/*.json) or a scaler (ScaledObject, HPA) reads is
// one the processes export. Both run in-process against the stand-ins, through
// a demo-like run: a published API (after an ARM 429), a permanent failure, a
// resync, and admissions (allowed, denied, fetched by URL, malformed).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { startReconciler } from '../../../reconciler/server.ts';
import { RECONCILE_QUEUE } from '../../../shared/jobs.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { admissionReview, get, post } from '../../helpers/admission.ts';
import { parseExposition } from '../../helpers/exposition.ts';
import { CHART, RELEASE, render, type Rendered } from '../../helpers/helm.ts';
import { parsePromql, type Selector } from '../../helpers/promql.ts';
import { startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { exposedApi, seedExposedApi } from '../../helpers/resources.ts';
import { startTestWebhook } from '../../helpers/webhook.ts';

const NS = 'components';
/** Labels Prometheus and prometheus-operator put on every scraped series. */
const TARGET_LABELS = new Set(['job', 'namespace', 'instance', 'pod', 'service', 'endpoint', 'container']);
/** Series from elsewhere that the alerts read, with the labels they may use. */
const EXTERNAL: Record<string, Set<string>> = {
  up: TARGET_LABELS,
  kube_deployment_status_replicas_available: new Set(['namespace', 'deployment']),
};

// --- the demo-like run -------------------------------------------------------
const world = await startReconcilerEnvironment();
const reconciler = await startReconciler(world.env, testLogger());
const webhook = await startTestWebhook();
t.teardown(async () => {
  await webhook.close();
  await reconciler.close(1000);
  await world.close();
});
const custom = world.kube.kubeconfig().makeApiClient(CustomObjectsApi);
const create = (body: Record<string, any>) =>
  custom.createNamespacedCustomObject({
    group: 'oda.tmforum.org',
    version: String(body.apiVersion).split('/')[1] as string,
    namespace: NS,
    plural: 'exposedapis',
    body,
  });
const readyOf = (name: string): any =>
  (world.kube.get('exposedapis', NS, name) as any)?.status?.conditions?.find((c: any) => c.type === 'Ready');

world.azure.arm.failNext({ method: 'PUT', path: /^apis\/[^/]+$/ }, 429, { retryAfter: 0 });
await create(exposedApi({ specification: { url: `${world.specs.url}/tmf620.json` } }, { name: 'r1-orders' }));
const garbage = seedExposedApi({ specification: 'this: is: not [openapi', path: '/garbage' });
garbage.metadata = { name: 'r1-garbage', namespace: NS };
await create(garbage);
await world.giveAddress(NS, 'r1-orders');
await world.giveAddress(NS, 'r1-garbage');
await world.kube.waitFor(() => readyOf('r1-orders')?.status === 'True', 60_000);
await world.kube.waitFor(
  () => readyOf('r1-garbage')?.status === 'False' && readyOf('r1-garbage')?.reason !== 'WaitingForIngressAddress',
  60_000,
);
await reconciler.resync();

const review = (object: Record<string, any>) => post(webhook.agent, `${webhook.url}/validate`, admissionReview(object));
await review(exposedApi({ specification: { url: `${world.specs.url}/tmf620.json` } }, { name: 'r1-fetched' }));
await review(exposedApi({ port: 80800 }, { name: 'r1-denied' }));
await post(webhook.agent, `${webhook.url}/mutate`, admissionReview(exposedApi()));
const malformed = await post(webhook.agent, `${webhook.url}/validate`, '{"not json');

const reconcilerSeries = parseExposition(await (await fetch(`${reconciler.adminUrl}/metrics`)).text());
const webhookSeries = parseExposition((await get(webhook.agent, `${webhook.url}/metrics`)).text);

// --- what the chart reads ----------------------------------------------------
const values = ['monitoring', 'keda'].map((n) => join(CHART, 'ci', `${n}-values.yaml`));
const rendered = render(values);
const hpa = render([join(CHART, 'ci/hpa-values.yaml')]).find((o) => o.kind === 'HorizontalPodAutoscaler');
const serviceOf = (part: string) => `${RELEASE.name}-${part}`;
const monitored = rendered
  .filter((o) => o.kind === 'ServiceMonitor')
  .map((o: Rendered) => o.metadata.name as string)
  .sort();
const exportersOf = (metric: string): { part: string; series: Record<string, string>[] }[] =>
  [
    { part: 'reconciler', series: reconcilerSeries.get(metric) },
    { part: 'webhook', series: webhookSeries.get(metric) },
  ].filter((e): e is { part: string; series: Record<string, string>[] } => e.series !== undefined);

/** The Grafana variables a panel may use, as Grafana would fill them in. */
const grafana = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', RELEASE.namespace);

const queries: { where: string; expr: string }[] = [];
const rules: Rendered[] =
  rendered.find((o) => o.kind === 'PrometheusRule')?.spec.groups.flatMap((g: Rendered) => g.rules) ?? [];
for (const rule of rules) queries.push({ where: `alert ${rule.alert}`, expr: rule.expr });
const dashboard = JSON.parse(readFileSync(join(CHART, 'dashboards/oda-apim-operator.json'), 'utf8'));
for (const panel of dashboard.panels)
  for (const target of panel.targets) queries.push({ where: `panel "${panel.title}"`, expr: grafana(target.expr) });
for (const variable of dashboard.templating.list)
  if (variable.type === 'query')
    queries.push({
      where: `variable ${variable.name}`,
      expr: variable.query.query.replace(/^label_values\((\w+),.*$/, '$1'),
    });
const keda = rendered.find((o) => o.kind === 'ScaledObject');
queries.push({ where: 'the KEDA trigger', expr: keda?.spec.triggers[0].metadata.query });

/** Whether a matcher's value (op =, =~) admits a candidate value; != and !~ admit anything here. */
const admits = (op: string, value: string, candidate: string): boolean =>
  op === '=' ? candidate === value : op === '=~' ? new RegExp(`^(?:${value})$`).test(candidate) : true;

/** Problems with one selector: the metric, each label, each value compared for equality. */
function check(selector: Selector): string[] {
  const problems: string[] = [];
  const external = EXTERNAL[selector.metric];
  const exporters = exportersOf(selector.metric);
  if (!external && exporters.length === 0) return [`${selector.metric} is exported by neither process`];
  for (const { label, op, value } of selector.matchers) {
    if (label === 'job') {
      const jobs = external ? monitored : exporters.map((e) => serviceOf(e.part));
      const hit = jobs.filter((job) => admits(op, value, job));
      if (hit.length === 0)
        problems.push(`${selector.metric}: job ${op} "${value}" matches no scraped Service (${jobs.join(', ')})`);
      continue;
    }
    if (label === 'namespace' && op === '=' && value !== RELEASE.namespace)
      problems.push(`${selector.metric}: namespace "${value}" is not the release's`);
    if (label === 'deployment' && !admits(op, value, serviceOf('reconciler')))
      problems.push(`${selector.metric}: deployment "${value}" is not the reconciler's`);
    if (external) {
      if (!external.has(label)) problems.push(`${selector.metric} has no label ${label}`);
      continue;
    }
    if (TARGET_LABELS.has(label)) continue;
    const all = exporters.flatMap((e) => e.series);
    if (!all.some((s) => label in s)) problems.push(`${selector.metric} has no label ${label}`);
    else if (op === '=' && !all.some((s) => s[label] === value))
      problems.push(`${selector.metric}{${label}="${value}"} was not exported in the run`);
  }
  return problems;
}

t.test('the run produced what it should: both processes were scraped', async (t) => {
  t.equal(malformed.status, 400, 'a malformed review is refused');
  t.ok(reconcilerSeries.get('apim_operator_build_info')?.[0]?.version, 'reconciler build info');
  t.equal(webhookSeries.get('apim_operator_build_info')?.[0]?.component, 'webhook', 'webhook build info');
  t.same(monitored, [serviceOf('reconciler'), serviceOf('webhook')], 'both are scraped');
  t.ok(queries.length > 20, `${queries.length} queries to check`);
});

t.test('every alert, panel and scaler query parses and reads exported series and labels', async (t) => {
  for (const { where, expr } of queries) {
    const parsed = parsePromql(expr);
    t.same(parsed.errors, [], `${where}: valid PromQL`, { expr });
    t.ok(parsed.selectors.length > 0, `${where}: reads a series`);
    const problems = parsed.selectors.flatMap(check);
    const labelled = new Set(
      parsed.selectors.flatMap((s) => [
        ...exportersOf(s.metric).flatMap((e) => e.series.flatMap(Object.keys)),
        ...(EXTERNAL[s.metric] ?? []),
      ]),
    );
    for (const label of parsed.grouping)
      if (!labelled.has(label) && !TARGET_LABELS.has(label))
        problems.push(`groups by ${label}, which no series it reads has`);
    t.same(problems, [], `${where}: every metric and label exists`, { expr });
  }
});

t.test('the scalers read the queue the product works, as /metrics names it', async (t) => {
  const query = parsePromql(keda?.spec.triggers[0].metadata.query);
  const [depth] = query.selectors;
  t.equal(depth?.metric, 'apim_operator_queue_depth');
  t.match(depth?.matchers, [
    { label: 'job', op: '=', value: serviceOf('reconciler') },
    { label: 'namespace', op: '=', value: RELEASE.namespace },
    { label: 'queue', op: '=', value: RECONCILE_QUEUE },
  ]);
  t.same(reconcilerSeries.get('apim_operator_queue_depth'), [{ queue: RECONCILE_QUEUE }], 'the reconciler exports it');
  t.equal(hpa?.spec.metrics[0].external.metric.name, depth?.metric, 'the HPA: the same metric');
  t.same(hpa?.spec.metrics[0].external.metric.selector.matchLabels, {
    job: serviceOf('reconciler'),
    queue: RECONCILE_QUEUE,
  });
});

t.test('a typo is caught', async (t) => {
  t.not(parsePromql('sum(rat(apim_operator_reconciles_total[5m]))').errors.length, 0, 'a misspelt function');
  t.same(check(parsePromql('apim_operator_reconcile_total').selectors[0] as Selector), [
    'apim_operator_reconcile_total is exported by neither process',
  ]);
  t.same(check(parsePromql('apim_operator_reconciles_total{result="permanant"}').selectors[0] as Selector), [
    'apim_operator_reconciles_total{result="permanant"} was not exported in the run',
  ]);
});
