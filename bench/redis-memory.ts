import { Redis } from 'ioredis';

export interface RedisMemory {
  readonly usedMb: number;
  readonly peakMb: number;
}

/** `INFO memory` of the Redis at `url`: used_memory and used_memory_peak, in MB. */
export async function redisMemory(url: string): Promise<RedisMemory> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('memory');
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    return { usedMb: field('used_memory') / 2 ** 20, peakMb: field('used_memory_peak') / 2 ** 20 };
  } finally {
    client.disconnect();
  }
}
