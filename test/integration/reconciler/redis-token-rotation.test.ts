import t from 'tap';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createQueueEnqueuer } from '../../../shared/enqueue.ts';
import { RECONCILE_JOB, RECONCILE_QUEUE } from '../../../shared/jobs.ts';
import { createLogger } from '../../../shared/log.ts';
import { recorded, testLogger } from '../../helpers/scan-recording.ts';
import { createRedisConnections, type TokenSource } from '../../../shared/redis-connection.ts';
import { redisSettingsFrom } from '../../../shared/redis-settings.ts';
import { startQueueWorker } from '../../../reconciler/queue-worker.ts';
import { ownRedis } from '../../helpers/redis-server.ts';

const ROTATIONS = 3;

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test(
  'Entra ID tokens rotated mid-run: every connection comes back with the new one and no job is lost',
  async (t) => {
    const redis = await ownRedis();
    // The default user stays open for the test's own checks; the product connects as "app", like an Entra identity.
    const admin = new Redis(redis.url);
    t.teardown(async () => {
      admin.disconnect();
      await redis.stop();
    });
    await admin.call('ACL', 'SETUSER', 'app', 'on', '>pw1', '~*', '&*', '+@all');

    const appClients = async () =>
      String(await admin.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => line.includes(' user=app ')).length;
    const authCalls = async () => Number(/cmdstat_auth:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);

    // Each token lives 2 s and is the user's only valid password from the moment it is handed out. The test
    // lets the next one out only when it is ready for it, and notes what the server has seen just before.
    let issued = 0;
    let allowed = 0;
    const before: { auths: number; clients: number }[] = [];
    const credential: TokenSource = {
      async getToken() {
        issued += 1;
        if (issued > 1) {
          await until(() => allowed >= issued - 1, `rotation ${issued - 1} to be allowed`);
          before.push({ auths: await authCalls(), clients: await appClients() });
          await admin.call('ACL', 'SETUSER', 'app', 'resetpass', `>pw${issued}`);
        }
        return { token: `pw${issued}`, expiresOnTimestamp: Date.now() + 2000 };
      },
    };
    const refreshes: { connections: number; reauthenticated: number; failed: number }[] = [];
    const log = createLogger(
      'test',
      'info',
      recorded(
        {
          write: (line: string) => {
            const entry = JSON.parse(line);
            if (entry.msg === 'Refreshed the Redis access token') refreshes.push(entry);
          },
        },
        'redis-token-rotation',
      ),
    );
    const settings = redisSettingsFrom({ REDIS_URL: redis.url, REDIS_AUTH: 'entra', REDIS_USERNAME: 'app' });
    const connections = await createRedisConnections(settings, { log, credential });
    const prefix = 'rotation';

    const processed = new Map<string, number>();
    const worker = startQueueWorker({
      connections,
      prefix,
      concurrency: 4,
      // A connection killed while it takes a job can lose the reply: the job stays active under a lock nobody
      // renews until the stalled check hands it back. A short lock makes that seconds, not the default's 45.
      lockDurationMs: 2000,
      backoff: { baseMs: 20, maxMs: 200 },
      log: testLogger(),
      handler: async (key) => {
        processed.set(key, (processed.get(key) ?? 0) + 1);
        return { kind: 'done' };
      },
    });
    // A producer that waits out reconnects; explicit job ids make a command resent after a reconnect harmless.
    const producerConnection = connections.create({ maxRetriesPerRequest: null });
    const producer = new Queue(RECONCILE_QUEUE, { connection: producerConnection, prefix });
    const enqueuer = createQueueEnqueuer({ connections, prefix, delayMs: 0, log: testLogger() });
    t.teardown(async () => {
      await worker.close(1000);
      await enqueuer.close();
      await producer.close();
      producerConnection.disconnect();
      connections.close();
    });

    await until(async () => (await appClients()) > 0 && enqueuer.state() === 'ready', 'the first connections');

    let added = 0;
    let adding = true;
    const producing = (async () => {
      while (adding) {
        const key = `ns/job-${added}`;
        await producer.add(RECONCILE_JOB, { key }, { jobId: key.replace('/', '-') });
        added += 1;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const reauthenticated: { clients: number; auths: number }[] = [];
    for (let rotation = 1; rotation <= ROTATIONS; rotation++) {
      allowed = rotation;
      await until(() => refreshes.length >= rotation, `token ${rotation + 1} to reach the connections`);
      const { auths, clients } = before[rotation - 1] as { auths: number; clients: number };
      // Nothing reconnected since: every AUTH counted is a live connection taking the new token.
      reauthenticated.push({ clients, auths: (await authCalls()) - auths });
      // Only the newest token is accepted now: dropped connections must come back with it.
      await admin.call('CLIENT', 'KILL', 'USER', 'app');
      await until(async () => (await appClients()) >= clients, `every connection back after rotation ${rotation}`);
    }
    adding = false;
    await producing;
    await until(() => processed.size === added, 'every added job to be processed');

    await until(() => enqueuer.state() === 'ready', 'the fail-fast producer to reconnect');
    await enqueuer.enqueue('ns/after-rotations');
    await until(() => processed.has('ns/after-rotations'), 'a job from the fail-fast producer');

    t.ok(added > 0, `${added} jobs added during ${ROTATIONS} rotations`);
    t.same(
      [...processed.entries()].filter(([, runs]) => runs !== 1),
      [],
      'every job processed exactly once',
    );
    t.same(
      reauthenticated.filter((r) => r.clients === 0 || r.auths < r.clients),
      [],
      "every live connection, BullMQ's own included, sent AUTH with each new token",
    );
    t.same(
      refreshes.filter((r) => r.failed > 0),
      [],
      'and the server accepted it',
    );
    const denied = (await admin.call('ACL', 'LOG')) as unknown[][];
    t.same(denied.length, 0, 'no connection ever tried an old token');
  },
);
