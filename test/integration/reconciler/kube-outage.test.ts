// The Kubernetes API server gone (connections refused, or 503) and back, under the running operator
// (the reconciler and the webhook, in this process, never restarted): changes made during the outage
// and right after it all arrive, without waiting for a resync (the interval is a day), and both
// answer /healthz throughout. RELIABILITY_FULL=1 runs the documented 30 s outage; the default suite 5 s.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { NS } from '../../helpers/reconciler-process.ts';
import { exposedApi } from '../../helpers/resources.ts';
import { healthProbe, LONG, operator, webhookSays } from '../../helpers/operator.ts';

const FULL = process.env.RELIABILITY_FULL === '1';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const OUTAGE_MS = FULL ? 30_000 : 5_000;

for (const how of ['refuse', 'unavailable'] as const) {
  const what = how === 'refuse' ? 'connections refused' : '503 ServiceUnavailable';
  t.test(`the API server gone for ${OUTAGE_MS / 1000} s (${what}), then back`, async (t) => {
    const o = await operator(t);
    const { kube } = o;
    for (const name of ['steady', 'edited-during', 'deleted-during', 'edited-after']) await o.ready(name);
    const watches = kube.openWatches();
    const probe = healthProbe(o);

    await kube.goDown(how);
    const downAt = Date.now();
    await kube.waitFor(() => kube.openWatches() === 0, LONG);
    await o.readyzUntil((r) => /watch failed/.test(r.informers.exposedapis?.reason ?? ''));
    // Changes the API server takes meanwhile from others (through the back door: its address is gone for everyone).
    o.movePath('edited-during', '/edited-during/moved/tmf-api/v4');
    kube.remove('exposedapis', NS, 'deleted-during');
    kube.seed(exposedApi({ path: '/created-during/tmf-api/v4' }, { namespace: NS, name: 'created-during' }));
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
    await kube.comeBack();
    const backAt = Date.now();

    // Right after: changes through the API server, never waiting for a resync (a day away).
    const afterPath = '/edited-after/moved/tmf-api/v4';
    await o.h.custom.patchNamespacedCustomObject(
      {
        group: 'oda.tmforum.org',
        version: 'v1',
        namespace: NS,
        plural: 'exposedapis',
        name: 'edited-after',
        body: { spec: { path: afterPath } },
      },
      merge,
    );
    await o.h.create('created-after');
    await kube.waitFor(() => kube.openWatches() === watches, LONG);
    const watchesBackMs = Date.now() - backAt;
    await kube.waitFor(() => o.pathOf('edited-after')?.startsWith(afterPath.slice(1)) === true, LONG);
    const changeAfterMs = Date.now() - backAt;
    for (const name of ['created-during', 'created-after']) {
      await kube.waitFor(() => kube.get('ingresses', NS, name) !== undefined, LONG);
      await o.world.giveAddress(NS, name);
    }
    await kube.waitFor(
      () =>
        ['steady', 'edited-during', 'edited-after', 'created-during', 'created-after'].every((n) => o.h.isReady(n)) &&
        o.pathOf('edited-during')?.startsWith('edited-during/moved') === true &&
        o.pathOf('deleted-during') === undefined &&
        kube.get('exposedapis', NS, 'deleted-during') === undefined,
      LONG,
    );
    const allMs = Date.now() - backAt;
    await webhookSays(o, '/created-during/tmf-api/v4', false);
    await webhookSays(o, '/created-after/tmf-api/v4', false);
    await webhookSays(o, afterPath, false);
    await webhookSays(o, '/deleted-during/tmf-api/v4', true);
    const answers = await probe.stop();

    t.ok(answers.length >= OUTAGE_MS / 1000, 'the probes ran through the outage', { probes: answers.length });
    t.same(
      answers.filter((a) => a.webhook !== 200),
      [],
      'the webhook answered /healthz 200 throughout',
    );
    t.same(
      answers.filter((a) => a.reconciler !== 200),
      [],
      'the reconciler answered /healthz 200 throughout',
    );
    t.notOk((await o.readyz()).lastResyncAt, 'no resync ran');
    t.comment(
      `${what}, ${OUTAGE_MS / 1000} s: watches back ${watchesBackMs} ms after the API server; the change made right after in APIM at ${changeAfterMs} ms; every change (3 during, 2 after) done at ${allMs} ms; ${answers.length} /healthz probes, all 200`,
    );
  });
}
