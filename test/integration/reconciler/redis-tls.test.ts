// An external Redis as Azure Cache for Redis serves it: TLS only, a private CA
// from a file (the chart's tlsCaSecret), an ACL user with a password from a
// file (passwordSecret). Jobs flow from the webhook's enqueuer to the worker
// over those connections; a missing CA or a wrong password fails with the
// server's or the TLS stack's own reason.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createQueueEnqueuer } from '../../../shared/enqueue.ts';
import { createLogger } from '../../../shared/log.ts';
import { testLogger } from '../../helpers/scan-recording.ts';
import { createRedisConnections, type RedisConnections } from '../../../shared/redis-connection.ts';
import { redisSettingsFrom } from '../../../shared/redis-settings.ts';
import { startQueueWorker } from '../../../reconciler/queue-worker.ts';
import { makeCerts } from '../../helpers/certs.ts';
import { ownRedis } from '../../helpers/redis-server.ts';
import { recorded } from '../../helpers/scan-recording.ts';
import { redisPassword } from '../../helpers/test-secrets.ts';

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const certs = makeCerts('redis');
const redis = await ownRedis({ tls: certs });
const admin = new Redis(redis.url, { tls: { ca: certs.ca } });
const password = redisPassword();
const rotatedPassword = redisPassword('rotated-pw');
await admin.call('ACL', 'SETUSER', 'app', 'on', `>${password}`, '~*', '&*', '+@all');
await admin.call('ACL', 'SETUSER', 'default', 'off');
t.teardown(async () => {
  admin.disconnect();
  await redis.stop();
});
const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
const passwordFile = join(dir, 'password');
writeFileSync(passwordFile, `${password}\n`);
const env = {
  REDIS_URL: redis.url,
  REDIS_USERNAME: 'app',
  REDIS_PASSWORD_FILE: passwordFile,
  REDIS_TLS_CA_FILE: certs.caFile,
};

/** A worker and the webhook's enqueuer on these connections, the producer connected; the keys the worker ran, in order. */
async function jobsFlowing(t: { teardown(fn: () => unknown): void }, connections: RedisConnections, prefix: string) {
  const processed: string[] = [];
  const worker = startQueueWorker({
    connections,
    prefix,
    concurrency: 2,
    backoff: { baseMs: 20, maxMs: 200 },
    log: testLogger(),
    handler: async (key) => {
      processed.push(key);
      return { kind: 'done' };
    },
  });
  const enqueuer = createQueueEnqueuer({ connections, prefix, delayMs: 0, log: testLogger() });
  t.teardown(async () => {
    await worker.close(1000);
    await enqueuer.close();
    connections.close();
  });
  await until(() => enqueuer.state() === 'ready', 'the producer to connect');
  return { processed, enqueuer };
}

t.test('rediss:// with the CA and password files: jobs go from enqueuer to worker', async (t) => {
  t.match(redis.url, /^rediss:\/\//);
  const connections = await createRedisConnections(redisSettingsFrom(env), { log: testLogger() });
  const { processed, enqueuer } = await jobsFlowing(t, connections, 'tls');
  for (const key of ['components/a', 'components/b']) await enqueuer.enqueue(key);
  await until(() => processed.length === 2, 'both jobs to be processed');
  t.same(processed.sort(), ['components/a', 'components/b']);
  const clients = String(await admin.call('CLIENT', 'LIST'))
    .split('\n')
    .filter((line) => line.includes(' user=app '));
  t.ok(clients.length >= 2, `${clients.length} connections of user app, all over TLS (the server has no plain port)`);
});

t.test('without the private CA the connection is refused by TLS verification', async (t) => {
  const { REDIS_TLS_CA_FILE: _ca, ...withoutCa } = env;
  const connections = await createRedisConnections(redisSettingsFrom(withoutCa), { log: testLogger() });
  const client = connections.create({ maxRetriesPerRequest: 0, retryStrategy: () => null });
  const errors: string[] = [];
  client.on('error', (error: Error) => errors.push(error.message));
  t.teardown(() => {
    client.disconnect();
    connections.close();
  });
  await t.rejects(client.ping());
  await until(() => errors.length > 0, 'the connection error');
  t.match(errors.join('\n'), /unable to verify the first certificate/);
});

t.test('a wrong password is refused by the server, naming it', async (t) => {
  writeFileSync(join(dir, 'wrong'), 'not-it');
  const connections = await createRedisConnections(
    redisSettingsFrom({ ...env, REDIS_PASSWORD_FILE: join(dir, 'wrong') }),
    { log: testLogger() },
  );
  const client = connections.create({ maxRetriesPerRequest: 0, retryStrategy: () => null });
  const errors: string[] = [];
  client.on('error', (error: Error) => errors.push(error.message));
  t.teardown(() => {
    client.disconnect();
    connections.close();
  });
  await t.rejects(client.ping());
  await until(() => errors.length > 0, 'the connection error');
  t.match(errors.join('\n'), /WRONGPASS/);
});

t.test('a rotated password file: connections come back with the new password and jobs keep flowing', async (t) => {
  const rotating = join(dir, 'rotating');
  writeFileSync(rotating, password);
  await admin.call('ACL', 'SETUSER', 'rotating', 'on', `>${password}`, '~*', '&*', '+@all');
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(
    'test',
    'info',
    recorded({ write: (line: string) => void lines.push(JSON.parse(line)) }, 'redis-tls'),
  );
  const connections = await createRedisConnections(
    redisSettingsFrom({ ...env, REDIS_USERNAME: 'rotating', REDIS_PASSWORD_FILE: rotating }),
    { log, passwordRecheckMs: 20 },
  );
  const { processed, enqueuer } = await jobsFlowing(t, connections, 'tls-rotation');
  await enqueuer.enqueue('components/before');
  await until(() => processed.includes('components/before'), 'the job before the rotation');

  // The access key is regenerated: the old one stops working and Redis drops its connections.
  await admin.call('ACL', 'SETUSER', 'rotating', 'resetpass', `>${rotatedPassword}`);
  writeFileSync(rotating, `${rotatedPassword}\n`);
  await until(() => lines.some((l) => l.msg === 'Read a new Redis password from REDIS_PASSWORD_FILE'), 'the re-read');
  const clients = async () =>
    String(await admin.call('CLIENT', 'LIST'))
      .split('\n')
      .filter((line) => line.includes(' user=rotating ')).length;
  const before = await clients();
  await admin.call('CLIENT', 'KILL', 'USER', 'rotating');
  await until(async () => (await clients()) >= before && enqueuer.state() === 'ready', 'every connection back');
  await enqueuer.enqueue('components/after');
  await until(() => processed.includes('components/after'), 'the job after the rotation');
  t.same(processed, ['components/before', 'components/after'], 'each job once, across the rotation');
  for (const secret of [password, rotatedPassword])
    t.notOk(JSON.stringify(lines).includes(secret), 'no password in the log');
});
