import t from 'tap';
import { batching } from '../../shared/batching.ts';

t.test('each caller of a batch gets its own result, in the order the requests were made', async (t) => {
  const sent: number[][] = [];
  const square = batching<number, number>(
    async (requests) => {
      sent.push([...requests]);
      return requests.map((n) => n * n);
    },
    { maxBatch: 10 },
  );
  t.same(await Promise.all([3, 1, 2].map((n) => square(n))), [9, 1, 4]);
  t.same(sent, [[3, 1, 2]], 'one batch for one turn');
});

t.test('callers of a merged request share its result; a failure reaches every caller', async (t) => {
  let fail = false;
  const lookup = batching<{ key: string; n: number }, string>(
    async (requests) => {
      if (fail) throw new Error('Connection is closed.');
      return requests.map((r) => `${r.key}:${r.n}`);
    },
    { maxBatch: 10, merging: { keyOf: (r) => r.key, merge: (_earlier, later) => later } },
  );
  t.same(await Promise.all([lookup({ key: 'a', n: 1 }), lookup({ key: 'b', n: 2 }), lookup({ key: 'a', n: 3 })]), [
    'a:3',
    'b:2',
    'a:3',
  ]);
  fail = true;
  const failing = [lookup({ key: 'a', n: 4 }), lookup({ key: 'c', n: 5 })];
  for (const promise of failing) await t.rejects(promise, { message: 'Connection is closed.' });
});
