import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import { apiIdFor } from '../reconciler/render/api-id.ts';
import { admissionReview, get, patchOf, post, trustingAgent } from '../test/helpers/admission.ts';
import { makeCerts } from '../test/helpers/certs.ts';
import { startReconcilerEnvironment } from '../test/helpers/reconciler-env.ts';
import { freePort } from '../test/helpers/redis-server.ts';
import { exposedApi, fixtureObject } from '../test/helpers/resources.ts';

/**
 * `npm run demo`: the webhook and the reconciler, as real child processes,
 * against local stand-ins for Kubernetes, Entra ID, Key Vault, ARM (APIM) and
 * a spec server. Needs only Node and a Redis (REDIS_URL, default
 * 127.0.0.1:6379). `--keep` leaves everything running until Ctrl-C.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (s: string) => console.log(`\n${bold(`== ${s}`)}`);
const indent = (s: string) =>
  s
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), 'apim-demo-'));
const children: { name: string; child: ChildProcess; log: string }[] = [];
let closing: Promise<void> | undefined;
let world: Awaited<ReturnType<typeof startReconcilerEnvironment>> | undefined;

function startChild(name: string, script: string, env: Record<string, string>): ChildProcess {
  const log = join(work, `${name}.log`);
  const out = createWriteStream(log);
  const child = spawn(process.execPath, [join(root, script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  child.once('exit', (code, signal) => {
    if (!closing) {
      console.error(
        `\n${name} exited unexpectedly (${signal ?? code}); its log (${log}):\n${readFileSync(log, 'utf8').split('\n').slice(-20).join('\n')}`,
      );
      void shutdown(1);
    }
  });
  children.push({ name, child, log });
  return child;
}

async function shutdown(code: number): Promise<void> {
  closing ??= (async () => {
    await Promise.all(
      children.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
    await world?.close().catch(() => undefined); // also removes the demo's queue from Redis
  })();
  await closing;
  process.exit(code);
}
process.once('SIGINT', () => {
  console.log('\nStopping...');
  void shutdown(0);
});
process.once('SIGTERM', () => void shutdown(0));
// Whatever happens, no child outlives the demo.
process.on('exit', () => {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

async function waitUntil(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function main(): Promise<void> {
  step(
    'Starting the stand-ins: Kubernetes API, Entra ID, Key Vault (APIM settings as secrets), ARM/APIM, a spec server',
  );
  world = await startReconcilerEnvironment();
  const { kube, azure } = world;
  console.log(
    indent(
      [
        `Kubernetes API   ${kube.url}`,
        `ARM (APIM)       ${azure.arm.url}`,
        `Key Vault        ${azure.vault.url}`,
        `Entra ID         ${azure.entra.url}`,
        `OpenAPI specs    ${world.specs.url}/tmf620.json`,
        `Redis            ${world.env.REDIS_URL} (queue prefix ${world.env.QUEUE_PREFIX})`,
        `child logs       ${work}`,
      ].join('\n'),
    ),
  );

  step('Starting the webhook (webhook/main.ts) and the reconciler (reconciler/main.ts) as child processes');
  const certs = makeCerts('apim-operator-webhook', join(work, 'certs'));
  const webhookPort = await freePort();
  const adminPort = await freePort();
  const webhookUrl = `https://127.0.0.1:${webhookPort}`;
  // A throwaway dashboard password, as a mounted Secret would hold it.
  const dashboardPassword = randomBytes(12).toString('base64url');
  writeFileSync(join(work, 'dashboard-password'), `${dashboardPassword}\n`, { mode: 0o600 });
  const common = {
    REDIS_URL: world.env.REDIS_URL!,
    QUEUE_PREFIX: world.env.QUEUE_PREFIX!,
    KUBECONFIG: world.env.KUBECONFIG!,
    NO_PROXY: '127.0.0.1,localhost',
    LOG_LEVEL: 'info',
  };
  startChild('webhook', 'webhook/main.ts', {
    ...common,
    WEBHOOK_PORT: String(webhookPort),
    WEBHOOK_HOST: '127.0.0.1',
    WEBHOOK_TLS_CERT: certs.certFile,
    WEBHOOK_TLS_KEY: certs.keyFile,
    ENQUEUE_DELAY_MS: '200',
  });
  startChild('reconciler', 'reconciler/main.ts', {
    ...world.env,
    ...common,
    NODE_EXTRA_CA_CERTS: azure.caFile,
    ADMIN_PORT: String(adminPort),
    ADMIN_HOST: '127.0.0.1',
    APIM_POLL_INTERVAL_MS: '50',
    DASHBOARD_USERNAME: 'demo',
    DASHBOARD_PASSWORD_FILE: join(work, 'dashboard-password'),
    // Slow enough to watch a retrying job on the dashboard.
    BACKOFF_BASE_MS: '2000',
    BACKOFF_MAX_MS: '30000',
  });
  const agent = trustingAgent(certs.ca);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitUntil(
    'the webhook',
    async () => (await get(agent, `${webhookUrl}/healthz`).catch(() => ({ status: 0 }))).status === 200,
  );
  await waitUntil(
    'the reconciler',
    async () => (await fetch(`${adminUrl}/readyz`).catch(() => undefined))?.status === 200,
  );
  console.log(
    indent(
      `webhook    ${webhookUrl}/validate, /mutate (certificates from certs/generate.sh in ${certs.dir})\nreconciler ${adminUrl}/readyz`,
    ),
  );

  step('1. An invalid ExposedAPI is denied by POST /validate, with every problem at once');
  const invalid = exposedApi({
    path: 'r1/productcatalog',
    port: 80800,
    rateLimit: { enabled: true, limit: 'abc', interval: 'ph' },
    CORS: { enabled: true, allowCredentials: true },
  });
  const denied = await post(agent, `${webhookUrl}/validate`, admissionReview(invalid));
  console.log(indent(`allowed: ${denied.json.response.allowed}\n${denied.json.response.status?.message ?? ''}`));

  const doubtful = exposedApi({ rateLimit: { limit: '10' } }, { version: 'v1beta3', name: 'r1-doubtful' });
  const admitted = await post(agent, `${webhookUrl}/validate`, admissionReview(doubtful));
  console.log(
    indent(
      `\nDoubtful input is admitted with warnings (kubectl prints them), e.g. a v1beta3 object with a rate limit not enabled:\nallowed: ${admitted.json.response.allowed}\n${(admitted.json.response.warnings ?? []).map((w: string) => `Warning: ${w}`).join('\n')}`,
    ),
  );

  step(
    '2. The Canvas v1 full example (../shared/fixtures/oda/exposedapi-v1-full-example.yaml) through /mutate and /validate',
  );
  const full = fixtureObject('exposedapi-v1-full-example.yaml');
  full.spec.specification.url = `${world.specs.url}/tmf620.json`; // served locally instead of GitHub
  const mutated = await post(agent, `${webhookUrl}/mutate`, admissionReview(full));
  const ops = patchOf(mutated.json.response);
  console.log(
    indent(
      `mutate: allowed ${mutated.json.response.allowed}, ${ops.length} patch operation(s):\n${ops.map((op: any) => `  ${op.op} ${op.path} ${JSON.stringify(op.value ?? '')}`).join('\n')}`,
    ),
  );
  const object = jsonpatch.applyPatch(structuredClone(full), ops, false, false).newDocument as Record<string, any>;
  const validated = await post(agent, `${webhookUrl}/validate`, admissionReview(object));
  const warnings: string[] = [...(mutated.json.response.warnings ?? []), ...(validated.json.response.warnings ?? [])];
  console.log(
    indent(
      `validate: allowed ${validated.json.response.allowed}\nwarnings: ${warnings.length === 0 ? '(none)' : `\n${warnings.map((w) => `  Warning: ${w}`).join('\n')}`}`,
    ),
  );

  step(
    '3. Create the mutated object in the Kubernetes stand-in; the reconciler makes the Ingress and waits for its address',
  );
  const custom = kube.kubeconfig().makeApiClient(CustomObjectsApi);
  const namespace = 'components';
  const name = object.metadata.name as string;
  const ref = { group: 'oda.tmforum.org', version: 'v1', namespace, plural: 'exposedapis', name };
  const status = (): any => (kube.get('exposedapis', namespace, name) as any)?.status;
  azure.arm.resetLog();
  await custom.createNamespacedCustomObject({
    group: ref.group,
    version: ref.version,
    namespace,
    plural: ref.plural,
    body: object,
  });
  await kube.waitFor(
    () => status()?.conditions?.find((c: any) => c.type === 'Ready')?.reason === 'WaitingForIngressAddress',
    30_000,
  );
  const ingress: any = kube.get('ingresses', namespace, name);
  console.log(
    indent(
      `Ingress ${namespace}/${name}: class ${ingress.spec.ingressClassName}, path ${ingress.spec.rules[0].http.paths[0].path} -> service ${ingress.spec.rules[0].http.paths[0].backend.service.name}:${ingress.spec.rules[0].http.paths[0].backend.service.port.number}`,
    ),
  );
  console.log(indent(`Ready condition: ${JSON.stringify(status().conditions.find((c: any) => c.type === 'Ready'))}`));

  step('4. The ingress controller gives the Ingress an address; the reconciler publishes the API to APIM');
  await world.giveAddress(namespace, name, '10.0.0.9');
  await kube.waitFor(() => status()?.implementation?.ready === true, 60_000);
  const s = status();
  console.log(
    indent(
      `status (what the Canvas component operator reads):\n${JSON.stringify({ implementation: s.implementation, apiStatus: s.apiStatus, observedGeneration: s.observedGeneration, conditions: s.conditions }, null, 2)}`,
    ),
  );
  const apiId = apiIdFor(namespace, name);
  const api: any = azure.arm.state().apis[apiId]?.properties;
  console.log(
    indent(
      `APIM API ${apiId}:\n${JSON.stringify({ displayName: api.displayName, path: api.path, serviceUrl: api.serviceUrl, protocols: api.protocols, subscriptionRequired: api.subscriptionRequired, description: api.description }, null, 2)}`,
    ),
  );
  console.log(indent(`APIM policy XML:\n${azure.arm.state().policies[apiId] ?? '(none)'}`));
  console.log(indent(`APIM calls for this publication: ${JSON.stringify(azure.arm.calls())}`));

  step('5. Change the rate limit from 100 to 7 calls: only the policy is rewritten');
  await waitUntil('the queue to be idle', async () => {
    await world!.idle();
    return true;
  });
  azure.arm.resetLog();
  await custom.patchNamespacedCustomObject({ ...ref, body: { spec: { rateLimit: { limit: '7' } } } }, merge);
  await kube.waitFor(() => /calls="7"/.test(azure.arm.state().policies[apiId] ?? ''), 30_000);
  await world.idle();
  // POST .../listSecrets is an ARM action that reads the subscription key for the status Secret: not a write.
  const writes = azure.arm.requests.filter(
    (r) => !['GET', 'HEAD'].includes(r.method) && !r.path.endsWith('/listSecrets'),
  );
  console.log(indent(`APIM writes: ${writes.map((r) => `${r.method} ${r.path}`).join(', ')}`));
  console.log(
    indent(
      `APIM reads:  ${azure.arm.requests.length - writes.length} (GETs, and POST listSecrets, which reads the subscription key)`,
    ),
  );
  console.log(
    indent(`rate-limit now: ${/<rate-limit-by-key[^>]*>/.exec(azure.arm.state().policies[apiId] ?? '')?.[0] ?? '?'}`),
  );

  step('6. Delete the ExposedAPI: the finalizer lets the reconciler remove the APIM API and the Ingress first');
  azure.arm.resetLog();
  await custom.deleteNamespacedCustomObject(ref);
  await kube.waitFor(() => kube.get('exposedapis', namespace, name) === undefined, 30_000);
  console.log(
    indent(
      [
        `APIM calls: ${azure.arm.requests
          .filter((r) => r.method === 'DELETE')
          .map((r) => `${r.method} ${r.path}`)
          .join(', ')}`,
        `APIM API present: ${azure.arm.state().apis[apiId] !== undefined}`,
        `Ingress present:  ${kube.get('ingresses', namespace, name) !== undefined}`,
        `ExposedAPI present: false (finalizer removed)`,
      ].join('\n'),
    ),
  );

  step('7. An API that keeps retrying: APIM answers 503 to its every PUT');
  const retrying = 'demo-retrying';
  const retryingId = apiIdFor(namespace, retrying);
  azure.arm.failNext({ method: 'PUT', path: new RegExp(`^apis/${retryingId}$`) }, 503, { times: 1_000_000 });
  await custom.createNamespacedCustomObject({
    group: ref.group,
    version: ref.version,
    namespace,
    plural: ref.plural,
    body: exposedApi(
      { path: '/demo/retrying/v1', specification: { url: `${world.specs.url}/tmf620.json`, version: 'v4.0.0' } },
      { name: retrying },
    ),
  });
  await world.giveAddress(namespace, retrying);
  const retryingStatus = (): any => (kube.get('exposedapis', namespace, retrying) as any)?.status;
  await kube.waitFor(() => retryingStatus()?.retry?.attempts >= 1, 60_000);
  const dashboard = `${adminUrl}/queues/queue/exposedapi-reconcile?status=delayed`;
  const authorization = `Basic ${Buffer.from(`demo:${dashboardPassword}`).toString('base64')}`;
  const refused = await fetch(dashboard);
  const allowed = await fetch(dashboard, { headers: { authorization } });
  console.log(
    indent(
      [
        `status.retry: ${JSON.stringify(retryingStatus().retry)}`,
        `Ready: ${JSON.stringify(retryingStatus().conditions.find((c: any) => c.type === 'Ready')?.reason)}`,
        `dashboard ${dashboard}`,
        `  user demo, password ${dashboardPassword} (throwaway, in ${join(work, 'dashboard-password')})`,
        `  without it: ${refused.status} (${refused.headers.get('www-authenticate')}); with it: ${allowed.status}`,
      ].join('\n'),
    ),
  );
  if (refused.status !== 401 || allowed.status !== 200) throw new Error('the dashboard did not require its credential');

  step('Reconciler admin endpoints');
  const metrics = await (await fetch(`${adminUrl}/metrics`)).text();
  console.log(
    indent(
      [
        `${adminUrl}/metrics   (Prometheus), e.g.:`,
        ...metrics
          .split('\n')
          .filter((l) => l.startsWith('apim_operator_reconciles_total'))
          .map((l) => `  ${l}`),
        `${adminUrl}/queues/   (BullMQ dashboard: user demo, password ${dashboardPassword})`,
        `${adminUrl}/healthz, ${adminUrl}/readyz`,
        `webhook: ${webhookUrl}/metrics (CA ${certs.caFile})`,
      ].join('\n'),
    ),
  );

  if (keep) {
    console.log(`\nEverything keeps running; open the URLs above. Ctrl-C stops the children and removes the queue.`);
    console.log(`KUBECONFIG=${world.env.KUBECONFIG} reaches the Kubernetes stand-in.`);
    await agent.close();
    return;
  }
  await agent.close();
  console.log('\nDemo complete.');
  await shutdown(0);
}

main().catch(async (error: unknown) => {
  console.error(`\nDemo failed: ${error instanceof Error ? error.message : String(error)}`);
  for (const { name, log } of children)
    console.error(
      `--- last lines of ${name} (${log}) ---\n${readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}`,
    );
  await shutdown(1);
});
