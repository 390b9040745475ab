import t from 'tap';
import { boundedCache } from '../../../shared/openapi/bounded-cache.ts';

const bySize = (value: string): number => value.length;

t.test('forgets the least recently used entry beyond the entry bound', async (t) => {
  const cache = boundedCache<string>({ maxEntries: 2, maxBytes: 1000 }, bySize);
  cache.set('a', 'A');
  cache.set('b', 'B');
  t.equal(cache.get('a'), 'A', 'reading a makes b the oldest');
  cache.set('c', 'C');
  t.same([cache.get('a'), cache.get('b'), cache.get('c')], ['A', undefined, 'C']);
  t.equal(cache.size, 2);
});

t.test('forgets the least recently used entries beyond the byte bound', async (t) => {
  const cache = boundedCache<string>({ maxEntries: 100, maxBytes: 10 }, bySize);
  cache.set('a', 'xxxx');
  cache.set('b', 'yyyy');
  t.equal(cache.get('a'), 'xxxx', 'reading a makes b the oldest');
  cache.set('c', 'zzzz');
  t.same([cache.get('a'), cache.get('b'), cache.get('c')], ['xxxx', undefined, 'zzzz']);
  t.equal(cache.calculatedSize, 8);
  cache.set('d', 'w'.repeat(11));
  t.equal(cache.get('d'), undefined, 'an entry larger than the whole bound is not kept');
  t.equal(cache.get('a'), 'xxxx', 'and pushes nothing out');
});

t.test('a re-set with a new size counts the new size', async (t) => {
  const cache = boundedCache<string>({ maxEntries: 100, maxBytes: 10 }, () => 1);
  cache.set('a', 'A');
  cache.set('b', 'B');
  cache.set('a', 'A', { size: 10 });
  t.equal(cache.get('b'), undefined, 'a grew to the whole bound and pushed b out');
  t.equal(cache.calculatedSize, 10);
});

t.test('refuses bounds that cannot hold anything', async (t) => {
  t.throws(() => boundedCache({ maxEntries: 0, maxBytes: 10 }, bySize), { message: /maxEntries must be a positive/ });
  t.throws(() => boundedCache({ maxEntries: 1, maxBytes: Number.NaN }, bySize), {
    message: /maxBytes must be a positive/,
  });
});
