import t from 'tap';
import type { Socket } from 'node:net';
import { admissionReview, get, post } from '../../helpers/admission.ts';
import { exposedApi } from '../../helpers/resources.ts';
import { ownRedis } from '../../helpers/redis-server.ts';
import { queuedKeys, startTestWebhook } from '../../helpers/webhook.ts';

const metricValue = (text: string, name: string): number =>
  Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);

t.test('Redis down: admission still answers, allows, and counts the lost enqueue', async (t) => {
  const redis = await ownRedis();
  const webhook = await startTestWebhook({ REDIS_URL: redis.url, ENQUEUE_TIMEOUT_MS: '200' });
  t.teardown(async () => {
    await webhook.close();
    await redis.stop();
  });
  const validate = async (name: string) =>
    (await post(webhook.agent, `${webhook.url}/validate`, admissionReview(exposedApi({}, { name })))).json.response;

  t.equal((await validate('before')).allowed, true);
  t.same(await queuedKeys(webhook.queue), ['components/before'], 'queued while Redis is up');

  await redis.stop();
  for (const name of ['during-1', 'during-2'])
    t.equal((await validate(name)).allowed, true, `${name}: allowed with Redis down`);
  const metrics = (await get(webhook.agent, `${webhook.url}/metrics`)).text;
  t.equal(metricValue(metrics, 'apim_operator_webhook_enqueue_failures_total'), 2, 'both lost enqueues counted');
  t.equal((await get(webhook.agent, `${webhook.url}/readyz`)).status, 200, 'readiness does not depend on Redis');

  await redis.start();
  let allowedAfter = false;
  // The producer reconnects on its own; wait for it rather than for a fixed time.
  for (let i = 0; i < 100 && !allowedAfter; i++) {
    await validate('after');
    allowedAfter = (await queuedKeys(webhook.queue).catch((): string[] => [])).includes('components/after');
    if (!allowedAfter) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(allowedAfter, 'queueing resumes once Redis is back');
});

t.test('Redis that never answers: the wait is bounded', async (t) => {
  const { createServer } = await import('node:net');
  const sockets = new Set<Socket>();
  const blackhole = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
  const port = (blackhole.address() as { port: number }).port;
  const webhook = await startTestWebhook({ REDIS_URL: `redis://127.0.0.1:${port}`, ENQUEUE_TIMEOUT_MS: '100' }, {});
  t.teardown(async () => {
    await webhook.close();
    for (const socket of sockets) socket.destroy();
    blackhole.close();
  });
  const response = (
    await post(webhook.agent, `${webhook.url}/validate`, admissionReview(exposedApi({}, { name: 'silent' })))
  ).json.response;
  t.equal(response.allowed, true);
  const metrics = (await get(webhook.agent, `${webhook.url}/metrics`)).text;
  t.match(metrics, /apim_operator_webhook_enqueues_total\{result="(timeout|failed)"\} 1/);
});
