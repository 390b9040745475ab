import t from 'tap';
import { freshnessOf, validatorsOf } from '../../../shared/openapi/http-metadata.ts';

t.test('freshnessOf reads Cache-Control', async (t) => {
  const cases: Array<[string | undefined, object]> = [
    [undefined, { noStore: false }],
    ['public, max-age=300', { noStore: false, maxAgeSeconds: 300 }],
    ['MAX-AGE="60"', { noStore: false, maxAgeSeconds: 60 }],
    ['max-age=300, no-cache', { noStore: false, maxAgeSeconds: 0 }],
    ['no-store', { noStore: true }],
    ['max-age=abc', { noStore: false }],
  ];
  for (const [value, expected] of cases)
    t.same(freshnessOf(value === undefined ? {} : { 'cache-control': value }), expected, String(value));
});

t.test('validatorsOf keeps only what is present', async (t) => {
  t.same(validatorsOf({ etag: 'W/"1"', 'last-modified': 'Tue, 01 Jul 2025 00:00:00 GMT' }), {
    etag: 'W/"1"',
    lastModified: 'Tue, 01 Jul 2025 00:00:00 GMT',
  });
  t.same(validatorsOf({}), {});
});
