// The Helm chart: lint, every CI values file rendered and validated against
// the Kubernetes and cert-manager schemas, the install rules checked on each
// rendering, and the generated plain manifests kept equal to the chart.
import t from 'tap';
import { readFileSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { VERSIONS } from '../../../shared/exposed-api/schema.ts';
import { CHART, ciValues, helm, RELEASE, render, type Rendered } from '../../helpers/helm.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CASES = ciValues();
const podSpecs = (objects: Rendered[]) =>
  objects
    .filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind))
    .map((o) => ({ name: `${o.kind} ${o.metadata.name}`, object: o, pod: o.spec.template.spec }));
/** A Kubernetes memory quantity (`512Mi`, `1Gi`) in MiB. */
const mebibytes = (quantity: string): number => {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`memory quantity ${quantity}: write it in Mi or Gi`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
};
const env = (container: Rendered, name: string): string | undefined =>
  container.env?.find((e: Rendered) => e.name === name)?.value;

/** The @kubernetes-models package of each CRD group the chart renders objects of. */
const CRD_MODELS: Record<string, string> = {
  'cert-manager.io': '@kubernetes-models/cert-manager',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'keda.sh': '@kubernetes-models/keda',
};

/** The schema a rendered object must satisfy: kubernetes-models for the built-in kinds, @kubernetes-models for CRDs'. */
async function validate(object: Rendered): Promise<void> {
  const [group, version] = String(object.apiVersion).includes('/')
    ? String(object.apiVersion).split('/')
    : [undefined, object.apiVersion];
  const models = group ? CRD_MODELS[group] : undefined;
  const module = models
    ? `${models}/${group}/${version}/${object.kind}`
    : `kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`;
  const Model = (await import(module))[object.kind];
  new Model(object).validate();
}

t.test('CI values files exist for every install the README describes', async (t) => {
  t.same(CASES.map((c) => c.name).sort(), [
    'canvas',
    'dashboard',
    'defaults',
    'external-redis-entra',
    'external-redis-password',
    'hpa',
    'keda',
    'monitoring',
    'namespaced',
    'no-cert-manager',
  ]);
});

for (const { name, file } of CASES) {
  t.test(`${name}: lint, schemas and the install rules`, async (t) => {
    const lint = helm(['lint', CHART, '--strict', '-f', file]);
    t.ok(lint.ok, `helm lint: ${lint.out.trim().split('\n').at(-1)}`, { out: lint.out });
    const objects = render([file]);
    for (const object of objects) {
      await t.resolves(validate(object), `${object.kind} ${object.metadata?.name} matches its schema`);
    }

    for (const { name: what, object, pod } of podSpecs(objects)) {
      t.equal(pod.securityContext?.runAsNonRoot, true, `${what}: runAsNonRoot`);
      t.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${what}: seccomp RuntimeDefault`);
      for (const c of pod.containers) {
        const s = c.securityContext ?? {};
        t.equal(s.allowPrivilegeEscalation, false, `${what}/${c.name}: no privilege escalation`);
        t.equal(s.readOnlyRootFilesystem, true, `${what}/${c.name}: read-only root filesystem`);
        t.same(s.capabilities?.drop, ['ALL'], `${what}/${c.name}: all capabilities dropped`);
        t.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${what}/${c.name}: requests`);
        t.ok(c.resources?.limits?.memory, `${what}/${c.name}: a memory limit`);
        t.ok(c.livenessProbe && c.readinessProbe, `${what}/${c.name}: liveness and readiness probes`);
        if (c.name !== 'reconciler' && c.name !== 'webhook') continue;
        const heapMb = (flag: string) =>
          Number(c.command.find((a: string) => a.startsWith(`--${flag}=`))?.split('=')[1]);
        // V8's young generation is three semi-spaces; what is not heap (code, buffers, the binary) needs the rest.
        const heap = heapMb('max-old-space-size') + 3 * heapMb('max-semi-space-size');
        t.ok(
          heap < mebibytes(c.resources.requests.memory) * 0.8,
          `${what}/${c.name}: the V8 heap bounds (${heap} MB) leave room under the memory request`,
        );
      }
      if (object.metadata.name.endsWith('-reconciler')) {
        const config = objects.find((o) => o.kind === 'ConfigMap');
        t.ok(
          pod.terminationGracePeriodSeconds > Number(config?.data.SHUTDOWN_GRACE_SECONDS),
          `${what}: the grace period outlasts SHUTDOWN_GRACE_SECONDS`,
        );
      }
    }

    const webhooks = objects.filter((o) => String(o.kind).endsWith('WebhookConfiguration'));
    t.equal(webhooks.length, 2, 'a mutating and a validating webhook');
    for (const configuration of webhooks) {
      for (const hook of configuration.webhooks) {
        const what = `${configuration.kind}/${hook.name}`;
        t.equal(hook.sideEffects, 'NoneOnDryRun', `${what}: sideEffects`);
        t.equal(hook.matchPolicy, 'Equivalent', `${what}: matchPolicy`);
        t.same(hook.rules[0].apiVersions, [...VERSIONS], `${what}: every served version`);
        t.same(hook.rules[0].operations, ['CREATE', 'UPDATE'], `${what}: CREATE and UPDATE`);
        const excluded = hook.namespaceSelector.matchExpressions.find((e: Rendered) => e.operator === 'NotIn');
        t.same(
          excluded?.values,
          [RELEASE.namespace, 'kube-system'],
          `${what}: never its own namespace nor kube-system`,
        );
        t.ok(
          configuration.metadata.annotations?.['cert-manager.io/inject-ca-from'] || hook.clientConfig.caBundle,
          `${what}: a CA, injected or given`,
        );
      }
    }

    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget');
    t.equal(
      pdb?.spec.selector.matchLabels['app.kubernetes.io/name'],
      `${RELEASE.name}-webhook`,
      'the webhook has a PDB',
    );
    const webhook = podSpecs(objects).find((p) => p.object.metadata.name === `${RELEASE.name}-webhook`);
    t.ok(webhook?.pod.topologySpreadConstraints?.length, 'the webhook spreads over nodes');

    const webhookRole = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === `${RELEASE.name}-webhook`);
    t.same(
      webhookRole?.rules,
      [{ apiGroups: ['oda.tmforum.org'], resources: ['exposedapis'], verbs: ['list', 'watch'] }],
      "the webhook's ServiceAccount reads ExposedAPIs and nothing else",
    );
    t.notOk(
      objects.some(
        (o) => String(o.kind).endsWith('Role') && JSON.stringify(o.rules ?? []).includes('coordination.k8s.io'),
      ),
      'no Lease rights',
    );

    const redis = objects.find((o) => o.kind === 'StatefulSet');
    const redisUrls = podSpecs(objects)
      .filter((p) => p.object.kind === 'Deployment')
      .map((p) => env(p.pod.containers[0], 'REDIS_URL'));
    if (name.startsWith('external-redis')) {
      t.notOk(redis, 'no bundled Redis');
      t.match(redisUrls, [/^rediss:\/\//, /^rediss:\/\//], 'both parts use the external Redis over TLS');
    } else {
      const args: string[] = redis?.spec.template.spec.containers[0].args ?? [];
      const arg = (flag: string) => args[args.indexOf(flag) + 1];
      t.equal(arg('--appendonly'), 'yes', 'AOF on');
      t.equal(arg('--appendfsync'), 'everysec', 'fsync every second');
      t.equal(arg('--maxmemory-policy'), 'noeviction', 'noeviction, which BullMQ requires');
      t.equal(redis?.spec.volumeClaimTemplates?.[0].spec.resources.requests.storage, '1Gi', 'on a volume');
      t.ok(
        objects.find((o) => o.kind === 'NetworkPolicy'),
        'behind a NetworkPolicy',
      );
      t.same(redisUrls, ['redis://apim-operator-redis:6379', 'redis://apim-operator-redis:6379']);
    }
  });
}

t.test('plain namespace names confine the reconciler to Roles in them and the webhooks to them', async (t) => {
  const objects = render([join(CHART, 'ci/namespaced-values.yaml')]);
  const roles = objects.filter((o) => o.kind === 'Role');
  t.same(
    roles.map((r) => String(r.metadata.namespace)).sort((a, b) => a.localeCompare(b)),
    ['components', 'payments'],
  );
  t.notOk(
    objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith('-reconciler')),
    'no ClusterRole for the reconciler',
  );
  for (const configuration of objects.filter((o) => String(o.kind).endsWith('WebhookConfiguration'))) {
    const only = configuration.webhooks[0].namespaceSelector.matchExpressions.find(
      (e: Rendered) => e.operator === 'In',
    );
    t.same(only?.values, ['components', 'payments'], `${configuration.kind}: only those namespaces`);
  }
  const globs = render([join(CHART, 'ci/canvas-values.yaml')]);
  t.ok(
    globs.find((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith('-reconciler')),
    'globs: cluster-wide rights',
  );
  const config = globs.find((o) => o.kind === 'ConfigMap');
  t.equal(config?.data.MONITORED_NAMESPACES, 'components,odacompns-*');
});

t.test('tracing: the OTEL_* variables in both Deployments only when an endpoint is set', async (t) => {
  const canvas = podSpecs(render([join(CHART, 'ci/canvas-values.yaml')])).filter((p) =>
    p.name.startsWith('Deployment'),
  );
  t.equal(canvas.length, 2);
  for (const { pod, name } of canvas) {
    t.equal(env(pod.containers[0], 'OTEL_EXPORTER_OTLP_ENDPOINT'), 'http://otel-collector.monitoring.svc:4318', name);
    t.match(env(pod.containers[0], 'OTEL_SERVICE_NAME'), /^oda-apim-operator-(webhook|reconciler)$/, name);
  }
  for (const { pod, name } of podSpecs(render([join(CHART, 'ci/defaults-values.yaml')])))
    t.notOk(
      pod.containers[0].env?.some((e: Rendered) => e.name.startsWith('OTEL_')),
      `${name}: no OTEL_* by default`,
    );
});

t.test('Entra ID for Redis: the webhook gets the workload identity too, and no reconciler rights', async (t) => {
  const objects = render([join(CHART, 'ci/external-redis-entra-values.yaml')]);
  const webhookAccount = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name.endsWith('-webhook'));
  t.equal(
    webhookAccount?.metadata.annotations?.['azure.workload.identity/client-id'],
    '00000000-0000-0000-0000-0000000000c1',
  );
  for (const { pod, name } of podSpecs(objects)) {
    t.equal(env(pod.containers[0], 'REDIS_AUTH'), 'entra', `${name}: REDIS_AUTH`);
    t.equal(
      env(pod.containers[0], 'REDIS_USERNAME'),
      '00000000-0000-0000-0000-0000000000d2',
      `${name}: the identity's object id`,
    );
  }
  const webhook = podSpecs(objects).find((p) => p.name.endsWith('-webhook'));
  t.equal(webhook?.pod.serviceAccountName, `${RELEASE.name}-webhook`);
});

t.test(
  'the queue dashboard: credential files from the Secret, read-only, the admin port behind a NetworkPolicy',
  async (t) => {
    const defaults = render([]);
    const plain = podSpecs(defaults).find((p) => p.name.endsWith('-reconciler'))!.pod.containers[0];
    t.equal(
      env(plain, 'DASHBOARD_PASSWORD_FILE'),
      undefined,
      'by default no credential: the dashboard stays on the loopback',
    );
    t.equal(env(plain, 'DASHBOARD_READ_ONLY'), 'false');
    const defaultPolicy = defaults.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name.endsWith('-reconciler'));
    t.same(defaultPolicy?.spec.ingress, [
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        ports: [{ port: 9090, protocol: 'TCP' }],
      },
    ]);

    const objects = render([join(CHART, 'ci/dashboard-values.yaml')]);
    const { pod, object: deployment } = podSpecs(objects).find((p) => p.name.endsWith('-reconciler'))!;
    const container = pod.containers[0];
    t.equal(env(container, 'DASHBOARD_USERNAME'), 'ops');
    t.equal(env(container, 'DASHBOARD_PASSWORD_FILE'), '/run/secrets/dashboard/password');
    t.equal(env(container, 'DASHBOARD_TOKEN_FILE'), '/run/secrets/dashboard/token');
    t.equal(env(container, 'DASHBOARD_READ_ONLY'), 'true');
    const mount = container.volumeMounts.find((m: Rendered) => m.name === 'dashboard-credential');
    t.match(mount, { mountPath: '/run/secrets/dashboard', readOnly: true });
    const volume = pod.volumes.find((v: Rendered) => v.name === 'dashboard-credential');
    t.same(volume?.secret, {
      secretName: 'apim-dashboard',
      items: [
        { key: 'password', path: 'password' },
        { key: 'token', path: 'token' },
      ],
    });
    const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name.endsWith('-reconciler'));
    t.same(policy?.spec.ingress[0].from, [{ namespaceSelector: { matchLabels: { team: 'platform-monitoring' } } }]);
    t.same(policy?.spec.podSelector.matchLabels, deployment.spec.selector.matchLabels, "the reconciler's Pods");
  },
);

t.test('values.schema.json refuses what cannot work, naming the value', async (t) => {
  const cases: [string[], RegExp][] = [
    [['redis.bundled.enabled=false'], /redis\/external\/url/],
    [['redis.bundled.enabled=false', 'redis.external.url=rediss://r:6380', 'redis.external.auth=entra'], /username/],
    [['certificates.certManager=false'], /existingSecret|caBundle/],
    [['settings.openMetricsImplementation=Scraper'], /openMetricsImplementation/],
    [['webhook.failurePolicy=Sometimes'], /failurePolicy/],
    [['unknownValue=1'], /unknownValue/],
    [
      [
        'reconciler.autoscaling.keda.enabled=true',
        'reconciler.autoscaling.keda.prometheusServerAddress=http://p:9090',
        'reconciler.autoscaling.hpa.enabled=true',
      ],
      /autoscaling\/hpa\/enabled/,
    ],
    [['reconciler.autoscaling.keda.enabled=true'], /prometheusServerAddress/],
    [['reconciler.autoscaling.hpa.enabled=true', 'reconciler.autoscaling.minReplicas=0'], /minReplicas/],
    [
      [
        'reconciler.autoscaling.hpa.enabled=true',
        'reconciler.autoscaling.minReplicas=5',
        'reconciler.autoscaling.maxReplicas=3',
      ],
      /minReplicas must not exceed maxReplicas/,
    ],
    [['monitoring.serviceMonitor.interval=30'], /serviceMonitor\/interval/],
    [['dashboard.username=a:b'], /username/],
    [['tracing.otlpEndpoint=collector:4318'], /otlpEndpoint/],
  ];
  for (const [sets, expected] of cases) {
    const args = ['template', RELEASE.name, CHART, ...sets.flatMap((s) => ['--set', s])];
    const result = helm(args);
    t.equal(result.ok, false, `${sets.join(' ')}: refused`);
    t.match(result.out, expected, `${sets.join(' ')}: says which value`);
  }
});

t.test('the plain manifests in k8s/ are the chart rendered with its defaults', async (t) => {
  const fresh = join(mkdtempSync(join(tmpdir(), 'manifests-')), 'apim-operator.yaml');
  execFileSync('bash', [join(ROOT, 'scripts/manifests.sh'), fresh]);
  t.equal(
    readFileSync(join(ROOT, 'k8s/apim-operator.yaml'), 'utf8'),
    readFileSync(fresh, 'utf8'),
    'k8s/apim-operator.yaml is up to date (run npm run manifests)',
  );
});
