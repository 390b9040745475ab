import { readFile } from 'node:fs/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, errorMessage } from './errors.ts';
import type { Logger } from './log.ts';
import type { RedisSettings } from './redis-settings.ts';

/** The scope Azure Cache for Redis and Azure Managed Redis accept Entra ID tokens for. */
export const REDIS_TOKEN_SCOPE = 'https://redis.azure.com/.default';

/** What we need of an @azure/identity TokenCredential; tests pass a fake. */
export interface TokenSource {
  getToken(
    scope: string,
  ): Promise<{ token: string; expiresOnTimestamp: number; refreshAfterTimestamp?: number | undefined } | null>;
}

/** What the files and the credential gave at start. */
export interface RedisSecrets {
  readonly password?: string | undefined;
  readonly ca?: string | undefined;
}

/** ioredis options as we use them: RESP2-shaped replies (ioredis's default), so connections type as plain `Redis`. */
export type ConnectionOptions = Omit<RedisOptions, 'replyMapping'>;

/** Makes every connection to Redis, so that address, TLS and credentials are the same for all. */
export interface RedisConnections {
  /** A new connection; `behaviour` holds what differs per use (retries, offline queue, timeouts). */
  create(behaviour?: ConnectionOptions): Redis;
  /** Stops refreshing the access token and re-reading the password file; each connection is closed by its owner. */
  close(): void;
}

/** Options every connection shares: the caller's behaviour options cannot override them. */
export function connectionOptions(settings: RedisSettings, secrets: RedisSecrets): ConnectionOptions {
  const tls = new URL(settings.url).protocol === 'rediss:';
  return {
    ...(settings.username ? { username: settings.username } : {}),
    ...(secrets.password !== undefined ? { password: secrets.password } : {}),
    ...(tls ? { tls: secrets.ca ? { ca: secrets.ca } : {} } : {}),
  };
}

/** When to fetch the next token: when the credential says, else at 80% of its lifetime. */
export function refreshDelayMs(
  token: { expiresOnTimestamp: number; refreshAfterTimestamp?: number | undefined },
  now: number,
): number {
  const at = token.refreshAfterTimestamp ?? now + (token.expiresOnTimestamp - now) * 0.8;
  return Math.max(0, at - now);
}

async function readSetting(path: string, variable: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `${variable}: cannot read ${path} (${errorMessage(error)}): mount the file there or unset it`,
    );
  }
}

async function fetchToken(credential: TokenSource) {
  const token = await credential.getToken(REDIS_TOKEN_SCOPE);
  if (!token) throw new Error(`the Azure credential gave no token for ${REDIS_TOKEN_SCOPE}`);
  return token;
}

/**
 * Reads the password or CA files and, with REDIS_AUTH=entra, takes a first
 * token from `credential`; then makes connections. With Entra ID the token is
 * replaced before it expires and every live connection re-authenticates,
 * including those BullMQ makes with `duplicate()`: the connections this
 * returns duplicate through the same registry.
 */
export async function createRedisConnections(
  settings: RedisSettings,
  deps: { log: Logger; credential?: TokenSource | undefined; retryMs?: number; passwordRecheckMs?: number },
): Promise<RedisConnections> {
  const ca = settings.tlsCaFile ? await readSetting(settings.tlsCaFile, 'REDIS_TLS_CA_FILE') : undefined;
  const credential = settings.auth === 'entra' ? deps.credential : undefined;
  if (settings.auth === 'entra' && !credential)
    throw new ConfigError('REDIS_AUTH: entra needs an Azure credential, and none was given');
  let token = credential ? await fetchToken(credential) : undefined;
  const password = settings.passwordFile
    ? (await readSetting(settings.passwordFile, 'REDIS_PASSWORD_FILE')).trim()
    : token?.token;
  const shared = connectionOptions(settings, { password, ca });
  const live = new Set<Redis>();
  const track = (connection: Redis): Redis => {
    live.add(connection);
    // BullMQ may connect a closed connection again: it is live while it tries.
    connection.on('connecting', () => live.add(connection));
    connection.on('end', () => live.delete(connection));
    return connection;
  };
  class TrackedRedis extends Redis {
    // ioredis's duplicate() copies the options as they are now into a plain Redis: keep copies in the registry.
    override duplicate(override?: Partial<RedisOptions>): Redis {
      return track(new TrackedRedis({ ...this.options, ...override, replyMapping: 'legacy' }));
    }
  }

  /** Makes `next` the password every later (re)connect sends; returns the live connections. */
  const usePassword = (next: string): Redis[] => {
    shared.password = next;
    const connections = [...live];
    for (const c of connections) c.options.password = next;
    return connections;
  };

  let timer: NodeJS.Timeout | undefined;
  const schedule = (delayMs: number): void => {
    timer = setTimeout(() => void refresh(), delayMs);
    timer.unref();
  };
  const refresh = async (): Promise<void> => {
    if (!credential || !token) return;
    try {
      token = await fetchToken(credential);
    } catch (error) {
      deps.log.warn({ err: errorMessage(error) }, 'Could not refresh the Redis access token; trying again');
      schedule(Math.min(deps.retryMs ?? 10_000, Math.max(0, token.expiresOnTimestamp - Date.now())));
      return;
    }
    const next = token.token;
    // Reconnects read options.password; a connection that is up must AUTH again before its old token expires.
    // One that is connecting meanwhile may finish with the old token: Redis closes it at expiry, and it reconnects with this one.
    const connections = usePassword(next);
    const ready = connections.filter((c) => c.status === 'ready');
    const results = await Promise.allSettled(ready.map((c) => c.auth(settings.username ?? '', next)));
    const failed = results.filter((r) => r.status === 'rejected').length;
    deps.log.info(
      { connections: connections.length, reauthenticated: ready.length - failed, failed },
      'Refreshed the Redis access token',
    );
    schedule(refreshDelayMs(token, Date.now()));
  };
  if (token) schedule(refreshDelayMs(token, Date.now()));

  // A rotated Secret (a regenerated access key) reaches the mounted file within the kubelet's sync period.
  // Connections that are up stay authenticated; the next reconnect, which Redis forces once the old
  // password is revoked, sends the new one. A file that cannot be read now keeps the last password.
  const passwordFile = settings.passwordFile;
  const reread = async (file: string): Promise<void> => {
    let next: string;
    try {
      next = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      deps.log.warn({ err: errorMessage(error) }, 'Could not re-read REDIS_PASSWORD_FILE; keeping the last password');
      return;
    }
    if (next === shared.password || next === '') return;
    const connections = usePassword(next);
    deps.log.info({ connections: connections.length }, 'Read a new Redis password from REDIS_PASSWORD_FILE');
  };
  const recheck = passwordFile
    ? setInterval(() => void reread(passwordFile), deps.passwordRecheckMs ?? 30_000)
    : undefined;
  recheck?.unref();

  return {
    create: (behaviour = {}) => track(new TrackedRedis(settings.url, { ...behaviour, ...shared })),
    close: () => {
      clearTimeout(timer);
      clearInterval(recheck);
    },
  };
}
