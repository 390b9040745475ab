import t from 'tap';
import { describeRedisSettings, redisSettingsFrom } from '../../shared/redis-settings.ts';

t.test('settings read from the environment', async (t) => {
  const cases: [string, Record<string, string>, Record<string, unknown>][] = [
    [
      'defaults: local Redis, no credentials',
      {},
      { url: 'redis://127.0.0.1:6379', auth: 'password', username: undefined, passwordFile: undefined },
    ],
    [
      'a password from a mounted Secret, with an ACL user',
      { REDIS_USERNAME: 'app', REDIS_PASSWORD_FILE: '/var/run/secrets/redis/password' },
      { auth: 'password', username: 'app', passwordFile: '/var/run/secrets/redis/password' },
    ],
    [
      'TLS with a CA of its own',
      { REDIS_URL: 'rediss://cache.example:6380', REDIS_TLS_CA_FILE: '/ca/ca.crt' },
      { url: 'rediss://cache.example:6380', tlsCaFile: '/ca/ca.crt' },
    ],
    [
      'Entra ID with the identity object id',
      { REDIS_URL: 'rediss://cache.redis.azure.net:10000', REDIS_AUTH: 'entra', REDIS_USERNAME: 'oid-1' },
      { auth: 'entra', username: 'oid-1' },
    ],
    ['a cluster flag that is off', { REDIS_CLUSTER: 'false' }, { url: 'redis://127.0.0.1:6379' }],
  ];
  for (const [name, env, expected] of cases) t.match(redisSettingsFrom(env), expected, name);
});

t.test('a combination that cannot work stops the start with one line naming the variable', async (t) => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['scheme', { REDIS_URL: 'http://redis' }, /^REDIS_URL: must be a redis: or rediss: URL/],
    ['unknown auth mode', { REDIS_AUTH: 'kerberos' }, /^REDIS_AUTH: must be one of password, entra, got "kerberos"$/],
    [
      'entra without the object id',
      { REDIS_AUTH: 'entra' },
      /^REDIS_USERNAME: REDIS_AUTH=entra needs it: set it to the object id/,
    ],
    [
      'entra and a password file',
      { REDIS_AUTH: 'entra', REDIS_USERNAME: 'oid', REDIS_PASSWORD_FILE: '/p' },
      /^REDIS_PASSWORD_FILE: REDIS_AUTH=entra uses access tokens, not a password: unset one of them$/,
    ],
    [
      'a CA file without TLS',
      { REDIS_URL: 'redis://cache:6379', REDIS_TLS_CA_FILE: '/ca.crt' },
      /^REDIS_TLS_CA_FILE: is set but REDIS_URL is not a rediss: URL/,
    ],
    [
      'a password in the URL and in a file',
      { REDIS_URL: 'redis://:pw@cache:6379', REDIS_PASSWORD_FILE: '/p' },
      /^REDIS_URL: carries credentials .*: take them out of REDIS_URL$/,
    ],
    [
      'a user in the URL and in REDIS_USERNAME',
      { REDIS_URL: 'redis://app@cache:6379', REDIS_USERNAME: 'other' },
      /^REDIS_URL: carries credentials/,
    ],
    [
      'a cluster',
      { REDIS_CLUSTER: 'true', QUEUE_PREFIX: '{bull}' },
      /^REDIS_CLUSTER: Redis Cluster is not supported: use a single-endpoint Redis .* and unset REDIS_CLUSTER$/,
    ],
    ['a cluster flag that is not a flag', { REDIS_CLUSTER: 'sometimes' }, /^REDIS_CLUSTER: must be true or false/],
  ];
  for (const [name, env, message] of cases)
    t.throws(() => redisSettingsFrom(env), { name: 'ConfigError', message }, name);
});

t.test('the start-up summary masks the URL credentials', async (t) => {
  const summary = describeRedisSettings(redisSettingsFrom({ REDIS_URL: 'rediss://app:hunter2@cache:6380' }));
  t.notMatch(JSON.stringify(summary), 'hunter2');
  t.match(summary, { redisUrl: 'rediss://***:***@cache:6380', redisAuth: 'password' });
});
