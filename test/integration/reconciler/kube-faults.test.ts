// Faults of the Kubernetes API under the running operator (the reconciler and the webhook, in this
// process, never restarted): watches closed by the server, 410 Expired on a resumed watch, 409
// conflicts on status and finalizer writes. No change made during or after a fault is lost, and none
// waits for a resync: the resync interval is a day. The API server going away is kube-outage.test.ts.
// RELIABILITY_FULL=1 runs 10 rounds of closed watches; the default suite 3.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { RECONCILER_TOKEN } from '../../helpers/reconciler-env.ts';
import { NS } from '../../helpers/reconciler-process.ts';
import { EXPOSED_APIS, LONG, operator, webhookSays } from '../../helpers/operator.ts';

const FULL = process.env.RELIABILITY_FULL === '1';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const CLOSE_ROUNDS = FULL ? 10 : 3;
const FINALIZER = 'oda.tmforum.org/apim-cleanup';
const OTHER_FINALIZER = 'example.com/keep';

t.test('watches closed by the server resume from their resourceVersion; changes right after arrive', async (t) => {
  const o = await operator(t);
  await o.ready('closing');
  const watches = o.kube.openWatches();
  const lists = o.requests((r) => r.verb === 'list').length;
  const latencies: number[] = [];
  const reopened: number[] = [];
  for (let round = 1; round <= CLOSE_ROUNDS; round++) {
    // Twice in a row: the second ends watches that had just opened, and those back off (1 s); most are quiet
    // (no event in any round), and their first close always follows a healthy spell.
    // Between real closes the watches have been open a while (client-go's rule: 1 s, or an event).
    await sleep(1500);
    const firstAt = Date.now();
    o.kube.closeWatches();
    await o.kube.waitFor(() => o.kube.openWatches() === watches, LONG);
    reopened.push(Date.now() - firstAt);
    o.kube.closeWatches();
    const closedAt = Date.now();
    const path = `/closing/round-${round}/tmf-api/v4`;
    await o.h.custom.patchNamespacedCustomObject(
      {
        group: 'oda.tmforum.org',
        version: 'v1',
        namespace: NS,
        plural: 'exposedapis',
        name: 'closing',
        body: { spec: { path } },
      },
      merge,
    );
    await o.kube.waitFor(() => o.pathOf('closing')?.startsWith(path.slice(1)) === true, LONG);
    latencies.push(Date.now() - closedAt);
    await webhookSays(o, path, false);
  }
  t.comment(
    `${CLOSE_ROUNDS} rounds of two closes: all ${watches} watches back ${Math.min(...reopened)}–${Math.max(...reopened)} ms after the first; the change after the second in APIM ${Math.min(...latencies)}–${Math.max(...latencies)} ms after it`,
  );
  t.equal(o.requests((r) => r.verb === 'list').length, lists, 'every watch resumed: no LIST by anyone');
  t.ok(o.h.isReady('closing'));
  t.notOk((await o.readyz()).lastResyncAt, 'no resync ran');
});

t.test('410 Expired on the resumed watch: a re-list catches every change, deletions too', async (t) => {
  const o = await operator(t);
  await o.ready('expiring');
  await o.ready('expiring-gone');
  const lists = o.fromReconciler('list').length;
  const path = '/expiring/moved/tmf-api/v4';
  // The changes land, and etcd compacts past them, while the watches reconnect.
  o.kube.interleave({ verb: 'watch', resource: EXPOSED_APIS, user: RECONCILER_TOKEN }, () => {
    o.movePath('expiring', path);
    o.kube.remove('exposedapis', NS, 'expiring-gone');
    o.kube.compact();
  });
  const started = Date.now();
  o.kube.closeWatches();
  await o.kube.waitFor(
    () => o.pathOf('expiring')?.startsWith(path.slice(1)) === true && o.pathOf('expiring-gone') === undefined,
    LONG,
  );
  await o.kube.waitFor(() => o.kube.get('exposedapis', NS, 'expiring-gone') === undefined, LONG);
  const caughtUpMs = Date.now() - started;
  t.equal(o.fromReconciler('list').length, lists + 1, 'the reconciler re-listed ExposedAPIs once, after the 410');
  await webhookSays(o, path, false);
  await webhookSays(o, '/expiring-gone/tmf-api/v4', true);
  t.comment(`after 410: APIM and Kubernetes caught up ${caughtUpMs} ms after the watches were closed`);
  t.notOk((await o.readyz()).lastResyncAt, 'no resync ran');
});

t.test('409 on status and finalizer writes: re-read, retried, and nobody’s write lost', async (t) => {
  const o = await operator(t);
  const { kube } = o;
  const conflicts = (name: string) =>
    o.requests((r) => r.user === RECONCILER_TOKEN && r.verb === 'patch' && r.name === name && r.code === 409);
  /** Another client's label lands just before the reconciler's `nth` write of `name`. */
  const labelBefore = (name: string, nth: number) => {
    let writes = 0;
    kube.interleave(
      (r) => r.user === RECONCILER_TOKEN && r.verb === 'patch' && r.name === name && ++writes === nth,
      () => {
        const live = kube.get('exposedapis', NS, name) as any;
        kube.seed({ ...live, metadata: { ...live.metadata, labels: { ...live.metadata.labels, touched: 'yes' } } });
      },
    );
  };

  // The first write adds the finalizer, the second is the first status write.
  for (const [name, nth, what] of [
    ['finalizer-add', 1, 'adding the finalizer'],
    ['status-write', 2, 'writing status'],
  ] as const) {
    labelBefore(name, nth);
    await o.ready(name);
    t.ok(conflicts(name).length >= 1, `${what}: the write met a real 409`);
    const live = kube.get('exposedapis', NS, name) as any;
    t.equal(live.metadata.labels?.touched, 'yes', `${what}: the other client's label kept`);
    t.ok(live.metadata.finalizers.includes(FINALIZER), `${what}: the finalizer is there`);
  }

  const name = 'finalizer-remove';
  await o.ready(name);
  kube.interleave(
    (r) =>
      r.user === RECONCILER_TOKEN &&
      r.verb === 'patch' &&
      r.name === name &&
      kube.get('exposedapis', NS, name)?.metadata.deletionTimestamp !== undefined,
    () => {
      const live = kube.get('exposedapis', NS, name) as any;
      kube.seed({
        ...live,
        metadata: { ...live.metadata, finalizers: [...live.metadata.finalizers, OTHER_FINALIZER] },
      });
    },
  );
  await o.h.remove(name);
  await kube.waitFor(() => o.pathOf(name) === undefined, LONG);
  await kube.waitFor(() => {
    const finalizers = kube.get('exposedapis', NS, name)?.metadata.finalizers;
    return finalizers?.length === 1 && finalizers[0] === OTHER_FINALIZER;
  }, LONG);
  t.ok(conflicts(name).length >= 1, 'removing the finalizer met a real 409');
  t.pass("our finalizer removed, the other controller's kept (the object waits for it)");
});
