import t from 'tap';
import { createHash } from 'node:crypto';
import { createSpecResolver } from '../../../reconciler/steps/resolve-spec.ts';
import type { FetchResult, SpecFetcher, Validators } from '../../../shared/openapi/fetch-spec.ts';
import { PermanentError, RetryableError } from '../../../shared/errors.ts';
import { fixtureText } from '../../helpers/resources.ts';

const TMF620 = fixtureText('TMF620-ProductCatalog-v4.0.0.swagger.json');
const BOUNDS = { maxEntries: 500, maxBytes: 64 * 1024 * 1024 };

/** A fetcher of our own narrow interface that answers from a script and counts what it was asked. */
function scripted(
  answer: (url: string, conditional?: Validators) => FetchResult,
): SpecFetcher & { calls: { url: string; conditional?: Validators }[] } {
  const calls: { url: string; conditional?: Validators }[] = [];
  return {
    calls,
    fetch: async (url, conditional) => {
      calls.push({ url, ...(conditional ? { conditional } : {}) });
      await new Promise((r) => setImmediate(r));
      return answer(url, conditional);
    },
    close: async () => undefined,
  };
}

const ok = (text: string, etag?: string): FetchResult =>
  ({ outcome: 'ok', text, validators: etag ? { etag } : {}, freshUntil: 0 }) as unknown as FetchResult;

t.test('concurrent resolves of one URL share one fetch and one validation', async (t) => {
  const fetcher = scripted(() => ok(TMF620, '"v1"'));
  const resolver = createSpecResolver(fetcher, BOUNDS);
  const results = await Promise.all(
    Array.from({ length: 10 }, () => resolver.resolve({ kind: 'url', url: 'https://specs/tmf620.json' })),
  );
  t.equal(fetcher.calls.length, 1);
  t.ok(
    results.every((r) => r === results[0]),
    'the same result for all',
  );
  t.equal(results[0]?.format, 'swagger-json');
  t.equal(
    results[0]?.sha256,
    createHash('sha256')
      .update(results[0]?.value ?? '')
      .digest('hex'),
    'the SHA-256 of the value to import, which the API description carries',
  );
});

t.test('later resolves revalidate with the stored ETag and reuse the result on 304', async (t) => {
  const fetcher = scripted((_url, conditional) =>
    conditional?.etag === '"v1"'
      ? ({ outcome: 'not-modified', validators: { etag: '"v1"' } } as unknown as FetchResult)
      : ok(TMF620, '"v1"'),
  );
  const resolver = createSpecResolver(fetcher, BOUNDS);
  const first = await resolver.resolve({ kind: 'url', url: 'https://specs/a.json' });
  const second = await resolver.resolve({ kind: 'url', url: 'https://specs/a.json' });
  t.same(
    fetcher.calls.map((c) => c.conditional?.etag),
    [undefined, '"v1"'],
  );
  t.equal(second, first);
});

t.test('failures are classified: transient retries, definitive waits for a change', async (t) => {
  const resolver = createSpecResolver(
    scripted((url) =>
      url.endsWith('503')
        ? { outcome: 'http-error', message: 'answered 503', transient: true, status: 503 }
        : url.endsWith('404')
          ? { outcome: 'http-error', message: 'answered 404', transient: false, status: 404 }
          : ok('hello: world\n'),
    ),
    BOUNDS,
  );
  await t.rejects(resolver.resolve({ kind: 'url', url: 'https://specs/503' }), RetryableError);
  await t.rejects(resolver.resolve({ kind: 'url', url: 'https://specs/404' }), PermanentError);
  await t.rejects(resolver.resolve({ kind: 'url', url: 'https://specs/not-openapi' }), {
    name: 'PermanentError',
    reason: 'InvalidOpenApiDocument',
  });
  await t.rejects(resolver.resolve({ kind: 'inline', text: '{' }), {
    name: 'PermanentError',
    reason: 'InvalidOpenApiDocument',
  });
});

t.test('the document cache is bounded by bytes: a URL pushed out is fetched again unconditionally', async (t) => {
  const fetcher = scripted((url, conditional) =>
    conditional?.etag
      ? ({ outcome: 'not-modified', validators: conditional } as unknown as FetchResult)
      : ok(TMF620, `"${url}"`),
  );
  // Room for one TMF620 document, not two.
  const resolver = createSpecResolver(fetcher, { maxEntries: 500, maxBytes: Buffer.byteLength(TMF620) * 1.5 });
  await resolver.resolve({ kind: 'url', url: 'https://specs/a.json' });
  await resolver.resolve({ kind: 'url', url: 'https://specs/b.json' });
  await resolver.resolve({ kind: 'url', url: 'https://specs/b.json' });
  await resolver.resolve({ kind: 'url', url: 'https://specs/a.json' });
  t.same(
    fetcher.calls.map((c) => [c.url.slice(-6), c.conditional?.etag]),
    [
      ['a.json', undefined],
      ['b.json', undefined],
      ['b.json', '"https://specs/b.json"'],
      ['a.json', undefined],
    ],
    'b stayed cached, a was evicted for it',
  );
});

t.test('an inline document is validated once per content, also when resolved concurrently', async (t) => {
  const fetcher = scripted(() => ok(TMF620));
  const resolver = createSpecResolver(fetcher, BOUNDS);
  const burst = await Promise.all(Array.from({ length: 10 }, () => resolver.resolve({ kind: 'inline', text: TMF620 })));
  t.ok(
    burst.every((r) => r === burst[0]),
    'one result shared by the burst',
  );
  t.equal(await resolver.resolve({ kind: 'inline', text: TMF620 }), burst[0], 'and kept for later reconciles');
  const other = await resolver.resolve({ kind: 'inline', text: TMF620.replace('Product Catalog', 'Catalog') });
  t.not(other, burst[0], 'another content is resolved on its own');
  t.equal(other.format, 'swagger-json');
  t.equal(fetcher.calls.length, 0, 'nothing fetched');
});
