import t from 'tap';
import { batchingSender, mergeRequests, type BatchedRequest } from '../../shared/enqueue-batch.ts';

const request = (key: string, replace = false, traceparent?: string): BatchedRequest => ({
  key,
  options: { replace },
  ...(traceparent ? { traceparent } : {}),
});

/** A sender whose batches the test releases one by one. */
function gatedSender() {
  const batches: BatchedRequest[][] = [];
  const gates: { open(): void; fail(error: Error): void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = (requests: readonly BatchedRequest[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push([...requests]);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      const settle = (finish: () => void) => () => {
        inFlight--;
        finish();
      };
      gates.push({ open: settle(resolve), fail: (error) => settle(() => reject(error))() });
    });
  const nextGate = async () => {
    for (let i = 0; i < 1000 && gates.length === 0; i++) await new Promise((r) => setImmediate(r));
    const gate = gates.shift();
    if (!gate) throw new Error('no batch was sent');
    return gate;
  };
  return { send, batches, nextGate, maxInFlight: () => maxInFlight };
}

t.test('requests of one turn go in one batch; those made while it is in flight go in the next', async (t) => {
  const sender = gatedSender();
  const add = batchingSender(sender.send, 100);
  const first = ['a/1', 'a/2', 'a/3'].map((key) => add(request(key)));
  const gate1 = await sender.nextGate();
  const second = ['a/4', 'a/5'].map((key) => add(request(key)));
  await new Promise((r) => setImmediate(r));
  t.equal(sender.batches.length, 1, 'the second batch waits for the first');
  gate1.open();
  await Promise.all(first);
  (await sender.nextGate()).open();
  await Promise.all(second);
  t.same(
    sender.batches.map((batch) => batch.map((r) => r.key)),
    [
      ['a/1', 'a/2', 'a/3'],
      ['a/4', 'a/5'],
    ],
  );
  t.equal(sender.maxInFlight(), 1, 'one batch in flight at a time');
});

t.test('requests for one key in a batch become one, as Redis would keep them', async (t) => {
  t.same(mergeRequests(request('a/x', false, 't1'), request('a/x', false, 't2')), request('a/x', false, 't1'));
  t.same(mergeRequests(request('a/x', false, 't1'), request('a/x', true, 't2')), request('a/x', true, 't2'));
  t.same(mergeRequests(request('a/x', true, 't1'), request('a/x', false, 't2')), request('a/x', true, 't1'));
  const sender = gatedSender();
  const add = batchingSender(sender.send, 100);
  const all = [add(request('a/x', false, 't1')), add(request('a/y')), add(request('a/x', true, 't3'))];
  (await sender.nextGate()).open();
  await Promise.all(all);
  t.same(sender.batches, [[request('a/x', true, 't3'), request('a/y')]], 'every caller waited for the merged job');
});

t.test('a failed batch rejects each of its callers, and the next batch is still sent', async (t) => {
  const sender = gatedSender();
  const add = batchingSender(sender.send, 100);
  const failing = [add(request('a/1')), add(request('a/2'))];
  const gate = await sender.nextGate();
  const later = add(request('a/3'));
  gate.fail(new Error('Connection is closed.'));
  for (const promise of failing) await t.rejects(promise, { message: 'Connection is closed.' });
  (await sender.nextGate()).open();
  await t.resolves(later);
  t.same(
    sender.batches.map((batch) => batch.map((r) => r.key)),
    [['a/1', 'a/2'], ['a/3']],
  );
});

t.test('a burst larger than a batch is sent in batches of at most the limit', async (t) => {
  const sent: number[] = [];
  const add = batchingSender(async (requests) => void sent.push(requests.length), 4);
  await Promise.all(Array.from({ length: 10 }, (_, i) => add(request(`a/${i}`))));
  t.same(sent, [4, 4, 2]);
});
