import t from 'tap';
import { MAX_NESTING, tooDeeplyNested } from '../../../shared/exposed-api/nesting.ts';

/** `levels` of objects (or arrays) wrapped around a number. */
function nested(levels: number, array = false): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = array ? [value] : { a: value };
  return value;
}

t.test('the limit: MAX_NESTING levels pass, one more is refused', async (t) => {
  t.equal(tooDeeplyNested({ spec: { x: nested(MAX_NESTING - 2) } }), undefined);
  t.ok(tooDeeplyNested({ spec: { x: nested(MAX_NESTING - 1) } }));
  t.equal(tooDeeplyNested(nested(5), 5), undefined);
  t.ok(tooDeeplyNested(nested(6), 5));
});

t.test('the problem names the field two levels down', async (t) => {
  t.equal(tooDeeplyNested({ spec: { specification: nested(500) } })?.field, 'spec.specification');
  t.equal(tooDeeplyNested({ spec: [nested(500, true)] })?.field, 'spec[0]');
  t.equal(tooDeeplyNested(nested(500))?.field, 'a.a');
});

t.test('any depth is safe to check: a million levels, without recursion', async (t) => {
  t.ok(tooDeeplyNested(nested(1_000_000)));
  t.ok(tooDeeplyNested(nested(1_000_000, true)));
});

t.test('wide is not deep, and scalars are fine', async (t) => {
  const wide = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, { v: [i] }]));
  t.equal(tooDeeplyNested(wide), undefined);
  for (const value of [null, 1, 'x', true, undefined]) t.equal(tooDeeplyNested(value), undefined);
});

t.test('an object that contains itself is refused, not walked forever', async (t) => {
  const spec: Record<string, unknown> = { name: 'x' };
  spec.self = { again: spec };
  t.match(tooDeeplyNested({ spec }), { field: 'spec.self', message: /contains itself/ });
});

t.test('a value shared by many parents (YAML aliases) is walked once', async (t) => {
  const shared = { a: { b: { c: 1 } } };
  const parents = Array.from({ length: 1000 }, () => shared);
  t.equal(tooDeeplyNested({ spec: { parents } }), undefined);
});

t.test('asked again about the same object: the same answer, a deep one refused every time', async (t) => {
  const fine = { spec: { x: nested(MAX_NESTING - 2) } };
  const deep = { spec: { x: nested(MAX_NESTING - 1) } };
  t.equal(tooDeeplyNested(fine), undefined);
  t.equal(tooDeeplyNested(fine), undefined, 'still fine');
  t.ok(tooDeeplyNested(deep));
  t.ok(tooDeeplyNested(deep), 'still refused');
  t.ok(tooDeeplyNested(fine, 3), 'a smaller limit is walked, not answered from what the default allowed');
});
