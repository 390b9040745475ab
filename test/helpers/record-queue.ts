import { Redis } from 'ioredis';
import { record } from './scan-recording.ts';
import { secretScanDir } from './test-secrets.ts';

type Reader = (client: Redis, key: string) => Promise<unknown>;

/** How each Redis type BullMQ uses is read whole: job hashes, the events stream, the state lists and sets. */
const READERS: Record<string, Reader> = {
  hash: (client, key) => client.hgetall(key),
  stream: (client, key) => client.xrange(key, '-', '+'),
  list: (client, key) => client.lrange(key, 0, -1),
  zset: (client, key) => client.zrange(key, '0', '-1', 'WITHSCORES'),
  set: (client, key) => client.smembers(key),
  string: (client, key) => client.get(key),
};

/**
 * In a secret-scan run, records every Redis key under the queue prefix with
 * its content (call it before the test obliterates the queue); nothing otherwise.
 */
export async function recordQueue(redisUrl: string, prefix: string): Promise<void> {
  if (secretScanDir() === undefined) return;
  const client = new Redis(redisUrl, { lazyConnect: true });
  try {
    await client.connect();
    record('jobs', prefix, await readPrefix(client, prefix));
  } finally {
    client.disconnect();
  }
}

async function readPrefix(client: Redis, prefix: string): Promise<string[]> {
  const lines: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await client.type(key);
      const value = await READERS[type]?.(client, key);
      lines.push(JSON.stringify({ key, type, value }));
    }
  } while (cursor !== '0');
  return lines;
}
