import { fileURLToPath } from 'node:url';
import { SPEC_CACHE_MAX_BYTES } from '../shared/openapi/bounded-cache.ts';
import { integer, list, text, type Env } from '../shared/env.ts';
import { redisSettingsFrom, type RedisSettings } from '../shared/redis-settings.ts';
import { DEFAULT_QUEUE_PREFIX } from '../shared/jobs.ts';
import { monitoredNamespacesFrom, type MonitoredNamespaces } from '../shared/namespaces.ts';

const DEV_CERTS = fileURLToPath(new URL('../certs/out/', import.meta.url));

export interface WebhookConfig {
  readonly host: string;
  readonly port: number;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly tlsReloadIntervalMs: number;
  readonly bodyLimitBytes: number;
  readonly redis: RedisSettings;
  readonly queuePrefix: string;
  readonly enqueueTimeoutMs: number;
  readonly enqueueDelayMs: number;
  /** MONITORED_NAMESPACES: ExposedAPIs elsewhere are admitted untouched (no checks, no defaults, no queueing). */
  readonly namespaces: MonitoredNamespaces;
  readonly specFetch: {
    readonly timeoutMs: number;
    readonly maxBytes: number;
    readonly maxRedirects: number;
    readonly allow: readonly string[];
    readonly deny: readonly string[];
    readonly cacheEntries: number;
    readonly cacheMaxBytes: number;
    readonly freshForMs: number;
  };
}

/**
 * The webhook's settings, read once at start. Defaults run it locally: the
 * certificates `npm run certs` writes, Redis on localhost.
 */
export function loadWebhookConfig(env: Env): WebhookConfig {
  return Object.freeze({
    host: text(env, 'WEBHOOK_HOST', '0.0.0.0'),
    port: integer(env, 'WEBHOOK_PORT', 8443, 0, 65535),
    tlsCertFile: text(env, 'WEBHOOK_TLS_CERT', `${DEV_CERTS}tls.crt`),
    tlsKeyFile: text(env, 'WEBHOOK_TLS_KEY', `${DEV_CERTS}tls.key`),
    tlsReloadIntervalMs: integer(env, 'WEBHOOK_TLS_RELOAD_SECONDS', 10, 1, 3600) * 1000,
    // The API server sends object and oldObject; an ExposedAPI with an inline document is at most ~1.5 MiB (etcd's limit).
    bodyLimitBytes: integer(env, 'WEBHOOK_BODY_LIMIT_BYTES', 8 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    redis: redisSettingsFrom(env),
    queuePrefix: text(env, 'QUEUE_PREFIX', DEFAULT_QUEUE_PREFIX),
    enqueueTimeoutMs: integer(env, 'ENQUEUE_TIMEOUT_MS', 250, 10, 5000),
    // The API server persists the object only after admission: a job that ran at once could miss it.
    enqueueDelayMs: integer(env, 'ENQUEUE_DELAY_MS', 1000, 0, 60000),
    namespaces: monitoredNamespacesFrom(env),
    specFetch: Object.freeze({
      timeoutMs: integer(env, 'SPEC_FETCH_TIMEOUT_MS', 3000, 100, 8000),
      maxBytes: integer(env, 'SPEC_FETCH_MAX_BYTES', 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
      maxRedirects: integer(env, 'SPEC_FETCH_MAX_REDIRECTS', 3, 0, 10),
      allow: Object.freeze(list(env, 'SPEC_FETCH_ALLOW')),
      deny: Object.freeze(list(env, 'SPEC_FETCH_DENY')),
      cacheEntries: integer(env, 'SPEC_CACHE_ENTRIES', 500, 1, 100000),
      cacheMaxBytes: integer(env, 'SPEC_CACHE_MAX_BYTES', SPEC_CACHE_MAX_BYTES, 1024, 8 * 1024 ** 3),
      freshForMs: integer(env, 'SPEC_CACHE_FRESH_SECONDS', 300, 0, 86400) * 1000,
    }),
  });
}
