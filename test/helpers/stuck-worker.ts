// A reconciler worker in a process of its own whose reconcile never ends: the test kills it mid-job.
import { startQueueWorker } from '../../reconciler/queue-worker.ts';
import { testLogger } from './scan-recording.ts';
import { plainConnections } from './redis-server.ts';

const [redisUrl = '', prefix = ''] = process.argv.slice(2);
startQueueWorker({
  connections: await plainConnections(redisUrl),
  prefix,
  concurrency: 1,
  lockDurationMs: 1000,
  backoff: { baseMs: 20, maxMs: 200 },
  log: testLogger(),
  handler: async (key) => {
    process.stdout.write(`started ${key}\n`);
    return new Promise(() => undefined);
  },
});
