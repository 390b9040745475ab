// Least privilege, proven: every Kubernetes call the reconciler and the
// webhook make through the real client, recorded by the stand-in over
// scenarios that take every adapter path, equals what the chart grants them.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startReconciler } from '../../../reconciler/server.ts';
import { createKubeClient } from '../../../reconciler/clients/kube.ts';
import { startKubeApiServer, type KubeApiServer } from '../../fakes/kube-api-server.ts';
import type { KubeObject } from '../../../reconciler/clients/kube-types.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { canvasExposedApis, implementationsOf, productCatalogComponent } from '../../helpers/canvas-component.ts';
import { startComponentOperator } from '../../helpers/component-operator.ts';
import { ciValues, render, type Rendered } from '../../helpers/helm.ts';
import { RECONCILER_TOKEN, startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { exposedApi } from '../../helpers/resources.ts';
import { startTestWebhook } from '../../helpers/webhook.ts';
import type { RequestRecord } from '../../fakes/kube/route.ts';

const NS = 'components';
const WEBHOOK_TOKEN = 'apim-operator-webhook';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
type Permission = string; // `group/resource verb`, e.g. `oda.tmforum.org/exposedapis/status patch`

/** The permissions a set of calls needs, as RBAC names them; blockOwnerDeletion needs update on the owner's finalizers. */
function needed(requests: readonly RequestRecord[], user: string): Set<Permission> {
  const out = new Set<Permission>();
  for (const r of requests) {
    if (r.user !== user || !r.resource || r.verb === 'discovery' || r.verb === 'unknown') continue;
    const [plural, ...group] = r.resource.split('.');
    out.add(`${group.join('.')}/${plural}${r.subresource ? `/${r.subresource}` : ''} ${r.verb}`);
    for (const owner of r.blockingOwners ?? []) {
      const [ownerGroup, kind] = owner.split('/');
      out.add(`${ownerGroup}/${String(kind).toLowerCase()}s/finalizers update`);
    }
  }
  return out;
}

function granted(rules: readonly Rendered[]): Set<Permission> {
  const out = new Set<Permission>();
  for (const rule of rules)
    for (const group of rule.apiGroups)
      for (const resource of rule.resources) for (const verb of rule.verbs) out.add(`${group}/${resource} ${verb}`);
  return out;
}

const sorted = (s: Set<string>) => [...s].sort((a, b) => a.localeCompare(b));

const adapterRequests: RequestRecord[] = [];

/**
 * Calls every method of the reconciler's Kubernetes adapter without a cache,
 * so that the reads a cache normally answers (before it has synced, or
 * fresh after a conflict) go to the API server as they do then.
 */
async function sweepAdapter(kube: KubeApiServer): Promise<void> {
  const client = createKubeClient(kube.kubeconfig(RECONCILER_TOKEN), { log: testLogger() });
  const key = { namespace: NS, name: 'swept' };
  const [component] = kube.seed(
    {
      apiVersion: 'oda.tmforum.org/v1',
      kind: 'Component',
      metadata: { name: 'owner', namespace: NS },
      status: { coreAPIs: [{ name: 'swept', uid: 'u-1', ready: false }] },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'impl', namespace: NS }, spec: { selector: { impl: 'x' } } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'impl-0', namespace: NS, labels: { impl: 'x' } }, spec: {} },
  );
  kube.seed(exposedApi({}, { name: 'swept' }));
  let api = (await client.getExposedApi(key)) as KubeObject;
  api = await client.addFinalizer(key, 'oda.tmforum.org/apim-cleanup', api.metadata.resourceVersion ?? '');
  api = await client.writeStatus(key, { implementation: { ready: false } }, api.metadata.resourceVersion ?? '');
  const owner = {
    apiVersion: 'oda.tmforum.org/v1',
    kind: 'ExposedAPI',
    name: 'swept',
    uid: api.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
  const owned = (apiVersion: string, kind: string, spec: object) => ({
    apiVersion,
    kind,
    metadata: { ...key, ownerReferences: [owner] },
    spec,
  });
  for (const rules of [[], [{ http: { paths: [] } }]])
    await client.applyIngress(owned('networking.k8s.io/v1', 'Ingress', { rules }));
  await client.getIngress(key);
  await client.deleteIngress(key);
  for (const value of ['a', 'b'])
    await client.applySecret({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { ...key, ownerReferences: [owner] },
      stringData: { primaryKey: value },
    });
  await client.getSecretData(key);
  const found = (await client.getComponent({ namespace: NS, name: 'owner' })) as KubeObject;
  await client.getComponent({ namespace: NS, name: 'owner' }, { fresh: true });
  await client.patchComponentStatus(
    { namespace: NS, name: 'owner' },
    [{ op: 'replace', path: '/status/coreAPIs/0/ready', value: true }],
    found.metadata.resourceVersion ?? component?.metadata.resourceVersion ?? '',
  );
  if (await client.serviceMonitorsServed()) {
    for (const interval of ['15s', '30s'])
      await client.applyServiceMonitor(
        owned('monitoring.coreos.com/v1', 'ServiceMonitor', { endpoints: [{ interval }] }),
      );
    await client.getServiceMonitor(key);
    await client.deleteServiceMonitor(key);
  }
  await client.getService({ namespace: NS, name: 'impl' });
  await client.listPods(NS, { impl: 'x' });
  await client.annotatePod({ namespace: NS, name: 'impl-0' }, { 'prometheus.io/scrape': 'true' });
  for (let i = 0; i < 2; i++)
    await client.recordEvent(api, { type: 'Normal', reason: 'Swept', message: 'swept', action: 'Reconcile' });
  await client.removeFinalizer(
    key,
    'oda.tmforum.org/apim-cleanup',
    (await client.getExposedApi(key))?.metadata.resourceVersion ?? '',
  );
}

t.test('the reconciler uses every right the chart grants it, and no other', async (t) => {
  const world = await startReconcilerEnvironment({ requireReadyEndpoints: true });
  t.teardown(() => world.close());
  const kubeconfig = world.kube.kubeconfig();
  const custom = kubeconfig.makeApiClient(CustomObjectsApi);
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const networking = kubeconfig.makeApiClient(NetworkingV1Api);
  const exposed = (name: string): any => world.kube.get('exposedapis', NS, name);
  const until = (what: string, predicate: () => boolean): Promise<void> =>
    world.kube.waitFor(predicate, 60_000).catch(() => {
      throw new Error(`${what}: not within 60 s`);
    });
  const ref = (plural: string, name: string) => ({
    group: 'oda.tmforum.org',
    version: 'v1',
    namespace: NS,
    plural,
    name,
  });

  await t.test('ServiceMonitor mode: a Canvas component, a keyed API, drift, uninstall', async (t) => {
    const reconciler = await startReconciler(world.env, testLogger());
    t.teardown(() => reconciler.close(1000));
    const operator = startComponentOperator(kubeconfig, NS);
    t.teardown(() => operator.close());
    const chart = productCatalogComponent({ specs: world.specs.url });
    for (const service of implementationsOf(chart)) world.implementation(NS, service);
    await operator.install(chart);
    const component = world.kube.get('components', NS, chart.metadata.name) as any;
    const children = canvasExposedApis(component).map((c) => c.object);
    for (const child of children)
      if (child.spec.segment === 'coreFunction') await world.giveAddress(NS, child.metadata.name);
    await until(
      'step 1',
      () =>
        (world.kube.get('components', NS, chart.metadata.name) as any)?.status?.['summary/status']
          ?.deployment_status === 'Complete',
    );

    const keyed = 'keyed';
    await custom.createNamespacedCustomObject({
      ...ref('exposedapis', ''),
      body: exposedApi({ path: '/keyed/v1', apiKeyVerification: { enabled: true } }, { name: keyed }),
    });
    await world.giveAddress(NS, keyed);
    await until('step 2', () => exposed(keyed)?.status?.apiStatus?.subscriptionKeySecret !== undefined);
    const secret = exposed(keyed).status.apiStatus.subscriptionKeySecret as string;
    // Hand edits the operator puts right: the key Secret deleted; the Ingress and ServiceMonitor changed.
    await core.deleteNamespacedSecret({ namespace: NS, name: secret });
    // The key is checked against APIM on a resync (see the end-to-end test).
    await reconciler.resync();
    await until('step 4', () => world.kube.get('secrets', NS, secret) !== undefined);
    await networking.patchNamespacedIngress(
      { namespace: NS, name: keyed, body: { spec: { ingressClassName: 'hand-edited' } } },
      merge,
    );
    await until('step 5', () => (world.kube.get('ingresses', NS, keyed) as any)?.spec?.ingressClassName === 'istio');
    const metrics = children.find((c) => c.spec.apiType === 'prometheus')?.metadata.name as string;
    await custom.patchNamespacedCustomObject(
      {
        group: 'monitoring.coreos.com',
        version: 'v1',
        namespace: NS,
        plural: 'servicemonitors',
        name: metrics,
        body: { spec: { endpoints: [] } },
      },
      merge,
    );
    await until(
      'step 6',
      () => ((world.kube.get('servicemonitors', NS, metrics) as any)?.spec?.endpoints ?? []).length > 0,
    );

    await custom.deleteNamespacedCustomObject(ref('exposedapis', keyed));
    await operator.uninstall(NS, chart.metadata.name);
    await until('step 7', () => world.kube.objects('exposedapis', NS).length === 0);
    t.pass('installed, repaired and removed');
  });

  await t.test('annotation mode: the Pods behind a metrics Service', async (t) => {
    const reconciler = await startReconciler(
      { ...world.env, OPENMETRICS_IMPLEMENTATION: 'PrometheusAnnotation' },
      testLogger(),
    );
    t.teardown(() => reconciler.close(1000));
    world.implementation(NS, 'r1-sm', { selector: { impl: 'r1-sm' } });
    world.kube.seed({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'r1-sm-0', namespace: NS, labels: { impl: 'r1-sm' } },
      spec: { containers: [{ name: 'metrics', image: 'metrics:1' }] },
    });
    await custom.createNamespacedCustomObject({
      ...ref('exposedapis', ''),
      body: exposedApi(
        { apiType: 'prometheus', implementation: 'r1-sm', path: '/r1/metrics', port: 4000 },
        { name: 'scraped' },
      ),
    });
    await until(
      'step 8',
      () => (world.kube.get('pods', NS, 'r1-sm-0') as any)?.metadata?.annotations?.['prometheus.io/scrape'] === 'true',
    );
    await custom.deleteNamespacedCustomObject(ref('exposedapis', 'scraped'));
    await until('step 9', () => exposed('scraped') === undefined);
    t.pass('annotated and cleaned');
  });

  await t.test('every adapter method, with no cache to read from, against both CRD forms', async (t) => {
    for (const statusSubresource of [false, true]) {
      const kube = await startKubeApiServer(
        statusSubresource
          ? {
              overrides: {
                'exposedapis.oda.tmforum.org': { statusSubresource: true },
                'components.oda.tmforum.org': { statusSubresource: true },
              },
            }
          : {},
      );
      t.teardown(() => kube.close());
      await sweepAdapter(kube);
      adapterRequests.push(...kube.requests);
    }
    t.pass('every method called');
  });

  const used = needed([...world.kube.requests, ...adapterRequests], RECONCILER_TOKEN);
  for (const values of [[], ['ci/namespaced-values.yaml']]) {
    const objects = render(values.map((v) => join(process.cwd(), 'k8s/chart', v)));
    const roles = objects.filter(
      (o) => ['ClusterRole', 'Role'].includes(o.kind) && o.metadata.name.endsWith('-reconciler'),
    );
    for (const role of roles) {
      const grant = granted(role.rules);
      t.same(
        sorted(new Set([...used].filter((p) => !grant.has(p)))),
        [],
        `${role.kind} ${role.metadata.namespace ?? ''}: nothing used and not granted`,
      );
      t.same(
        sorted(new Set([...grant].filter((p) => !used.has(p)))),
        [],
        `${role.kind} ${role.metadata.namespace ?? ''}: nothing granted and unused`,
      );
    }
  }
});

t.test("the webhook's calls are its ClusterRole: list and watch ExposedAPIs", async (t) => {
  const world = await startReconcilerEnvironment();
  t.teardown(() => world.close());
  const file = join(mkdtempSync(join(tmpdir(), 'apim-kube-')), 'config');
  writeFileSync(file, world.kube.kubeconfigYaml(WEBHOOK_TOKEN));
  const webhook = await startTestWebhook({ KUBECONFIG: file });
  t.teardown(() => webhook.close());
  await world.kube.waitFor(
    () => world.kube.requests.some((r) => r.user === WEBHOOK_TOKEN && r.verb === 'watch'),
    30_000,
  );
  const role = render().find((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith('-webhook'));
  t.same(sorted(needed(world.kube.requests, WEBHOOK_TOKEN)), sorted(granted(role?.rules ?? [])));
});

t.test("in every install, nothing bound to the webhook's ServiceAccount can read a Secret", async (t) => {
  for (const { name, file } of ciValues()) {
    const objects = render([file]);
    const roles = new Map(
      objects.filter((o) => String(o.kind).endsWith('Role')).map((o) => [`${o.kind}/${o.metadata.name}`, o]),
    );
    const bound = objects
      .filter((o) => String(o.kind).endsWith('RoleBinding'))
      .filter((b) =>
        (b.subjects ?? []).some((s: Rendered) => s.kind === 'ServiceAccount' && s.name.endsWith('-webhook')),
      )
      .map((b) => roles.get(`${b.roleRef.kind}/${b.roleRef.name}`));
    t.ok(bound.length > 0, `${name}: the webhook is bound to a role`);
    const secretRules = bound.flatMap((role) =>
      (role?.rules ?? []).filter(
        (r: Rendered) =>
          (r.apiGroups ?? []).some((g: string) => g === '' || g === '*') &&
          (r.resources ?? []).some((res: string) => res === 'secrets' || res === '*'),
      ),
    );
    t.same(secretRules, [], `${name}: no rule on Secrets`);
  }
});
