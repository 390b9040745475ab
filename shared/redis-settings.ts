import { ConfigError } from './errors.ts';
import { flag, oneOf, optionalText, url, type Env } from './env.ts';

export const REDIS_AUTH_MODES = ['password', 'entra'] as const;
export type RedisAuthMode = (typeof REDIS_AUTH_MODES)[number];

/** How to reach Redis and prove who we are; files are named here and read when connections are made. */
export interface RedisSettings {
  /** REDIS_URL: redis: or rediss: (TLS). */
  readonly url: string;
  /** REDIS_AUTH: `password` (the URL's, REDIS_PASSWORD_FILE's, or none) or `entra` (an Entra ID access token). */
  readonly auth: RedisAuthMode;
  /** REDIS_USERNAME: the ACL user; with `entra`, the identity's object id. */
  readonly username: string | undefined;
  /** REDIS_PASSWORD_FILE: a mounted Secret holding the password. */
  readonly passwordFile: string | undefined;
  /** REDIS_TLS_CA_FILE: PEM bundle that signed the server's certificate, when the system store does not hold it. */
  readonly tlsCaFile: string | undefined;
}

/**
 * Reads the Redis settings both processes share. Every combination that
 * cannot work is refused here, at start, naming the variable to change.
 */
export function redisSettingsFrom(env: Env): RedisSettings {
  const redisUrl = url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']);
  if (flag(env, 'REDIS_CLUSTER', false))
    throw new ConfigError(
      'REDIS_CLUSTER: Redis Cluster is not supported: use a single-endpoint Redis (for Azure Managed Redis, the Enterprise clustering policy) and unset REDIS_CLUSTER',
    );
  const settings: RedisSettings = {
    url: redisUrl,
    auth: oneOf(env, 'REDIS_AUTH', REDIS_AUTH_MODES, 'password'),
    username: optionalText(env, 'REDIS_USERNAME'),
    passwordFile: optionalText(env, 'REDIS_PASSWORD_FILE'),
    tlsCaFile: optionalText(env, 'REDIS_TLS_CA_FILE'),
  };
  checkCombination(settings);
  return Object.freeze(settings);
}

function checkCombination(settings: RedisSettings): void {
  const parsed = new URL(settings.url);
  if (settings.tlsCaFile && parsed.protocol !== 'rediss:')
    throw new ConfigError('REDIS_TLS_CA_FILE: is set but REDIS_URL is not a rediss: URL: use rediss:// or unset it');
  // ioredis lets the URL's credentials win over explicit ones: two sources would silently use the wrong one.
  if (
    (settings.username && parsed.username) ||
    ((settings.passwordFile || settings.auth === 'entra') && parsed.password)
  )
    throw new ConfigError(
      'REDIS_URL: carries credentials that REDIS_USERNAME, REDIS_PASSWORD_FILE or REDIS_AUTH=entra also give: take them out of REDIS_URL',
    );
  if (settings.auth !== 'entra') return;
  if (!settings.username)
    throw new ConfigError(
      "REDIS_USERNAME: REDIS_AUTH=entra needs it: set it to the object id (principal id) of the identity Redis knows, as listed under the cache's Microsoft Entra authentication",
    );
  if (settings.passwordFile)
    throw new ConfigError(
      'REDIS_PASSWORD_FILE: REDIS_AUTH=entra uses access tokens, not a password: unset one of them',
    );
}

/** The settings for the start-up log line: URL credentials masked, files by path only. */
export function describeRedisSettings(settings: RedisSettings): Record<string, unknown> {
  return {
    redisUrl: withoutCredentials(settings.url),
    redisAuth: settings.auth,
    redisUsername: settings.username,
    redisPasswordFile: settings.passwordFile,
    redisTlsCaFile: settings.tlsCaFile,
  };
}

function withoutCredentials(raw: string): string {
  const parsed = new URL(raw);
  if (parsed.username || parsed.password) {
    parsed.username = parsed.username ? '***' : '';
    parsed.password = parsed.password ? '***' : '';
  }
  return parsed.toString().replace(/\/$/, '');
}
