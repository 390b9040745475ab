import t from 'tap';
import { coalescing, enqueueWithin, type ReconcileEnqueuer } from '../../shared/enqueue.ts';

function recording(
  behaviour: (key: string) => Promise<void> = async () => undefined,
): ReconcileEnqueuer & { keys: string[] } {
  const keys: string[] = [];
  return {
    keys,
    enqueue: async (key) => {
      keys.push(key);
      await behaviour(key);
    },
    state: () => 'ready',
    close: async () => undefined,
  };
}

t.test('a key queued moments ago is not queued again; other keys and later times are', async (t) => {
  let now = 1000;
  const inner = recording();
  const queue = coalescing(inner, 500, () => now);
  await queue.enqueue('a/x');
  await queue.enqueue('a/x');
  await queue.enqueue('a/y');
  now += 499;
  await queue.enqueue('a/x');
  now += 1;
  await queue.enqueue('a/x');
  t.same(inner.keys, ['a/x', 'a/y', 'a/x']);
});

t.test('a failed enqueue is not remembered, so the next admission tries again', async (t) => {
  let fail = true;
  const inner = recording(async () => {
    if (fail) throw new Error('Redis down');
  });
  const queue = coalescing(inner, 500, () => 0);
  await t.rejects(queue.enqueue('a/x'));
  fail = false;
  await queue.enqueue('a/x');
  t.same(inner.keys, ['a/x', 'a/x']);
});

t.test('enqueueWithin bounds the wait and reports why', async (t) => {
  t.same(await enqueueWithin(recording(), 'a/x', 100), { result: 'enqueued' });
  t.same(
    await enqueueWithin(
      recording(async () => {
        throw new Error('Connection is closed.');
      }),
      'a/x',
      100,
    ),
    { result: 'failed', error: 'Connection is closed.' },
  );
  const never = recording(() => new Promise(() => undefined));
  t.same(await enqueueWithin(never, 'a/x', 20), { result: 'timeout', error: 'no answer from Redis within 20 ms' });
});
