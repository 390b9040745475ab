// Hostile admissions, each answered with a 4xx or a denial that says why, never
// a 5xx, never taking the server down; and the TLS the API server meets.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, getCiphers, type ConnectionOptions } from 'node:tls';
import { admissionReview, get, post } from '../../helpers/admission.ts';
import { exposedApi, seedExposedApi } from '../../helpers/resources.ts';
import { startTestWebhook } from '../../helpers/webhook.ts';

const webhook = await startTestWebhook();
// Redirects to where a document must never be fetched from.
const redirector = createServer((req, res) => {
  const to: Record<string, string> = {
    '/to-metadata': 'http://169.254.169.254/metadata/instance?api-version=2021-02-01',
    '/to-file': 'file:///etc/passwd',
    '/to-gopher': 'gopher://127.0.0.1:70/',
  };
  const location = to[req.url ?? ''];
  if (location) res.writeHead(302, { location }).end();
  else res.writeHead(404).end();
});
await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
const redirects = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
t.teardown(async () => {
  await webhook.close();
  await new Promise((resolve) => redirector.close(resolve));
});

const port = Number(new URL(webhook.url).port);
const swagger = (extra: Record<string, unknown>) =>
  JSON.stringify({ swagger: '2.0', info: { title: 'x', version: '1' }, paths: {}, ...extra });

t.test('admission envelopes: a 4xx for what is not a review, never a 5xx', async (t) => {
  const review = admissionReview(exposedApi()) as Record<string, any>;
  const cases: [string, string | object][] = [
    ['malformed JSON', '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionRev'],
    ['the wrong kind', { ...review, kind: 'TokenReview' }],
    ['the wrong apiVersion', { ...review, apiVersion: 'admission.k8s.io/v1beta1' }],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }],
    ['no uid', { ...review, request: { ...review.request, uid: undefined } }],
    ['a 10 MB body', JSON.stringify({ ...review, pad: 'x'.repeat(10 * 1024 * 1024) })],
  ];
  for (const path of ['/validate', '/mutate']) {
    for (const [name, body] of cases) {
      const response = await post(webhook.agent, `${webhook.url}${path}`, body);
      t.ok(response.status >= 400 && response.status < 500, `${path} ${name}: ${response.status}`);
      t.notMatch(response.text, /at .*\.ts:\d+|RangeError|TypeError/, `${path} ${name}: no stack trace`);
    }
  }
});

t.test('names: unicode and over-long ones are denied with the reason, the longest legal ones allowed', async (t) => {
  const named = (name: string, namespace = 'components') => {
    const object = exposedApi({}, { name, namespace });
    return admissionReview(object);
  };
  const longest = named(`a${'b'.repeat(251)}c`, `n${'s'.repeat(61)}x`);
  const allowed = (await post(webhook.agent, `${webhook.url}/validate`, longest)).json.response;
  t.equal(allowed.allowed, true, 'a 253-character name in a 63-character namespace', { status: allowed.status });
  for (const [what, review] of [
    ['a unicode name', named('prodüct-catalög')],
    ['a right-to-left override in the name', named('api\u202Egnp')],
  ] as const) {
    const { status, json } = await post(webhook.agent, `${webhook.url}/validate`, review);
    t.equal(status, 200, what);
    t.equal(json.response.allowed, false, `${what}: denied`);
    t.match(json.response.status.message, /metadata\.name/, `${what}: says where`);
  }
});

t.test('hostile OpenAPI documents are denied, saying why', async (t) => {
  const manyPaths = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`/p${i}`, {}]));
  const laughs = [
    'openapi: 3.0.0',
    'info: {title: x, version: "1"}',
    'paths: {}',
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...Array.from({ length: 8 }, (_, i) => {
      const [me, prev] = [String.fromCharCode(98 + i), String.fromCharCode(97 + i)];
      return `${me}: &${me} [${Array(9).fill(`*${prev}`).join(',')}]`;
    }),
  ].join('\n');
  const cases: [string, Record<string, any>, RegExp][] = [
    [
      'a circular $ref',
      seedExposedApi({
        specification: swagger({
          paths: { '/x': { get: { responses: { 200: { description: 'ok', schema: { $ref: '#/definitions/A' } } } } } },
          definitions: { A: { $ref: '#/definitions/B' }, B: { $ref: '#/definitions/A' } },
        }),
      }),
      /spec\.specification: .*(circular|\$ref)/i,
    ],
    [
      'a remote $ref',
      seedExposedApi({ specification: swagger({ definitions: { A: { $ref: 'http://169.254.169.254/x.json' } } }) }),
      /spec\.specification: .*\$ref/,
    ],
    [
      '100,000 paths',
      seedExposedApi({ specification: swagger({ paths: manyPaths }) }),
      /spec\.specification: .*has 100000 path templates, more than the 10000/,
    ],
    ['a YAML alias bomb', seedExposedApi({ specification: laughs }), /too many YAML aliases/],
    [
      'a URL redirecting to the metadata address',
      exposedApi({ specification: { url: `${redirects}/to-metadata` } }),
      /spec\.specification: cannot be used: .*169\.254\.169\.254/,
    ],
    [
      'a URL redirecting to file:',
      exposedApi({ specification: { url: `${redirects}/to-file` } }),
      /spec\.specification: cannot be used: .*file:/,
    ],
    [
      'a URL redirecting to a non-HTTP scheme',
      exposedApi({ specification: { url: `${redirects}/to-gopher` } }),
      /spec\.specification: cannot be used: .*gopher:/,
    ],
  ];
  for (const [name, object, expected] of cases) {
    const started = performance.now();
    const { status, json } = await post(webhook.agent, `${webhook.url}/validate`, admissionReview(object));
    const ms = Math.round(performance.now() - started);
    t.equal(status, 200, `${name}: an answer (${ms} ms)`);
    t.equal(json?.response?.allowed, false, `${name}: denied`);
    t.match(json?.response?.status?.message, expected, `${name}: says why`);
  }
  t.equal((await get(webhook.agent, `${webhook.url}/healthz`)).status, 200, 'still serving');
});

/** Whether a handshake with these options completes, and what it negotiated. */
function handshake(options: ConnectionOptions): Promise<{ ok: boolean; protocol?: string; cipher?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca: webhook.certs.ca, servername: 'localhost', ...options });
    socket.once('secureConnect', () => {
      resolve({ ok: true, protocol: socket.getProtocol() ?? '', cipher: socket.getCipher().standardName });
      socket.end();
    });
    socket.once('error', () => resolve({ ok: false }));
  });
}

t.test('TLS 1.2 or later only; the suites it accepts', async (t) => {
  // The client must be allowed the old protocols (OpenSSL's security level 0) for the server's refusal to count.
  for (const version of ['TLSv1', 'TLSv1.1'] as const) {
    const old = await handshake({ minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' });
    t.equal(old.ok, false, `a ${version} handshake fails`);
  }
  t.match(await handshake({ maxVersion: 'TLSv1.2', minVersion: 'TLSv1.2' }), { ok: true, protocol: 'TLSv1.2' });
  t.match(await handshake({}), { ok: true, protocol: 'TLSv1.3' });
  const accepted: string[] = [];
  for (const cipher of getCiphers().filter((c) => !c.startsWith('tls_'))) {
    const result = await handshake({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: cipher.toUpperCase() });
    if (result.ok && result.cipher) accepted.push(result.cipher);
  }
  t.comment(`TLS 1.2 suites accepted: ${accepted.join(', ')}`);
  t.ok(accepted.length > 0, 'some TLS 1.2 suites');
  t.same(
    accepted.filter((c) => /_CBC_|_RC4_|_3DES_|_NULL_|_EXPORT_|_anon_|_SHA$/.test(c) && !/GCM|CHACHA/.test(c)),
    [],
    'only AEAD suites: no CBC, RC4, 3DES, NULL, export or anonymous ones',
  );
});
