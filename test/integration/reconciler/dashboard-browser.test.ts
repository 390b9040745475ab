import t from 'tap';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import { chromium, type Page } from 'playwright-core';
import { buildLocalDashboardApp } from '../../../reconciler/admin.ts';
import { startReconciler } from '../../../reconciler/server.ts';
import { apiIdFor } from '../../../reconciler/render/api-id.ts';
import { RECONCILE_QUEUE } from '../../../shared/jobs.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { dashboardSecret } from '../../helpers/test-secrets.ts';
import { startReconcilerEnvironment } from '../../helpers/reconciler-env.ts';
import { exposedApi } from '../../helpers/resources.ts';
import { REDIS_URL } from '../../helpers/webhook.ts';

/** Debian's chromium: never a browser download. */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const NS = 'components';
const PASSWORD = dashboardSecret('correct horse battery');

/** A job card's actions are icon buttons named only by a tooltip: hover each unlabelled one until the tooltip says `label`. */
async function pressJobAction(page: Page, label: string): Promise<void> {
  const buttons = page.locator('button:not([role="tab"]):not([title]):not([aria-haspopup])');
  for (let i = 0; i < (await buttons.count()); i++) {
    const button = buttons.nth(i);
    if ((await button.innerText()).trim() !== '') continue;
    await button.hover();
    const tip = page.getByText(label, { exact: true });
    // A bounded look for the tooltip, not a timing assertion: without it the next button is tried.
    if (
      await tip.waitFor({ timeout: 2000 }).then(
        () => true,
        () => false,
      )
    ) {
      await button.click();
      return;
    }
  }
  throw new Error(`no job action "${label}" on the page`);
}

const skip =
  !existsSync(CHROMIUM) && process.env.CI !== 'true'
    ? `${CHROMIUM} is missing: apt-get install -y chromium (in CI this test fails instead)`
    : false;
{
  t.test(
    'the queue dashboard in a browser: keys, attempts, classified errors, retry, 401, read-only',
    { skip },
    async (t) => {
      t.ok(existsSync(CHROMIUM), `${CHROMIUM} is installed (.ci/run installs it)`);
      const dir = mkdtempSync(join(tmpdir(), 'apim-dashboard-'));
      writeFileSync(join(dir, 'password'), `${PASSWORD}\n`);
      const world = await startReconcilerEnvironment();
      const base = {
        ...world.env,
        DASHBOARD_USERNAME: 'ops',
        DASHBOARD_PASSWORD_FILE: join(dir, 'password'),
        // A retrying job waits long enough to be looked at: it runs again only when promoted.
        BACKOFF_BASE_MS: '600000',
        BACKOFF_MAX_MS: '600000',
      };
      const reconciler = await startReconciler(base, testLogger());
      const queue = new Queue(RECONCILE_QUEUE, {
        connection: { url: REDIS_URL } as never,
        prefix: world.env.QUEUE_PREFIX,
      });
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      t.teardown(async () => {
        await browser.close();
        await reconciler.close(1000);
        await queue.close();
        await world.close();
      });
      const custom = world.kube.kubeconfig().makeApiClient(CustomObjectsApi);
      const create = async (name: string, spec: Record<string, unknown>) => {
        const body = exposedApi({ path: `/${name}/v1`, ...spec }, { name });
        await custom.createNamespacedCustomObject({
          group: 'oda.tmforum.org',
          version: 'v1',
          namespace: NS,
          plural: 'exposedapis',
          body,
        });
        await world.giveAddress(NS, name);
      };
      const jobOf = async (key: string, states: ('failed' | 'delayed' | 'completed')[]) =>
        (await queue.getJobs(states)).find((j) => j?.data.key === key);
      const until = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
        for (let i = 0; i < 1200; i++) {
          const found = await probe();
          if (found !== undefined) return found;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`timed out waiting for ${what}`);
      };

      // 1. One permanent failure (a document that is not OpenAPI), one that keeps retrying (APIM 503 on every PUT).
      const retryingApi = apiIdFor(NS, 'flaky-apim');
      world.azure.arm.failNext({ method: 'PUT', path: new RegExp(`^apis/${retryingApi}$`) }, 503, { times: 10_000 });
      await create('broken-spec', { specification: { url: `${world.specs.url}/not-openapi.json`, version: 'v1' } });
      await create('flaky-apim', { specification: { url: `${world.specs.url}/tmf620.json`, version: 'v4.0.0' } });
      const failed = await until('the permanent failure', () => jobOf(`${NS}/broken-spec`, ['failed']));
      const retrying = await until('the retrying job', async () => {
        const job = await jobOf(`${NS}/flaky-apim`, ['delayed']);
        return job?.failedReason ? job : undefined;
      });

      // 2. Log in: basic auth through the browser context.
      const context = await browser.newContext({
        httpCredentials: { username: 'ops', password: PASSWORD },
      });
      const page = await context.newPage();
      const board = `${reconciler.dashboardUrl}/queue/${RECONCILE_QUEUE}`;

      // 3. Both jobs, with their keys, attempts and classified errors.
      await page.goto(`${board}?status=failed`);
      await page.getByText(`reconcile ${NS}/broken-spec`).waitFor();
      const permanentReason = failed.failedReason.split(':')[0]!;
      t.notOk(permanentReason === 'RetryingAfterError', `a permanent reason: ${permanentReason}`);
      await page
        .getByText(new RegExp(`${permanentReason}: .*spec`, 'i'))
        .first()
        .waitFor();
      await page.screenshot({ path: join(dir, 'failed.png'), fullPage: true });

      await page.goto(`${board}?status=delayed`);
      await page.getByText(`reconcile ${NS}/flaky-apim`).waitFor();
      await page
        .getByText(/RetryingAfterError: .*(503|unavailable)/i)
        .first()
        .waitFor();
      await page.screenshot({ path: join(dir, 'retrying.png'), fullPage: true });
      await page
        .getByText(/Will run at/i)
        .first()
        .waitFor();
      t.equal(retrying.attemptsMade, 1, 'one attempt so far (bull-board shows the count from the second on)');
      t.pass(`screenshots in ${dir}`);

      // 4. Retry the failed one from its card: it runs again.
      await page.goto(`${board}?status=failed`);
      await page.getByText(`reconcile ${NS}/broken-spec`).waitFor();
      await pressJobAction(page, 'Retry');
      const rerun = await until('the retried job to run again', async () => {
        const job = await jobOf(`${NS}/broken-spec`, ['completed', 'failed']);
        return job && (job.finishedOn ?? 0) > (failed.finishedOn ?? 0) ? job : undefined;
      });
      t.ok(rerun.processedOn! > failed.finishedOn!, 'the retried job ran after its failure');

      // 5. Without the credential: 401 with a challenge (headless chromium then refuses to show the page at all).
      const anonymous = await browser.newContext();
      await t.rejects(
        anonymous.newPage().then((p) => p.goto(reconciler.dashboardUrl)),
        /ERR_INVALID_AUTH_CREDENTIALS/,
      );
      const refused = await anonymous.request.get(reconciler.dashboardUrl);
      t.equal(refused.status(), 401);
      t.match(refused.headers()['www-authenticate'], /^Basic realm=/);
      const wrong = await browser.newContext({ httpCredentials: { username: 'ops', password: 'wrong' } });
      t.equal((await wrong.request.get(reconciler.dashboardUrl)).status(), 401, 'a wrong password');
      t.equal((await fetch(`${reconciler.dashboardUrl}/api/queues`)).status, 401);
      await Promise.all([anonymous.close(), wrong.close()]);

      // 6. Read-only: the same queue on a read-only board shows no actions, and its API refuses them.
      const readOnly = await buildLocalDashboardApp({ log: testLogger(), queue, readOnly: true });
      t.teardown(() => readOnly.close());
      const readOnlyBoard = `${await readOnly.listen({ host: '127.0.0.1', port: 0 })}/queues`;
      await page.goto(`${readOnlyBoard}/queue/${RECONCILE_QUEUE}?status=completed`);
      await page.getByText(`reconcile ${NS}/broken-spec`).first().waitFor();
      await page.getByText('read-only').first().waitFor();
      t.equal(await page.getByText(/^(Retry all|Clean all|Promote all)$/).count(), 0, 'no queue actions');
      await t.rejects(pressJobAction(page, 'Retry'), /no job action "Retry"/, 'no retry on a job');
      await page.screenshot({ path: join(dir, 'read-only.png'), fullPage: true });
      const put = await context.request.put(`${readOnlyBoard}/api/queues/${RECONCILE_QUEUE}/${rerun.id}/clean`);
      t.equal(put.status(), 405, 'the API refuses to clean');
    },
  );
}
