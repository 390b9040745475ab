import t from 'tap';
import { LruCache } from '../../../shared/openapi/lru-cache.ts';

t.test('forgets the least recently used entry', async (t) => {
  const cache = new LruCache<string, number>(2);
  cache.set('a', 1);
  cache.set('b', 2);
  t.equal(cache.get('a'), 1, 'reading a makes b the oldest');
  cache.set('c', 3);
  t.equal(cache.get('b'), undefined);
  t.equal(cache.get('a'), 1);
  t.equal(cache.get('c'), 3);
  t.equal(cache.size, 2);
});

t.test('overwriting refreshes and keeps one entry', async (t) => {
  const cache = new LruCache<string, number>(2);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.set('a', 10);
  cache.set('c', 3);
  t.same([cache.get('a'), cache.get('b'), cache.get('c')], [10, undefined, 3]);
  cache.delete('a');
  cache.clear();
  t.equal(cache.size, 0);
});

t.test('stores undefined-like values faithfully and refuses a zero size', async (t) => {
  const cache = new LruCache<string, number>(1);
  cache.set('zero', 0);
  t.equal(cache.get('zero'), 0);
  t.throws(() => new LruCache(0), { message: /at least one entry/ });
});
