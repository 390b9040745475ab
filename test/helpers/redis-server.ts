import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import type { TestCerts } from './certs.ts';
import { testLogger } from './scan-recording.ts';
import { createRedisConnections, type RedisConnections } from '../../shared/redis-connection.ts';
import { redisSettingsFrom } from '../../shared/redis-settings.ts';

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open and nothing answers, as with a hung Redis. */
  freeze(): void;
}

/**
 * A redis-server of the test's own, which it can stop and start again (the
 * shared one must stay up). With `tls`, it serves TLS only (`rediss://`), with
 * that certificate, as Azure Cache for Redis does on 6380. A port another
 * process took between freePort and the server's bind is given up for a new
 * one (tests run in parallel); a server that does not come up fails the test
 * with its own last words.
 */
export async function ownRedis(options: { args?: string[]; tls?: TestCerts } = {}): Promise<OwnRedis> {
  const { tls } = options;
  let port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';
  const listen = (): string[] =>
    tls
      ? Object.entries({
          port: '0',
          'tls-port': String(port),
          'tls-cert-file': tls.certFile,
          'tls-key-file': tls.keyFile,
          'tls-auth-clients': 'no',
        }).flatMap(([name, value]) => [`--${name}`, value])
      : ['--port', String(port)];
  const ping = async (): Promise<boolean> => {
    const client = new Redis({
      port,
      host: '127.0.0.1',
      ...(tls ? { tls: { ca: readFileSync(tls.caFile) } } : {}),
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  };
  /** Starts the server on `port`: true once it answers, false when it exited (its port was taken) or stayed silent. */
  const launch = async (): Promise<boolean> => {
    output = '';
    const started = spawn(
      'redis-server',
      [...listen(), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(options.args ?? [])],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000));
    started.stdout?.on('data', keep);
    started.stderr?.on('data', keep);
    for (let i = 0; i < 400 && started.exitCode === null; i++) {
      if (await ping()) return true;
      await new Promise((r) => setTimeout(r, 25));
    }
    return false;
  };
  const notUp = () => new Error(`redis-server did not come up on port ${port}; its last output:\n${output}`);
  const handle: OwnRedis = {
    get port() {
      return port;
    },
    get url() {
      return `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`;
    },
    async start() {
      if (!(await launch())) throw notUp();
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const running = child;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    },
  };
  for (let attempt = 1; !(await launch()); attempt++) {
    if (attempt === 3) throw notUp();
    await handle.stop();
    port = await freePort();
  }
  return handle;
}

/** Connections as the product makes them, to a Redis without credentials. */
export function plainConnections(url: string): Promise<RedisConnections> {
  return createRedisConnections(redisSettingsFrom({ REDIS_URL: url }), { log: testLogger() });
}
