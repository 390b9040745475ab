import t from 'tap';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { freePort } from '../../helpers/redis-server.ts';
import { childEnv, helpers, NS, spawnReconciler, until, type Spawned } from '../../helpers/reconciler-process.ts';

t.test('the process: production paths, admin port, graceful SIGTERM, a second process finishes the key', async (t) => {
  const world = await startReconcilerEnvironment();
  const spawned: Spawned[] = [];
  t.teardown(async () => {
    for (const s of spawned)
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGKILL');
        await s.exited;
      }
    await world.close();
  });
  const { kube, azure } = world;
  const h = helpers(world);
  const port = await freePort();
  const admin = `http://127.0.0.1:${port}`;
  const first = spawnReconciler(childEnv(world, { ADMIN_PORT: String(port), SHUTDOWN_GRACE_SECONDS: '1' }));
  spawned.push(first);
  const get = async (path: string) => {
    const response = await fetch(admin + path);
    return { status: response.status, text: await response.text() };
  };

  await t.test('admin endpoints answer; an ExposedAPI becomes Ready', async (t) => {
    t.equal(
      await until('healthz', async () => (await get('/healthz')).status === 200 || undefined),
      true,
      '/healthz 200',
    );
    await until('readyz 200 once synced', async () => ((await get('/readyz')).status === 200 ? true : undefined));
    t.pass('/readyz 200');
    await h.create('process-made');
    await world.giveAddress(NS, 'process-made');
    await kube.waitFor(() => h.isReady('process-made'), 60_000);
    t.ok(azure.arm.state().apis[apiIdFor(NS, 'process-made')], 'published by the process');
    const metrics = await until('reconcile counted', async () => {
      const { text } = await get('/metrics');
      return /apim_operator_reconciles_total\{[^}]*\} [1-9]/.test(text) ? text : undefined;
    });
    t.match(metrics, /apim_operator_calls_total\{[^}]*service="apim"/);
    // No dashboard credential: the dashboard is on the loopback listener only, not on the admin port.
    const queues = await get('/queues');
    t.equal(queues.status, 404, '/queues is not on the admin port');
    t.match(queues.text, /127\.0\.0\.1 only.*port-forward/);
  });

  await t.test('SIGTERM during a slow reconcile exits 0; a second process finishes the key', async (t) => {
    const name = 'slow-at-shutdown';
    const apiId = apiIdFor(NS, name);
    await h.create(name);
    await kube.waitFor(() => h.ready(name)?.reason === 'WaitingForIngressAddress', 60_000);
    // Only the first process's PUT is slow: outlasting the grace, it cannot be what makes the key Ready.
    const inFlight = h.slowPuts(3000, [apiId], true);
    await world.giveAddress(NS, name);
    await kube.waitFor(() => inFlight.has(apiId), 60_000);
    const signalled = Date.now();
    first.child.kill('SIGTERM');
    const code = await Promise.race([first.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
    t.equal(code, 0, 'exit code 0', { output: first.output().slice(-3000) });
    t.match(first.output(), /Handed a running reconcile back/, 'the running job was handed back');
    t.comment(`first process exited ${Date.now() - signalled} ms after SIGTERM`);
    const secondPort = await freePort();
    const second = spawnReconciler(childEnv(world, { ADMIN_PORT: String(secondPort) }));
    spawned.push(second);
    const started = Date.now();
    await kube
      .waitFor(() => h.isReady(name), 60_000)
      .catch((error: unknown) => {
        t.fail(String(error), { output: second.output().slice(-3000) });
      });
    t.comment(`second process finished the key ${Date.now() - started} ms after it started`);
    t.ok(azure.arm.state().apis[apiId], 'the API is in APIM');
    await until(
      'the second process logs its status write',
      async () => (/"resource":"components\/slow-at-shutdown".*"ready":true/.test(second.output()) ? true : undefined),
      10_000,
    ).then(
      () => t.pass('the second process wrote the Ready status'),
      (error: unknown) => t.fail(String(error), { output: second.output().slice(-3000) }),
    );
    await until('second /readyz', async () =>
      (await fetch(`http://127.0.0.1:${secondPort}/readyz`)).status === 200 ? true : undefined,
    );
    second.child.kill('SIGTERM');
    t.equal(await second.exited, 0);
  });
});

t.test('a missing configuration value stops the process with one line naming it', async (t) => {
  const world = await startReconcilerEnvironment();
  t.teardown(() => world.close());
  world.azure.vault.deleteSecret('apim-service-name');
  const run = spawnReconciler(childEnv(world, { ADMIN_PORT: '0' }));
  const code = await Promise.race([run.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
  if (code === 'hung') run.child.kill('SIGKILL');
  const output = run.output();
  t.not(code, 0, 'exits non-zero', { output });
  t.not(code, 'hung', 'exits by itself');
  const lines = output.split('\n').filter((l) => l.trim().length > 0);
  const fatal = lines.filter((l) => l.includes('APIM_SERVICE_NAME') && l.includes('apim-service-name'));
  t.equal(fatal.length, 1, 'one line names the env override and the Key Vault secret', { output });
  t.notMatch(output, /\n\s+at .+:\d+:\d+/, 'no stack trace');
  t.notMatch(output, /"stack"/, 'no stack in the log line');
});
