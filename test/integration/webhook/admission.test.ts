import t from 'tap';
import { CLEANUP_FINALIZER } from '../../../shared/exposed-api/defaults.ts';
import jsonpatch from 'fast-json-patch';
import { admissionReview, get, patchOf, post } from '../../helpers/admission.ts';
import { canvasExposedApis, everyCanvasFormComponent } from '../../helpers/canvas-component.ts';
import { exposedApi, fixtureObject, fixtureText, seedExposedApi } from '../../helpers/resources.ts';
import { startSpecServer } from '../../helpers/spec-server.ts';
import { queuedKeys, startTestWebhook } from '../../helpers/webhook.ts';

const specs = await startSpecServer();
const webhook = await startTestWebhook();
t.teardown(async () => {
  await webhook.close();
  await specs.close();
});

const hasWarning = (response: { warnings?: string[] }, pattern: RegExp): boolean =>
  (response.warnings ?? []).some((w) => pattern.test(w));
const validate = async (review: object) => (await post(webhook.agent, `${webhook.url}/validate`, review)).json.response;
const mutate = async (review: object) => (await post(webhook.agent, `${webhook.url}/mutate`, review)).json.response;
/** Real objects point at GitHub; here the same document is served locally. */
const local = (object: Record<string, any>, path = '/tmf620.json'): Record<string, any> => {
  const copy = structuredClone(object);
  if (Array.isArray(copy.spec.specification))
    copy.spec.specification = copy.spec.specification.map(() => ({ url: specs.url + path }));
  else if (copy.spec.specification) copy.spec.specification = { ...copy.spec.specification, url: specs.url + path };
  return copy;
};

t.test('every fixture form is admitted over HTTPS', async (t) => {
  const forms: [string, Record<string, any>][] = [
    ['v1 from a cluster', local(fixtureObject('exposedapi-from-cluster-1.json'))],
    ['v1 metrics API', fixtureObject('exposedapi-from-cluster-2.json')],
    ['v1 full example', local(fixtureObject('exposedapi-v1-full-example.yaml'))],
    [
      'v1beta4 list',
      exposedApi(
        { specification: [{ url: `${specs.url}/tmf639.yaml`, version: 'v5' }] },
        { version: 'v1beta4', name: 'b4' },
      ),
    ],
    [
      'v1beta3 list of URLs',
      exposedApi({ specification: [`${specs.url}/tmf620.json`] }, { version: 'v1beta3', name: 'b3' }),
    ],
    [
      'seed form with inline TMF639 YAML',
      seedExposedApi({ specification: fixtureText('TMF639-Resource_Inventory_Management-v5.0.0.oas.yaml') }),
    ],
    [
      'seed form with inline TMF620 JSON',
      seedExposedApi({ specification: fixtureText('TMF620-ProductCatalog-v4.0.0.swagger.json') }),
    ],
  ];
  for (const [name, object] of forms) {
    const response = await validate(admissionReview(object));
    t.equal(response.allowed, true, name, { status: response.status });
  }
});

t.test('every ExposedAPI the Canvas component operator makes is admitted, blanks named in warnings', async (t) => {
  const component = everyCanvasFormComponent({ specs: specs.url });
  component.metadata.uid = 'c0ffee00-0000-4000-8000-000000000001';
  const children = canvasExposedApis(component);
  t.ok(children.length >= 8, `${children.length} forms`);
  for (const { object } of children) {
    const name = object.metadata.name;
    const mutation = await mutate(admissionReview(object));
    const stored = jsonpatch.applyPatch(structuredClone(object), patchOf(mutation)).newDocument;
    const response = await validate(admissionReview(stored));
    t.equal(response.allowed, true, `${name}: admitted`, { status: response.status });
    if (object.spec.quota) {
      t.ok(
        hasWarning(response, /^spec\.quota\.identifier and spec\.quota\.limit are empty: treated as not set/),
        `${name}: the blank quota is named`,
        { warnings: response.warnings },
      );
      t.ok(hasWarning(response, /^spec\.template is empty/), `${name}: the blank template is named`);
    }
  }
});

t.test('a denial lists every problem with its field', async (t) => {
  await webhook.queue.obliterate({ force: true });
  const object = exposedApi(
    { path: 'no-slash', port: 99999, rateLimit: { enabled: true, limit: 'abc', interval: 'ph' } },
    { name: 'broken' },
  );
  const review = admissionReview(object);
  const response = await validate(review);
  t.equal(response.allowed, false);
  t.equal(response.uid, (review.request as { uid: string }).uid, 'answers the request it was asked');
  t.equal(response.status.code, 422);
  for (const line of [
    'spec.path: must start with "/"',
    'spec.port: must be an integer from 1 to 65535, got 99999',
    'spec.rateLimit.limit: must be a positive whole number of at most 10 digits, got "abc"',
    'spec.rateLimit.interval: must be "ps" or "pm", got "ph"',
  ]) {
    t.ok(response.status.message.includes(line), line);
  }
  t.same(response.status.details.causes.map((c: { field: string }) => c.field).sort(), [
    'spec.path',
    'spec.port',
    'spec.rateLimit.interval',
    'spec.rateLimit.limit',
  ]);
  t.same(await queuedKeys(webhook.queue), [], 'a denied object is not queued');
});

t.test('OpenAPI documents are checked, inline and by URL', async (t) => {
  const broken = JSON.parse(fixtureText('TMF620-ProductCatalog-v4.0.0.swagger.json'));
  delete broken.info;
  const cases: [string, Record<string, any>, RegExp][] = [
    [
      'inline without info',
      seedExposedApi({ specification: JSON.stringify(broken) }),
      /spec\.specification: is not a valid OpenAPI document/,
    ],
    [
      'inline that is not OpenAPI',
      seedExposedApi({ specification: 'hello: world\n' }),
      /spec\.specification: is not a valid OpenAPI document/,
    ],
    [
      'URL of a non-OpenAPI document',
      exposedApi({ specification: { url: `${specs.url}/not-openapi.json` } }),
      /spec\.specification: cannot be used: .*127\.0\.0\.1:\d+\/not-openapi\.json/,
    ],
    [
      'URL that is missing',
      exposedApi({ specification: { url: `${specs.url}/missing.json` } }),
      /cannot be used: .*404/,
    ],
    ['URL that is huge', exposedApi({ specification: { url: `${specs.url}/huge` } }), /cannot be used/],
    [
      'cloud metadata address',
      exposedApi({ specification: { url: 'http://169.254.169.254/metadata/instance' } }),
      /cannot be used/,
    ],
  ];
  for (const [name, object, expected] of cases) {
    const response = await validate(admissionReview(object));
    t.equal(response.allowed, false, `${name}: denied`);
    t.match(response.status?.message, expected, name);
    t.ok((response.status?.message.length ?? 0) < 2000, `${name}: the message stays short`);
  }
});

t.test('a URL that hangs is admitted with a warning inside the API server budget', async (t) => {
  const started = Date.now();
  const response = await validate(
    admissionReview(exposedApi({ specification: { url: `${specs.url}/hang` } }, { name: 'hangs' })),
  );
  t.equal(response.allowed, true);
  t.ok(hasWarning(response, /could not be checked now/), 'warns that the document was not checked', {
    warnings: response.warnings,
  });
  t.ok(Date.now() - started < 10_000, 'answered before the API server gives up');
});

t.test('allowed CREATE queues the key and nothing else; dry runs queue nothing', async (t) => {
  await webhook.queue.obliterate({ force: true });
  const object = local(exposedApi({ specification: { url: '' } }, { name: 'queued' }));
  await validate(admissionReview(object, { dryRun: true }));
  t.same(await queuedKeys(webhook.queue), [], 'dry run');
  await validate(admissionReview(object));
  t.same(await queuedKeys(webhook.queue), ['components/queued']);
  const [job] = await webhook.queue.getJobs(['waiting', 'delayed']);
  t.same(job?.data, { key: 'components/queued' }, 'the job holds only the key');
  await validate(admissionReview(object));
  t.same(await queuedKeys(webhook.queue), ['components/queued'], 'a second admission joins the waiting job');
});

t.test('status-only updates and DELETE pass without spec checks', async (t) => {
  await webhook.queue.obliterate({ force: true });
  const invalid = exposedApi({ path: 'legacy-invalid' }, { name: 'legacy' });
  const withStatus = { ...invalid, status: { apiStatus: { url: 'https://x' } } };
  const statusWrite = await validate(admissionReview(withStatus, { operation: 'UPDATE', oldObject: invalid }));
  t.equal(statusWrite.allowed, true, 'status written through the main resource');
  const subresource = await validate(
    admissionReview(withStatus, { operation: 'UPDATE', oldObject: invalid, subResource: 'status' }),
  );
  t.equal(subresource.allowed, true, 'status subresource');
  t.same(await queuedKeys(webhook.queue), [], "the operator's own status writes queue nothing");
  const deletion = await validate(admissionReview(null, { operation: 'DELETE', oldObject: invalid }));
  t.equal(deletion.allowed, true);
  t.same(await queuedKeys(webhook.queue), ['components/legacy'], 'a DELETE queues the cleanup');
  const specChange = await validate(
    admissionReview({ ...invalid, spec: { ...invalid.spec, port: 0 } }, { operation: 'UPDATE', oldObject: invalid }),
  );
  t.equal(specChange.allowed, false, 'a spec change is checked');
});

t.test('mutation adds the finalizer and the defaults, once', async (t) => {
  const object = exposedApi(
    { rateLimit: { limit: '10' }, CORS: { enabled: true, allowOrigins: 'https://a.com' } },
    { name: 'defaults' },
  );
  const first = await mutate(admissionReview(object));
  t.equal(first.allowed, true);
  t.equal(first.patchType, 'JSONPatch');
  const patch = patchOf(first);
  t.ok(
    patch.some((op) => op.path === '/metadata/finalizers' && op.value.includes(CLEANUP_FINALIZER)),
    'finalizer',
  );
  t.ok(
    patch.some((op) => op.path === '/spec/segment' && op.value === 'coreFunction'),
    'segment',
  );
  t.ok(
    patch.some((op) => op.path === '/spec/rateLimit/interval' && op.value === 'ps'),
    'interval',
  );
  t.ok(
    patch.some((op) => op.path === '/spec/CORS/handlePreflightRequests'),
    'preflight handling',
  );
  const { default: jsonpatch } = await import('fast-json-patch');
  const patched = jsonpatch.applyPatch(structuredClone(object), patch).newDocument;
  const again = await mutate(admissionReview(patched, { operation: 'UPDATE', oldObject: patched }));
  t.equal(again.patch, undefined, 're-admission changes nothing');
  const response = await validate(admissionReview(patched));
  t.ok(hasWarning(response, /no rate limit is applied/), 'the defaulted rate limit is called out');
});

t.test('bad bodies get a 400 and the server stays up', async (t) => {
  const cases: [string, string | object, string?][] = [
    ['not JSON', '{"apiVersion": '],
    ['not an AdmissionReview', { hello: 'world' }],
    [
      'no request uid',
      { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { operation: 'CREATE' } },
    ],
    ['wrong content type', 'x', 'text/plain'],
    ['too large', JSON.stringify({ pad: 'x'.repeat(9 * 1024 * 1024) })],
  ];
  for (const [name, body, type] of cases) {
    const response = await post(webhook.agent, `${webhook.url}/validate`, body, type);
    t.ok(response.status === 400 || response.status === 415, `${name}: ${response.status}`);
    t.notMatch(response.text, /at .*\.ts:\d+/, `${name}: no stack trace`);
  }
  t.equal((await get(webhook.agent, `${webhook.url}/healthz`)).status, 200, 'still serving');
});

t.test('health, readiness and metrics on the same TLS port', async (t) => {
  t.equal((await get(webhook.agent, `${webhook.url}/healthz`)).status, 200);
  const ready = await get(webhook.agent, `${webhook.url}/readyz`);
  t.equal(ready.status, 200);
  t.match(
    JSON.parse(ready.text),
    { status: 'ready', pathConflictCheck: /^off: no Kubernetes access/ },
    'says the path check is off without a cluster',
  );
  const metrics = (await get(webhook.agent, `${webhook.url}/metrics`)).text;
  t.match(
    metrics,
    /apim_operator_webhook_admissions_total\{webhook="validate",operation="CREATE",result="denied"\} [1-9]/,
  );
  t.match(
    metrics,
    /apim_operator_webhook_admissions_total\{webhook="validate",operation="CREATE",result="allowed"\} [1-9]/,
  );
  t.match(metrics, /apim_operator_webhook_admission_duration_seconds_bucket/);
  t.match(metrics, /apim_operator_webhook_spec_fetches_total\{outcome="[a-z-]+"\} [1-9]/);
  t.match(metrics, /apim_operator_webhook_enqueues_total\{result="enqueued"\} [1-9]/);
});
