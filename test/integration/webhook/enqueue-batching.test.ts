import t from 'tap';
import { admissionReview, get, post } from '../../helpers/admission.ts';
import { exposedApi } from '../../helpers/resources.ts';
import { ownRedis } from '../../helpers/redis-server.ts';
import { queuedKeys, startTestWebhook, type TestWebhook } from '../../helpers/webhook.ts';
import { createLogger } from '../../../shared/log.ts';

const metricValue = (text: string, name: string): number =>
  Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
const metrics = async (webhook: TestWebhook): Promise<string> =>
  (await get(webhook.agent, `${webhook.url}/metrics`)).text;
const validate = async (webhook: TestWebhook, name: string, options: { dryRun?: boolean } = {}) =>
  (await post(webhook.agent, `${webhook.url}/validate`, admissionReview(exposedApi({}, { name }), options))).json
    .response;

/** Waits until the producer's connection is up: with no offline queue, an admission before that is admitted unqueued. */
async function queueReady(webhook: TestWebhook): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (JSON.parse((await get(webhook.agent, `${webhook.url}/readyz`)).text).queue === 'ready') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the webhook did not connect to Redis');
}

const KEYS = Array.from({ length: 50 }, (_, i) => `burst-${i}`);
/** 200 admissions at once, four of each of 50 resources, interleaved. */
const burst = (webhook: TestWebhook, options: { dryRun?: boolean } = {}) =>
  Promise.all(Array.from({ length: 200 }, (_, i) => validate(webhook, KEYS[i % KEYS.length] ?? '', options)));

for (const delayMs of ['0', '60000'])
  t.test(
    `200 concurrent admissions of 50 resources queue exactly 50 jobs, dry runs none (delay ${delayMs} ms)`,
    async (t) => {
      // The wait for Redis at its longest: this busy burst is about deduplication, not about the bound.
      const webhook = await startTestWebhook({ ENQUEUE_DELAY_MS: delayMs, ENQUEUE_TIMEOUT_MS: '5000' });
      t.teardown(() => webhook.close());
      await queueReady(webhook);
      t.ok(
        (await burst(webhook, { dryRun: true })).every((r) => r.allowed === true),
        'dry runs allowed',
      );
      t.same(await queuedKeys(webhook.queue), [], 'dry runs queue nothing');
      t.notMatch(
        await metrics(webhook),
        /apim_operator_webhook_enqueues_total\{/,
        'no enqueue attempted for a dry run',
      );
      const responses = await burst(webhook);
      t.ok(
        responses.every((r) => r.allowed === true),
        'all allowed',
      );
      const jobs = await webhook.queue.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
      t.equal(jobs.length, 50, 'one job per key');
      t.same(await queuedKeys(webhook.queue), KEYS.map((name) => `components/${name}`).sort());
      const text = await metrics(webhook);
      t.equal(metricValue(text, 'apim_operator_webhook_enqueue_failures_total'), 0, 'no lost enqueue');
      // A second burst meets the jobs of the first in Redis: still one per key.
      await burst(webhook);
      t.equal((await webhook.queue.getJobs(['waiting', 'delayed', 'active', 'prioritized'])).length, 50);
    },
  );

t.test('Redis that hangs mid-batch: admissions answer within the bound, say so, and queueing resumes', async (t) => {
  const redis = await ownRedis();
  const lines: string[] = [];
  const log = createLogger('test', 'warn', { write: (line: string) => void lines.push(line) });
  const webhook = await startTestWebhook({ REDIS_URL: redis.url, ENQUEUE_TIMEOUT_MS: '300' }, { log });
  t.teardown(async () => {
    await webhook.close();
    await redis.stop();
  });
  t.equal((await validate(webhook, 'before')).allowed, true);
  t.same(await queuedKeys(webhook.queue), ['components/before'], 'queued while Redis answers');

  redis.freeze();
  const started = Date.now();
  const responses = await Promise.all(KEYS.map((name) => validate(webhook, name)));
  t.ok(
    responses.every((r) => r.allowed === true),
    'all allowed with Redis hung',
  );
  t.ok(Date.now() - started < 10_000, 'answered before the API server gives up');
  const text = await metrics(webhook);
  t.equal(metricValue(text, 'apim_operator_webhook_enqueue_failures_total'), 50, 'every lost enqueue counted');
  const warned = lines.filter((line) => line.includes('Admitted without queueing'));
  t.equal(warned.length, 50, 'one warning per admission');
  t.ok(
    warned.every((line) => /"resource":"components\/burst-\d+"/.test(line)),
    'each names its resource',
  );

  await redis.stop();
  await redis.start();
  let resumed = false;
  // The producer reconnects on its own; wait for it rather than for a fixed time.
  for (let i = 0; i < 300 && !resumed; i++) {
    await validate(webhook, 'after');
    resumed = (await queuedKeys(webhook.queue).catch((): string[] => [])).includes('components/after');
    if (!resumed) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(resumed, 'queueing resumes once Redis is back');
});
