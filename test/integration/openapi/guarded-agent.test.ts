import t from 'tap';
import { request } from 'undici';
import { createDestinationPolicy } from '../../../shared/openapi/address-policy.ts';
import {
  BLOCKED_CODE,
  createGuardedAgent,
  guardedLookup,
  type ResolveAll,
} from '../../../shared/openapi/guarded-agent.ts';
import { startServer } from './local-server.ts';

const resolveTo =
  (address: string): ResolveAll =>
  (_hostname, callback) =>
    callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]);

t.test('the agent itself refuses blocked destinations, without the URL pre-check', async (t) => {
  const server = await startServer((_request, response) => response.end('ok'));
  t.teardown(() => server.close());
  const policy = createDestinationPolicy({ allow: [], deny: ['127.0.0.2/32'] });
  const cases: Array<{ url: string; resolve: ResolveAll; blocked: boolean }> = [
    { url: 'http://169.254.169.254/', resolve: resolveTo('127.0.0.1'), blocked: true },
    { url: 'http://[::ffff:a9fe:a9fe]/', resolve: resolveTo('127.0.0.1'), blocked: true },
    { url: 'http://127.0.0.2/', resolve: resolveTo('127.0.0.1'), blocked: true },
    { url: `http://rebound.test:${server.port}/`, resolve: resolveTo('169.254.169.254'), blocked: true },
    { url: `http://fine.test:${server.port}/`, resolve: resolveTo('127.0.0.1'), blocked: false },
  ];
  for (const { url, resolve, blocked } of cases) {
    const agent = createGuardedAgent({ policy, resolveAll: resolve, connectTimeoutMs: 2000 });
    const outcome = await request(url, { dispatcher: agent }).then(
      async (response) => response.body.text(),
      (error: Error & { code?: string }) => error,
    );
    if (blocked) t.match(outcome, { code: BLOCKED_CODE }, url);
    else t.equal(outcome, 'ok', url);
    await agent.close();
  }
});

t.test('guardedLookup answers in the shape net.connect asks for', async (t) => {
  const policy = createDestinationPolicy({ allow: [], deny: [] });
  const both: ResolveAll = (_hostname, callback) =>
    callback(null, [
      { address: '169.254.169.254', family: 4 },
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ]);
  const lookup = guardedLookup(policy, both);
  const all = await new Promise((resolve) =>
    lookup('x.test', { all: true }, (_error, addresses) => resolve(addresses)),
  );
  t.same(
    all,
    [
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ],
    'all permitted addresses, the blocked one dropped',
  );
  const one = await new Promise((resolve) =>
    lookup('x.test', { family: 4 }, (_error, address, family) => resolve([address, family])),
  );
  t.same(one, ['127.0.0.1', 4], 'a single address of the requested family');
  const refused = await new Promise((resolve) =>
    guardedLookup(policy, resolveTo('169.254.169.254'))('x.test', {}, (error) => resolve(error)),
  );
  t.match(refused, { code: BLOCKED_CODE, message: /169\.254\.169\.254/ });
});
