import t, { type Test } from 'tap';
import type { ServerResponse } from 'node:http';
import { stringify } from 'yaml';
import { testLogger } from '../../helpers/scan-recording.ts';
import {
  createSpecChecker,
  SPEC_CHECK_DEFAULTS,
  type SpecCheckerOptions,
} from '../../../shared/openapi/spec-checker.ts';
import { startServer, waitFor, type LocalServer } from './local-server.ts';
import { fixtureText } from '../../helpers/resources.ts';

const TMF620 = fixtureText('TMF620-ProductCatalog-v4.0.0.swagger.json');
const TMF639 = fixtureText('TMF639-Resource_Inventory_Management-v5.0.0.oas.yaml');
const SMALL = JSON.stringify({
  openapi: '3.0.3',
  info: { title: 'Small', version: '1' },
  paths: { '/a': { get: { operationId: 'a', responses: { '200': { description: 'ok' } } } } },
});
const BROKEN = JSON.stringify({ openapi: '3.0.3', paths: {} });

/** Per path: what the server answers. Tests change it between checks. */
interface Route {
  status?: number;
  body?: string;
  etag?: string;
  cacheControl?: string;
  hold?: boolean;
}
const routes = new Map<string, Route>();
const held = new Map<string, ServerResponse[]>();
let server: LocalServer;

t.before(async () => {
  server = await startServer((request, response) => {
    const route = routes.get(request.url ?? '');
    if (!route) return void response.writeHead(404).end('no such route');
    if (route.hold) return void held.set(request.url ?? '', [...(held.get(request.url ?? '') ?? []), response]);
    if (route.etag && request.headers['if-none-match'] === route.etag)
      return void response.writeHead(304, { etag: route.etag }).end();
    const headers: Record<string, string> = {};
    if (route.etag) headers.etag = route.etag;
    if (route.cacheControl) headers['cache-control'] = route.cacheControl;
    response.writeHead(route.status ?? 200, headers).end(route.body ?? '');
  });
});
t.teardown(() => server.close());

const requestsTo = (path: string) => server.requests.filter((request) => request.url === path);

function checkerFor(t: Test, overrides: Partial<SpecCheckerOptions> = {}) {
  const outcomes: string[] = [];
  const clock = { now: 1_000_000 };
  const checker = createSpecChecker({
    ...SPEC_CHECK_DEFAULTS,
    log: testLogger(),
    onFetch: (outcome) => outcomes.push(outcome),
    now: () => clock.now,
    ...overrides,
  });
  t.teardown(() => checker.close());
  return { checker, outcomes, clock };
}

t.test('the real TMF specifications pass inline, and a repeat costs nothing', async (t) => {
  const { checker } = checkerFor(t);
  for (const [name, text, kind] of [
    ['TMF620', TMF620, 'swagger2'],
    ['TMF639', TMF639, 'openapi3.0'],
  ] as const) {
    const firstStarted = performance.now();
    const first = await checker.checkInline(text);
    const firstMs = performance.now() - firstStarted;
    const againStarted = performance.now();
    const again = await checker.checkInline(text);
    t.comment(
      `${name}: first check ${firstMs.toFixed(1)} ms, cached ${(performance.now() - againStarted).toFixed(3)} ms`,
    );
    t.match(first, { ok: true, kind, cached: false }, `${name} first`);
    t.match(again, { ok: true, kind, cached: true }, `${name} again`);
  }
});

t.test('Swagger 2.0 in YAML passes and is marked for conversion to JSON', async (t) => {
  const { checker } = checkerFor(t);
  t.match(await checker.checkInline(stringify(JSON.parse(TMF620))), {
    ok: true,
    format: 'swagger-json',
    needsJsonConversion: true,
  });
});

t.test('inline failures are definitive; oversize text is refused unread', async (t) => {
  const { checker } = checkerFor(t, { maxBytes: 1000 });
  t.match(await checker.checkInline('not: [valid'), {
    ok: false,
    transient: false,
    message: /neither valid JSON nor valid YAML/,
  });
  t.match(await checker.checkInline(BROKEN), {
    ok: false,
    transient: false,
    message: /must have required property 'info'/,
  });
  t.match(await checker.checkInline(`${SMALL}${' '.repeat(1000)}`), {
    ok: false,
    transient: false,
    message: /larger than 1000 bytes/,
  });
});

t.test('an external $ref to a local server is not followed', async (t) => {
  routes.set('/x.json', { body: JSON.stringify({ type: 'string' }) });
  const { checker } = checkerFor(t);
  const text = JSON.stringify({
    openapi: '3.0.3',
    info: { title: 'x', version: '1' },
    paths: {
      '/a': {
        get: {
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { schema: { $ref: `${server.origin}/x.json` } } },
            },
          },
        },
      },
    },
  });
  t.match(await checker.checkInline(text), { ok: false, transient: false, message: /points outside the document/ });
  t.equal(requestsTo('/x.json').length, 0, 'the server got no request');
});

t.test('the real TMF specifications pass by URL', async (t) => {
  routes.set('/tmf620.json', { body: TMF620 });
  routes.set('/tmf639.yaml', { body: TMF639 });
  const { checker, outcomes } = checkerFor(t);
  t.match(await checker.checkUrl(`${server.origin}/tmf620.json`), {
    ok: true,
    kind: 'swagger2',
    format: 'swagger-json',
    operationCount: 50,
    cached: false,
  });
  t.match(await checker.checkUrl(`${server.origin}/tmf639.yaml`), {
    ok: true,
    kind: 'openapi3.0',
    format: 'openapi',
    cached: false,
  });
  t.same(outcomes, ['ok', 'ok']);
});

t.test('a fresh URL result makes no request; a stale one revalidates with If-None-Match', async (t) => {
  routes.set('/cached.json', { body: SMALL, etag: '"e1"' });
  const { checker, outcomes, clock } = checkerFor(t, { freshForMs: 60_000 });
  const url = `${server.origin}/cached.json`;
  t.match(await checker.checkUrl(url), { ok: true, cached: false });
  t.match(await checker.checkUrl(url), { ok: true, cached: true });
  t.equal(requestsTo('/cached.json').length, 1, 'the second check made no request');
  clock.now += 60_001;
  t.match(await checker.checkUrl(url), { ok: true, title: 'Small', cached: true });
  const requests = requestsTo('/cached.json');
  t.equal(requests.length, 2, 'one conditional request');
  t.equal(requests[1]!.headers['if-none-match'], '"e1"');
  t.same(outcomes, ['ok', 'not-modified']);
  t.match(await checker.checkUrl(url), { ok: true, cached: true });
  t.equal(requestsTo('/cached.json').length, 2, 'the 304 made the result fresh again');
});

t.test('a smaller Cache-Control max-age shortens freshness; no-store is never reused', async (t) => {
  routes.set('/short.json', { body: SMALL, etag: '"s1"', cacheControl: 'max-age=10' });
  routes.set('/nostore.json', { body: SMALL, cacheControl: 'no-store' });
  const { checker, clock } = checkerFor(t, { freshForMs: 60_000 });
  await checker.checkUrl(`${server.origin}/short.json`);
  await checker.checkUrl(`${server.origin}/nostore.json`);
  clock.now += 10_001;
  await checker.checkUrl(`${server.origin}/short.json`);
  await checker.checkUrl(`${server.origin}/nostore.json`);
  t.equal(requestsTo('/short.json').length, 2, 'revalidated after max-age');
  t.equal(requestsTo('/short.json')[1]!.headers['if-none-match'], '"s1"');
  t.equal(requestsTo('/nostore.json').length, 2, 'fetched every time');
});

t.test('ten concurrent checks of one URL share one request', async (t) => {
  routes.set('/slow.json', { hold: true });
  const { checker, outcomes } = checkerFor(t);
  const checks = Array.from({ length: 10 }, () => checker.checkUrl(`${server.origin}/slow.json`));
  await waitFor(() => held.get('/slow.json')?.length === 1, 'the request to arrive');
  held.get('/slow.json')![0]!.writeHead(200).end(SMALL);
  const results = await Promise.all(checks);
  t.ok(
    results.every((result) => result.ok),
    'every check passed',
  );
  t.equal(requestsTo('/slow.json').length, 1);
  t.same(outcomes, ['ok']);
});

t.test('a stored result outlives a failed revalidation (stale-if-error)', async (t) => {
  routes.set('/flaky.json', { body: SMALL, etag: '"f1"' });
  const { checker, clock } = checkerFor(t, { freshForMs: 1000 });
  const url = `${server.origin}/flaky.json`;
  t.match(await checker.checkUrl(url), { ok: true, cached: false });
  routes.set('/flaky.json', { status: 503, body: 'down' });
  clock.now += 5000;
  t.match(await checker.checkUrl(url), {
    ok: true,
    cached: true,
    warnings: [/could not revalidate the specification .*503.*; used the result checked 5 s ago/],
  });
});

t.test('transient failures are not cached; definitive ones are not transient', async (t) => {
  routes.set('/recovering.json', { status: 503, body: 'starting up' });
  routes.set('/gone.json', { status: 404, body: 'gone' });
  routes.set('/hang.json', { hold: true });
  const { checker, outcomes } = checkerFor(t, { fetchTimeoutMs: 300 });
  t.match(await checker.checkUrl(`${server.origin}/recovering.json`), {
    ok: false,
    transient: true,
    message: /answered 503: starting up/,
  });
  routes.set('/recovering.json', { body: SMALL });
  t.match(
    await checker.checkUrl(`${server.origin}/recovering.json`),
    { ok: true, cached: false },
    'the next check fetched again',
  );
  t.match(await checker.checkUrl(`${server.origin}/gone.json`), {
    ok: false,
    transient: false,
    message: /answered 404: gone/,
  });
  t.match(await checker.checkUrl(`${server.origin}/hang.json`), {
    ok: false,
    transient: true,
    message: /longer than 300 ms/,
  });
  t.match(await checker.checkUrl('http://169.254.169.254/latest/meta-data/'), {
    ok: false,
    transient: false,
    message: /never fetched from/,
  });
  t.same(outcomes, ['http-error', 'ok', 'http-error', 'timeout', 'blocked']);
});

t.test('an invalid document by URL is refused, and admitted as soon as it is fixed', async (t) => {
  routes.set('/draft.json', { body: BROKEN, etag: '"d1"' });
  const { checker } = checkerFor(t);
  const url = `${server.origin}/draft.json`;
  t.match(await checker.checkUrl(url), {
    ok: false,
    transient: false,
    message: new RegExp(`^the specification at ${server.origin}/draft.json: .*'info'`),
  });
  t.match(await checker.checkUrl(url), { ok: false }, 'unchanged: still refused');
  t.equal(requestsTo('/draft.json')[1]?.headers['if-none-match'], '"d1"', 'a refused document is revalidated, cheaply');
  routes.set('/draft.json', { body: SMALL, etag: '"d2"' });
  t.match(await checker.checkUrl(url), { ok: true, cached: false });
});

t.test('bad options fail at creation', async (t) => {
  const base = { ...SPEC_CHECK_DEFAULTS, log: testLogger() };
  t.throws(() => createSpecChecker({ ...base, deny: ['10.0.0.0/99'] }), { message: /invalid prefix length/ });
  t.throws(() => createSpecChecker({ ...base, fetchTimeoutMs: 0 }), { message: /fetchTimeoutMs/ });
  t.throws(() => createSpecChecker({ ...base, cacheEntries: Number.NaN }), { message: /cacheEntries/ });
  t.throws(() => createSpecChecker({ ...base, cacheMaxBytes: 0 }), { message: /cacheMaxBytes/ });
});

t.test('the result cache is bounded by bytes, a settled result counted at its own size', async (t) => {
  const other = SMALL.replace('"Small"', '"Other"');
  // A pending result counts as about 1 KiB, a settled one of SMALL as about 250 bytes.
  const roomy = checkerFor(t, { cacheMaxBytes: 1500 }).checker;
  await roomy.checkInline(SMALL);
  await roomy.checkInline(other);
  t.match(await roomy.checkInline(SMALL), { ok: true, cached: true }, 'both fit once the first had settled');
  const tight = checkerFor(t, { cacheMaxBytes: 1100 }).checker;
  await tight.checkInline(SMALL);
  await tight.checkInline(other);
  t.match(await tight.checkInline(SMALL), { ok: true, cached: false }, 'the first was evicted to make room');
});
