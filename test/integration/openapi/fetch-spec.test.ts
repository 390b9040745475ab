import t, { type Test } from 'tap';
import type { LookupAddress } from 'node:dns';
import type { ServerResponse } from 'node:http';
import { createSpecFetcher, type FetchResult, type SpecFetcherOptions } from '../../../shared/openapi/fetch-spec.ts';
import type { ResolveAll } from '../../../shared/openapi/guarded-agent.ts';
import { startServer, type LocalServer } from './local-server.ts';

const SPEC = JSON.stringify({ openapi: '3.0.3', info: { title: 'x', version: '1' }, paths: {} });
const MiB = 1024 * 1024;

/** Names used by the tests, resolved without DNS; anything else fails like NXDOMAIN. */
function fakeResolver(table: Record<string, string[]>, calls: string[] = []): ResolveAll {
  return (hostname, callback) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) {
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      return;
    }
    callback(
      null,
      addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };
}

const NAMES = {
  'specs.test': ['127.0.0.1'],
  'api.good.test': ['127.0.0.1'],
  'bad.test': ['127.0.0.1'],
  'rebind.test': ['169.254.169.254'],
  'mapped.test': ['::ffff:169.254.169.254'],
  'mixed.test': ['169.254.169.254', '127.0.0.1'],
  'private.test': ['10.1.2.3'],
};

function fetcherFor(t: Test, overrides: Partial<SpecFetcherOptions> = {}) {
  const fetcher = createSpecFetcher({
    timeoutMs: 3000,
    maxBytes: 4 * MiB,
    maxRedirects: 3,
    allow: [],
    deny: [],
    resolveAll: fakeResolver(NAMES),
    ...overrides,
  });
  t.teardown(() => fetcher.close());
  return fetcher;
}

let server: LocalServer;
let hugeClosedEarly: Promise<boolean>;
let markHugeClosed: (early: boolean) => void = () => {};

t.before(async () => {
  hugeClosedEarly = new Promise((resolve) => {
    markHugeClosed = resolve;
  });
  server = await startServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path === '/spec') {
      if (request.headers['if-none-match'] === '"v1"') return void response.writeHead(304, { etag: '"v1"' }).end();
      return void response
        .writeHead(200, { 'content-type': 'application/json', etag: '"v1"', 'cache-control': 'public, max-age=60' })
        .end(SPEC);
    }
    if (path === '/hang') return; // accepted, never answered
    if (path === '/huge') return streamHuge(response);
    if (path === '/huge-declared') return void response.writeHead(200, { 'content-length': String(10 * MiB) }).end();
    if (path === '/loop') return void response.writeHead(302, { location: '/loop' }).end();
    if (path === '/to-metadata')
      return void response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    if (path === '/to-mapped')
      return void response.writeHead(307, { location: 'http://[::ffff:169.254.169.254]/' }).end();
    if (path === '/hop') return void response.writeHead(301, { location: '/spec' }).end();
    if (path === '/missing')
      return void response.writeHead(404, { 'content-type': 'text/plain' }).end(`not here ${'x'.repeat(5000)}\u0007`);
    if (path === '/busy') return void response.writeHead(503).end('try later');
    if (path === '/slow-down') return void response.writeHead(429).end();
    response.writeHead(500).end();
  });
});
t.teardown(() => server.close());

/** 10 MiB in 64 KiB writes that wait for the socket: the test sees whether the client stopped reading. */
function streamHuge(response: ServerResponse): void {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  response.writeHead(200, { 'content-type': 'application/json' });
  response.on('close', () => markHugeClosed(!response.writableFinished));
  const pump = (): void => {
    while (sent < 10 * MiB) {
      sent += chunk.length;
      if (!response.write(chunk)) return void response.once('drain', pump);
    }
    response.end();
  };
  pump();
}

function expectFailure(t: Test, result: FetchResult, outcome: string, transient: boolean): string {
  t.equal(result.outcome, outcome, `outcome is ${outcome}`);
  if (result.outcome === 'ok' || result.outcome === 'not-modified') return '';
  t.equal(result.transient, transient, `transient is ${transient}`);
  return result.message;
}

t.test('fetches a document with its validators and freshness', async (t) => {
  const result = await fetcherFor(t).fetch(`${server.origin}/spec`);
  t.match(result, { outcome: 'ok', text: SPEC, validators: { etag: '"v1"' }, maxAgeSeconds: 60, noStore: false });
});

t.test('sends the stored validators and reports 304 as not-modified', async (t) => {
  const before = server.requests.length;
  const result = await fetcherFor(t).fetch(`${server.origin}/spec`, {
    etag: '"v1"',
    lastModified: 'Tue, 01 Jul 2025 00:00:00 GMT',
  });
  t.equal(result.outcome, 'not-modified');
  const seen = server.requests.at(-1)!;
  t.equal(server.requests.length, before + 1);
  t.equal(seen.headers['if-none-match'], '"v1"');
  t.equal(seen.headers['if-modified-since'], 'Tue, 01 Jul 2025 00:00:00 GMT');
});

t.test('follows a redirect within the limit', async (t) => {
  t.match(await fetcherFor(t).fetch(`${server.origin}/hop`), { outcome: 'ok', text: SPEC });
});

t.test('a server that never answers is a transient timeout', async (t) => {
  const message = expectFailure(
    t,
    await fetcherFor(t, { timeoutMs: 300 }).fetch(`${server.origin}/hang`),
    'timeout',
    true,
  );
  t.match(message, /longer than 300 ms/);
});

t.test('a streamed body over the cap is too large and stops the download', async (t) => {
  const message = expectFailure(
    t,
    await fetcherFor(t, { maxBytes: 256 * 1024 }).fetch(`${server.origin}/huge`),
    'too-large',
    false,
  );
  t.match(message, /larger than 262144 bytes/);
  t.equal(await hugeClosedEarly, true, 'the server saw the connection close before it sent 10 MiB');
});

t.test('a declared Content-Length over the cap is refused before reading', async (t) => {
  const message = expectFailure(t, await fetcherFor(t).fetch(`${server.origin}/huge-declared`), 'too-large', false);
  t.match(message, /declares 10485760 bytes/);
});

t.test('a redirect loop ends after maxRedirects', async (t) => {
  const before = server.requests.length;
  const result = await fetcherFor(t).fetch(`${server.origin}/loop`);
  t.match(expectFailure(t, result, 'http-error', false), /redirected more than 3 times/);
  t.equal(server.requests.length - before, 4, 'the first request and three redirects');
});

t.test('redirects to metadata addresses are refused without connecting', async (t) => {
  for (const path of ['/to-metadata', '/to-mapped']) {
    const calls: string[] = [];
    const result = await fetcherFor(t, { resolveAll: fakeResolver(NAMES, calls), allow: ['0.0.0.0/0', '::/0'] }).fetch(
      `${server.origin}${path}`,
    );
    t.match(expectFailure(t, result, 'blocked', false), /link-local, unspecified or cloud metadata/, path);
    t.same(calls, [], `${path}: no name was resolved`);
  }
});

t.test('metadata and link-local destinations are always refused', async (t) => {
  const urls = [
    'http://169.254.169.254/latest',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://2852039166/',
    'http://[fd00:ec2::254]/',
    'http://100.100.100.200/',
    'http://168.63.129.16/',
    `http://0.0.0.0:${server.port}/spec`,
    'http://[fe80::1]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://metadata.google.internal/computeMetadata/v1/',
    `http://rebind.test:${server.port}/spec`,
    `http://mapped.test:${server.port}/spec`,
  ];
  // Even an allow list that admits everything does not open them.
  const fetcher = fetcherFor(t, { allow: ['0.0.0.0/0', '::/0', '*.test', '*.internal'] });
  for (const url of urls) {
    const result = await fetcher.fetch(url);
    t.equal(result.outcome, 'blocked', url);
  }
});

t.test('a name resolving to a metadata and a permitted address connects only to the permitted one', async (t) => {
  t.match(await fetcherFor(t).fetch(`http://mixed.test:${server.port}/spec`), { outcome: 'ok', text: SPEC });
});

t.test('allow and deny rules', async (t) => {
  const cases: Array<{ name: string; allow?: string[]; deny?: string[]; url: string; outcome: string }> = [
    { name: 'default allows loopback', url: `http://127.0.0.1:${server.port}/spec`, outcome: 'ok' },
    {
      name: 'denied name, before any lookup',
      deny: ['localhost'],
      url: `http://localhost:${server.port}/spec`,
      outcome: 'blocked',
    },
    {
      name: 'a denied name leaves its address open',
      deny: ['localhost'],
      url: `http://127.0.0.1:${server.port}/spec`,
      outcome: 'ok',
    },
    {
      name: 'denied CIDR, by literal',
      deny: ['127.0.0.0/8'],
      url: `http://127.0.0.1:${server.port}/spec`,
      outcome: 'blocked',
    },
    {
      name: 'denied CIDR, by resolved name',
      deny: ['127.0.0.0/8'],
      url: `http://specs.test:${server.port}/spec`,
      outcome: 'blocked',
    },
    {
      name: 'allowed CIDR admits a name resolving into it',
      allow: ['127.0.0.1/32'],
      url: `http://specs.test:${server.port}/spec`,
      outcome: 'ok',
    },
    {
      name: 'allowed CIDR refuses other addresses',
      allow: ['127.0.0.1/32'],
      url: `http://private.test:${server.port}/spec`,
      outcome: 'blocked',
    },
    { name: 'allowed pattern', allow: ['*.good.test'], url: `http://api.good.test:${server.port}/spec`, outcome: 'ok' },
    {
      name: 'names outside the allowed pattern',
      allow: ['*.good.test'],
      url: `http://bad.test:${server.port}/spec`,
      outcome: 'blocked',
    },
    {
      name: 'literals outside the allowed pattern',
      allow: ['*.good.test'],
      url: `http://127.0.0.1:${server.port}/spec`,
      outcome: 'blocked',
    },
    {
      name: 'deny wins over allow',
      allow: ['127.0.0.0/8'],
      deny: ['specs.test'],
      url: `http://specs.test:${server.port}/spec`,
      outcome: 'blocked',
    },
  ];
  for (const { name, allow = [], deny = [], url, outcome } of cases) {
    const result = await fetcherFor(t, { allow, deny }).fetch(url);
    t.equal(result.outcome, outcome, name);
  }
});

t.test('HTTP errors: 4xx definitive, 429 and 5xx transient, bodies cut short', async (t) => {
  const fetcher = fetcherFor(t);
  const missing = expectFailure(t, await fetcher.fetch(`${server.origin}/missing?sig=s3cr3t`), 'http-error', false);
  t.match(missing, /answered 404: not here x+…$/);
  t.notMatch(missing, /x{201}/, 'at most 200 characters of the body');
  t.notMatch(missing, /s3cr3t/, 'the query string is not echoed');
  // oxlint-disable-next-line no-control-regex -- the control character the fetcher must remove
  t.notMatch(missing, /\u0007/, 'control characters are removed');
  t.match(await fetcher.fetch(`${server.origin}/busy`), { outcome: 'http-error', status: 503, transient: true });
  t.match(await fetcher.fetch(`${server.origin}/slow-down`), { outcome: 'http-error', status: 429, transient: true });
});

t.test('invalid URLs are definitive', async (t) => {
  const fetcher = fetcherFor(t);
  for (const url of [
    'not a url',
    'ftp://127.0.0.1/spec',
    'file:///etc/passwd',
    `http://user:pw@127.0.0.1:${server.port}/spec`,
  ]) {
    expectFailure(t, await fetcher.fetch(url), 'invalid-url', false);
  }
});

t.test('refused connections and unknown names are transient network errors', async (t) => {
  const closed = await startServer(() => {});
  await closed.close();
  const fetcher = fetcherFor(t);
  expectFailure(t, await fetcher.fetch(`${closed.origin}/spec`), 'network-error', true);
  expectFailure(t, await fetcher.fetch('http://nowhere.test/spec'), 'network-error', true);
});

t.test('concurrent fetches are independent and all complete', async (t) => {
  const fetcher = fetcherFor(t, { timeoutMs: 300 });
  const results = await Promise.all([fetcher.fetch(`${server.origin}/hang`), fetcher.fetch(`${server.origin}/spec`)]);
  t.same(
    results.map((result) => result.outcome),
    ['timeout', 'ok'],
  );
});
