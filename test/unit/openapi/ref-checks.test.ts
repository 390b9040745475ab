import t from 'tap';
import { expandedSize, refProblems, resolvePointer } from '../../../shared/openapi/ref-checks.ts';

t.test('refProblems reports every missing and external reference with its place', async (t) => {
  const document = {
    components: { schemas: { A: { type: 'string' }, 'B/C': { type: 'string' } } },
    paths: {
      '/x': {
        get: {
          a: { $ref: '#/components/schemas/A' },
          b: { $ref: '#/components/schemas/B~1C' },
          c: { $ref: '#/components/schemas/Z' },
          d: { $ref: 'http://127.0.0.1/x.json' },
          e: { $ref: '#anchor' },
          f: { $ref: '#' },
        },
      },
    },
  };
  t.same(refProblems(document), [
    'paths./x.get.c: $ref "#/components/schemas/Z" points to nothing in the document',
    'paths./x.get.d: $ref "http://127.0.0.1/x.json" points outside the document; external references are not followed, inline the definition',
  ]);
});

t.test('resolvePointer', async (t) => {
  const document = { a: { 'b/c': [10, 20], 'd~e': 1, 'f g': 2 } };
  t.equal(resolvePointer(document, '/a/b~1c/1'), 20);
  t.equal(resolvePointer(document, '/a/d~0e'), 1);
  t.equal(resolvePointer(document, '/a/f%20g'), 2);
  t.equal(resolvePointer(document, '/a/missing'), undefined);
  t.equal(resolvePointer(document, '/a/b~1c/1/deeper'), undefined);
  t.equal(resolvePointer(document, '/constructor'), undefined, 'inherited properties are not members');
});

t.test('expandedSize counts shared references in full, cycles once, and stops at the cap', async (t) => {
  const leaf = { type: 'string' };
  t.equal(expandedSize({ a: leaf, b: leaf }, 1000), 5, 'a shared object counts wherever it appears');
  const twice = { s: { L0: { p: { $ref: '#/s/L1' }, q: { $ref: '#/s/L1' } }, L1: { type: 'string' } } };
  t.equal(expandedSize(twice, 1000), 9, 'each $ref counts as its target: 1 + s(1 + L0(1 + 2 + 2) + L1(2))');
  const cyclic = { s: { A: { items: { $ref: '#/s/A' } } } };
  t.equal(expandedSize(cyclic, 1000), 4, 'a reference into its own ancestry counts as one node');
  const bomb: Record<string, unknown> = {};
  for (let level = 0; level < 60; level += 1)
    bomb[`L${level}`] = { a: { $ref: `#/L${level + 1}` }, b: { $ref: `#/L${level + 1}` } };
  t.equal(expandedSize(bomb, 1_000_000), 1_000_000);
});
