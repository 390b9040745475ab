import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { createLogger } from '../../shared/log.ts';
import {
  REDIS_TOKEN_SCOPE,
  connectionOptions,
  createRedisConnections,
  refreshDelayMs,
  type TokenSource,
} from '../../shared/redis-connection.ts';
import { redisSettingsFrom } from '../../shared/redis-settings.ts';

/** A logger whose lines the test reads. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('test', 'info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Tokens `t1`, `t2`, ... from a queue of lifetimes; each asked scope is recorded. */
function fakeCredential(plan: { refreshNow?: boolean; fail?: boolean }[]): TokenSource & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    async getToken(scope) {
      scopes.push(scope);
      const step = plan[scopes.length - 1] ?? {};
      if (step.fail) throw new Error('identity endpoint unreachable');
      const now = Date.now();
      return {
        token: `t${scopes.length}`,
        expiresOnTimestamp: now + 3_600_000,
        ...(step.refreshNow ? { refreshAfterTimestamp: now } : {}),
      };
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'redis-connection-'));
const file = (name: string, content: string) => {
  writeFileSync(join(dir, name), content);
  return join(dir, name);
};

t.test('connection options: TLS for rediss:, the CA when given, the ACL user and password', async (t) => {
  const cases: [string, Record<string, string>, { password?: string; ca?: string }, Record<string, unknown>][] = [
    ['plain', { REDIS_URL: 'redis://cache:6379' }, {}, {}],
    ['TLS with the system store', { REDIS_URL: 'rediss://cache:6380' }, {}, { tls: {} }],
    [
      'TLS with a CA of its own',
      { REDIS_URL: 'rediss://cache:6380', REDIS_TLS_CA_FILE: '/ca.crt' },
      { ca: 'PEM' },
      { tls: { ca: 'PEM' } },
    ],
    [
      'user and password',
      { REDIS_USERNAME: 'app', REDIS_PASSWORD_FILE: '/p' },
      { password: 'pw' },
      { username: 'app', password: 'pw' },
    ],
  ];
  for (const [name, env, secrets, expected] of cases)
    t.same(connectionOptions(redisSettingsFrom(env), secrets), expected, name);
});

t.test('the next token is fetched when the credential says, else at 80% of its lifetime', async (t) => {
  t.equal(refreshDelayMs({ expiresOnTimestamp: 11_000 }, 1_000), 8_000);
  t.equal(refreshDelayMs({ expiresOnTimestamp: 11_000, refreshAfterTimestamp: 6_000 }, 1_000), 5_000);
  t.equal(refreshDelayMs({ expiresOnTimestamp: 500 }, 1_000), 0, 'already expired: now');
});

t.test('password and CA come from their files; the caller cannot override them', async (t) => {
  const settings = redisSettingsFrom({
    REDIS_URL: 'rediss://cache:6380',
    REDIS_USERNAME: 'app',
    REDIS_PASSWORD_FILE: file('password', 's3cret\n'),
    REDIS_TLS_CA_FILE: file('ca.crt', 'PEM-CA'),
  });
  const { log, lines } = capturedLog();
  const connections = await createRedisConnections(settings, { log });
  const redis = connections.create({ lazyConnect: true, maxRetriesPerRequest: 3, password: 'other' });
  t.teardown(() => redis.disconnect());
  t.match(redis.options, { host: 'cache', port: 6380, username: 'app', password: 's3cret', maxRetriesPerRequest: 3 });
  t.same(redis.options.tls, { ca: 'PEM-CA' });
  t.notMatch(JSON.stringify(lines), 's3cret', 'nothing logged holds the password');
});

t.test('an unreadable file names its variable and path', async (t) => {
  const { log } = capturedLog();
  for (const [variable, env] of [
    ['REDIS_PASSWORD_FILE', { REDIS_PASSWORD_FILE: join(dir, 'missing') }],
    ['REDIS_TLS_CA_FILE', { REDIS_URL: 'rediss://cache', REDIS_TLS_CA_FILE: join(dir, 'missing') }],
  ] as const) {
    await t.rejects(
      createRedisConnections(redisSettingsFrom(env), { log }),
      {
        name: 'ConfigError',
        message: new RegExp(`^${variable}: cannot read ${join(dir, 'missing')} \\(.*ENOENT.*\\): mount the file`),
      },
      variable,
    );
  }
});

t.test('Entra ID: a new token reaches every connection, the ones duplicate() made too', async (t) => {
  const settings = redisSettingsFrom({ REDIS_AUTH: 'entra', REDIS_USERNAME: 'oid-1' });
  const credential = fakeCredential([{ refreshNow: true }, { fail: true }, {}]);
  const { log, lines } = capturedLog();
  const connections = await createRedisConnections(settings, { log, credential, retryMs: 10 });
  t.teardown(() => connections.close());
  const first: Redis = connections.create({ lazyConnect: true });
  t.match(first.options, { username: 'oid-1', password: 't1' }, 'the first token');
  // Made before the refresh, as BullMQ makes a Worker's connections from the one it is given.
  const copy = first.duplicate({ connectionName: 'blocking' });
  const copyOfCopy = copy.duplicate();
  const all = [first, copy, copyOfCopy];
  t.teardown(() => all.forEach((c) => c.disconnect()));
  await until(() => all.every((c) => c.options.password === 't3'), 'the refreshed token on every connection');
  t.same(credential.scopes, [REDIS_TOKEN_SCOPE, REDIS_TOKEN_SCOPE, REDIS_TOKEN_SCOPE]);
  t.equal(copy.options.connectionName, 'blocking', 'a duplicate keeps its own options');
  t.same(
    lines.map((l) => l.msg),
    ['Could not refresh the Redis access token; trying again', 'Refreshed the Redis access token'],
    'a failed refresh is retried',
  );
  t.match(lines.at(-1), { connections: 3 });
  t.notMatch(JSON.stringify(lines), /"t[123]"/, 'no token in the log');
  t.match(connections.create({ lazyConnect: true }).options, { password: 't3' }, 'new connections too');
});

t.test('Entra ID without a token is an error at start', async (t) => {
  const settings = redisSettingsFrom({ REDIS_AUTH: 'entra', REDIS_USERNAME: 'oid-1' });
  const { log } = capturedLog();
  await t.rejects(createRedisConnections(settings, { log, credential: { getToken: async () => null } }), {
    message: /no token for https:\/\/redis\.azure\.com\/\.default/,
  });
  await t.rejects(createRedisConnections(settings, { log }), { name: 'ConfigError', message: /^REDIS_AUTH: entra/ });
});
