import t from 'tap';
import { startTracing } from '../../../shared/tracing.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { startReconcilerEnvironment, RECONCILER_TOKEN } from '../../helpers/reconciler-env.ts';
import { childEnv, helpers, NS, spawnReconciler, until } from '../../helpers/reconciler-process.ts';
import { startTestWebhook } from '../../helpers/webhook.ts';
import { admissionReview, post } from '../../helpers/admission.ts';
import { exposedApi } from '../../helpers/resources.ts';
import { startOtlpReceiver, type ReceivedSpan } from '../../fakes/otlp-receiver.ts';

const KEY_ATTRIBUTE = 'oda.exposedapi.key';

t.test('one admission is traced down to the ARM PUT; a job that absorbed two admissions links to both', async (t) => {
  const receiver = await startOtlpReceiver();
  const world = await startReconcilerEnvironment();
  const otel = {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  // The SDK reads the standard variables from the process: this process hosts the webhook.
  Object.assign(process.env, otel);
  const tracing = await startTracing(process.env, 'webhook-under-test', testLogger());
  // The webhook's job waits long enough for the object to be stored, as the API server does after admission.
  const webhook = await startTestWebhook(
    { QUEUE_PREFIX: world.env.QUEUE_PREFIX ?? '', ENQUEUE_DELAY_MS: '3000' },
    { tracing },
  );
  const reconciler = spawnReconciler(childEnv(world, { ...otel, OTEL_SERVICE_NAME: 'reconciler-under-test' }));
  t.teardown(async () => {
    if (reconciler.child.exitCode === null) reconciler.child.kill('SIGKILL');
    await webhook.close();
    await tracing.shutdown();
    await world.close();
    await receiver.close();
  });
  const h = helpers(world);
  const name = 'traced';
  const key = `${NS}/${name}`;
  const apiId = apiIdFor(NS, name);
  await h.create(name);
  // The child process starts its SDK, reads Key Vault and lists its watches first: on a busy machine that takes a while.
  await world.kube.waitFor(() => h.ready(name)?.reason === 'WaitingForIngressAddress', 60_000);
  await world.giveAddress(NS, name);
  await world.kube.waitFor(() => h.isReady(name), 60_000);

  // Two admissions of a new path (the API server asks the webhook, then stores the object), then the write itself.
  const before = world.kube.get('exposedapis', NS, name) as Record<string, any>;
  const changed = exposedApi({ ...before.spec, path: `/${name}/v5` }, { name });
  changed.metadata = before.metadata;
  for (let i = 0; i < 2; i++) {
    const answer = await post(
      webhook.agent,
      `${webhook.url}/validate`,
      admissionReview(changed, { operation: 'UPDATE', oldObject: before }),
    );
    t.equal(answer.json?.response?.allowed, true, `admission ${i + 1} allowed`);
  }
  await h.custom.patchNamespacedCustomObject({
    group: 'oda.tmforum.org',
    version: 'v1',
    namespace: NS,
    plural: 'exposedapis',
    name,
    body: [{ op: 'replace', path: '/spec/path', value: `/${name}/v5` }],
  });
  await until('the new path reaches APIM', async () =>
    JSON.stringify(world.azure.arm.state().apis[apiId] ?? {}).includes(`${name}/v5`) ? true : undefined,
  );
  // SIGTERM lets the running reconcile finish, then flushes: the reconciler's spans below arrive only through that path.
  reconciler.child.kill('SIGTERM');
  t.equal(await reconciler.exited, 0, 'the reconciler exits cleanly');
  await tracing.shutdown();
  const spans = receiver.spans;
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const admissions = spans.filter((s) => s.service === 'webhook-under-test' && s.attributes[KEY_ATTRIBUTE] === key);
  t.equal(
    new Set(admissions.map((s) => s.traceId)).size,
    2,
    'each admission has a span with the resource key, in a trace of its own',
  );
  const isApiPut = (s: ReceivedSpan) =>
    s.name === 'HTTP PUT' && new RegExp(`/apis/${apiId}\\?`).test(s.attributes['http.url'] ?? '');
  const reconcileOf = (s: ReceivedSpan): ReceivedSpan | undefined => {
    for (let at: ReceivedSpan | undefined = s; at; at = byId.get(at.parentSpanId))
      if (at.name === 'reconcile ExposedAPI') return at;
    return undefined;
  };
  const connected = (reconcile: ReceivedSpan, admission: ReceivedSpan) =>
    reconcile.traceId === admission.traceId || reconcile.links.some((l) => l.traceId === admission.traceId);
  const put = spans.find(
    (s) =>
      isApiPut(s) &&
      admissions.every((a) => {
        const r = reconcileOf(s);
        return r && connected(r, a);
      }),
  );
  t.ok(put, 'the ARM PUT of the API descends from a reconcile span connected to both admissions');
  const reconcile = put && reconcileOf(put);
  t.equal(reconcile?.attributes[KEY_ATTRIBUTE], key, 'the reconcile span names the resource');
  t.ok(
    spans.some(
      (s) =>
        s.parentSpanId === reconcile?.spanId &&
        /\/namespaces\/components\/exposedapis\/traced/.test(s.attributes['url.full'] ?? ''),
    ),
    'a Kubernetes call is its child',
  );
  t.match(
    reconciler.output(),
    new RegExp(`"trace_id":"${reconcile?.traceId}","span_id":"[0-9a-f]{16}"`),
    'the reconcile logged with its trace id',
  );
  const all = receiver.bodies.join('\n');
  for (const secret of [
    world.env.AZURE_CLIENT_SECRET ?? 'unset',
    RECONCILER_TOKEN,
    'Bearer ',
    'authorization',
    'Authorization',
  ])
    t.notOk(all.includes(secret), `no trace carries ${JSON.stringify(secret)}`);
});
