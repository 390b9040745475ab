/** The whole operator (reconciler and webhook, in this process) against one set of stand-ins, for fault tests. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { apiIdFor } from '../../reconciler/render/api-id.ts';
import { startReconciler } from '../../reconciler/server.ts';
import { createLogger } from '../../shared/log.ts';
import { testLogger } from './scan-recording.ts';
import type { RequestRecord } from '../fakes/kube-api-server.ts';
import { admissionReview, get, post } from './admission.ts';
import { RECONCILER_TOKEN, startReconcilerEnvironment } from './reconciler-env.ts';
import { helpers, NS } from './reconciler-process.ts';
import { exposedApi } from './resources.ts';
import { startTestWebhook } from './webhook.ts';

export const WEBHOOK_TOKEN = 'apim-operator-webhook';
export const EXPOSED_APIS = 'exposedapis.oda.tmforum.org';
/** Generous: a busy 2-core machine, and after an outage the informers' restart backoff (up to 30 s). */
export const LONG = 120_000;

/** The reconciler and the webhook against one set of stand-ins; everything ends with the test. */
export async function operator(t: { teardown(fn: () => unknown): void }) {
  const world = await startReconcilerEnvironment();
  const level = process.env.TEST_LOG_LEVEL;
  const reconciler = await startReconciler(
    { ...world.env, RESYNC_INTERVAL_SECONDS: '86400' },
    level ? createLogger('reconciler', level) : testLogger('reconciler'),
  );
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'apim-kube-')), 'config');
  writeFileSync(kubeconfig, world.kube.kubeconfigYaml(WEBHOOK_TOKEN));
  const webhook = await startTestWebhook({ KUBECONFIG: kubeconfig });
  t.teardown(async () => {
    await webhook.close();
    await reconciler.close(1000);
    await world.close();
  });
  const { kube } = world;
  const h = helpers(world);
  const pathOf = (name: string): string | undefined =>
    (world.azure.arm.state().apis[apiIdFor(NS, name)]?.properties as { path?: string } | undefined)?.path;
  /** Created through the API server, its Ingress given an address: Ready and in APIM. */
  const ready = async (name: string, finalizer = false) => {
    await h.create(name, finalizer);
    await kube.waitFor(() => kube.get('ingresses', NS, name) !== undefined, LONG);
    await world.giveAddress(NS, name);
    await kube.waitFor(() => h.isReady(name) && pathOf(name) !== undefined, LONG);
  };
  /** A new spec.path through the back door (as another API server replica would take it), keeping the rest. */
  const movePath = (name: string, path: string) => {
    const live = kube.get('exposedapis', NS, name) as any;
    kube.seed({ ...live, spec: { ...live.spec, path } });
  };
  /** A rival ExposedAPI on `path`: what the webhook says of it (false: denied as taken). */
  const admits = async (path: string): Promise<boolean> => {
    const review = admissionReview(exposedApi({ path }, { namespace: 'rivals', name: `rival-${Date.now()}` }));
    return (await post(webhook.agent, `${webhook.url}/validate`, review)).json.response.allowed;
  };
  /** The reconciler's /readyz details. */
  const readyz = async () => {
    const response = await request(`${reconciler.adminUrl}/readyz`);
    return (await response.body.json()) as { informers: Record<string, { reason?: string }>; lastResyncAt?: string };
  };
  const requests = (match: (r: RequestRecord) => boolean) => kube.requests.filter(match);
  const fromReconciler = (verb: string, resource = EXPOSED_APIS) =>
    requests((r) => r.user === RECONCILER_TOKEN && r.verb === verb && r.resource === resource);
  /** Polls /readyz until the predicate holds of it. */
  const readyzUntil = async (predicate: (details: Awaited<ReturnType<typeof readyz>>) => boolean) => {
    const deadline = Date.now() + LONG;
    while (!predicate(await readyz())) {
      if (Date.now() > deadline) throw new Error(`/readyz never said so: ${JSON.stringify(await readyz())}`);
      await sleep(50);
    }
  };
  return {
    world,
    kube,
    h,
    webhook,
    reconciler,
    pathOf,
    ready,
    movePath,
    admits,
    readyz,
    readyzUntil,
    fromReconciler,
    requests,
  };
}

export type Operator = Awaited<ReturnType<typeof operator>>;

/** Polls both processes' /healthz until stopped: every answer's status (0: no answer). */
export function healthProbe(o: Operator) {
  const answers: { webhook: number; reconciler: number }[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const [webhook, reconciler] = await Promise.all([
        get(o.webhook.agent, `${o.webhook.url}/healthz`).then(
          (r) => r.status,
          () => 0,
        ),
        request(`${o.reconciler.adminUrl}/healthz`).then(
          async (r) => (await r.body.dump(), r.statusCode),
          () => 0,
        ),
      ]);
      answers.push({ webhook, reconciler });
      await sleep(200);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return answers;
    },
  };
}

/** The recovered webhook sees a path claimed (false) or free (true); polled, as its watch catches up. */
export async function webhookSays(o: Operator, path: string, allowed: boolean): Promise<void> {
  const deadline = Date.now() + LONG;
  while ((await o.admits(path)) !== allowed) {
    if (Date.now() > deadline) throw new Error(`the webhook still says allowed=${!allowed} for ${path}`);
    await sleep(50);
  }
}
