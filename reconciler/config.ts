/**
 * The reconciler's settings, read once at start and frozen. APIM and Entra
 * values come from Key Vault (the seed operator's secret names), each one
 * overridable by an environment variable; the Key Vault reader is passed in.
 */
import { ConfigError } from '../shared/errors.ts';
import { flag, integer, oneOf, optionalText, text, url, type Env } from '../shared/env.ts';
import { describeRedisSettings, redisSettingsFrom, type RedisSettings } from '../shared/redis-settings.ts';
import { DEFAULT_QUEUE_PREFIX } from '../shared/jobs.ts';
import { monitoredNamespacesFrom, type MonitoredNamespaces } from '../shared/namespaces.ts';
import { SPEC_CACHE_MAX_BYTES, type CacheBounds } from '../shared/openapi/bounded-cache.ts';
import { OPENMETRICS_IMPLEMENTATIONS, type OpenMetricsImplementation } from './render/scrape.ts';
import type { DashboardSettings } from './dashboard-auth.ts';

export interface ReconcilerConfig {
  readonly redis: RedisSettings;
  readonly queuePrefix: string;
  readonly adminHost: string;
  readonly adminPort: number;
  readonly concurrency: number;
  readonly resyncIntervalSeconds: number;
  readonly ingressClass: string;
  /** Base URL APIM reaches the mesh at; without it, the Ingress load-balancer address is used. */
  readonly gatewayBaseUrl: string | undefined;
  readonly armEndpoint: string;
  /** AZURE_AUTHORITY_HOST: the Entra ID authority, also the issuer of the tokens APIM checks. */
  readonly authorityHost: string;
  readonly apim: {
    readonly serviceName: string;
    readonly resourceGroup: string;
    readonly subscriptionId: string;
    readonly gatewayUrl: string;
  };
  readonly aad: { readonly tenantId: string; readonly clientId: string };
  readonly apimWritesPerSecond: number;
  readonly apimReadsPerSecond: number;
  readonly quotaPeriodSeconds: number;
  readonly publishInternalSegments: boolean;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** Interval between polls of a long-running APIM operation (a Retry-After from APIM wins). */
  readonly apimPollIntervalMs: number;
  /** MONITORED_NAMESPACES: where ExposedAPIs are served; empty: everywhere. */
  readonly namespaces: MonitoredNamespaces;
  /** OPENMETRICS_IMPLEMENTATION: how metrics APIs are made scrapable, as the Canvas names the choices. */
  readonly openMetricsImplementation: OpenMetricsImplementation;
  /** REQUIRE_READY_ENDPOINTS: Ready needs a ready endpoint of the implementing Service. */
  readonly requireReadyEndpoints: boolean;
  /** SPEC_CACHE_ENTRIES, SPEC_CACHE_MAX_BYTES: the fetched documents kept for revalidation. */
  readonly specCache: CacheBounds;
  /** DASHBOARD_*: who may use the queue dashboard, and whether it may change the queue. */
  readonly dashboard: DashboardSettings;
}

/** Reads one secret by name; undefined when the vault has no such secret. */
export type SecretReader = (name: string) => Promise<string | undefined>;

/** A value read from Key Vault, overridden by an environment variable. */
const VAULT_SETTINGS = {
  serviceName: { env: 'APIM_SERVICE_NAME', secret: 'apim-service-name' },
  resourceGroup: { env: 'APIM_RESOURCE_GROUP', secret: 'resource-group' },
  subscriptionId: { env: 'AZURE_SUBSCRIPTION_ID', secret: 'subscription-id' },
  tenantId: { env: 'AAD_TENANT_ID', secret: 'aad-tenant-id' },
  clientId: { env: 'AAD_CLIENT_ID', secret: 'aad-client-id' },
} as const;
type VaultSetting = keyof typeof VAULT_SETTINGS;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VAULT_NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;
const SERVICE_NAME = /^[a-zA-Z][a-zA-Z0-9-]{0,48}[a-zA-Z0-9]$/;

/** The Key Vault to read: KEY_VAULT_URL, else https://KEY_VAULT_NAME.vault.azure.net, else none (env only). */
export function keyVaultUrlFrom(env: Env): string | undefined {
  if (optionalText(env, 'KEY_VAULT_URL')) return url(env, 'KEY_VAULT_URL', '', ['https:']);
  const name = optionalText(env, 'KEY_VAULT_NAME');
  if (name === undefined) return undefined;
  if (!VAULT_NAME.test(name))
    throw new ConfigError(
      `KEY_VAULT_NAME: must be a Key Vault name (3-24 letters, digits and hyphens, starting with a letter), got ${JSON.stringify(name)}`,
    );
  return `https://${name}.vault.azure.net`;
}

async function readVaultSettings(env: Env, secrets: SecretReader | undefined): Promise<Record<VaultSetting, string>> {
  const entries = await Promise.all(
    Object.entries(VAULT_SETTINGS).map(async ([key, { env: name, secret }]) => {
      const fromEnv = optionalText(env, name);
      if (fromEnv !== undefined) return [key, fromEnv] as const;
      const fromVault = secrets ? (await secrets(secret))?.trim() : undefined;
      return [key, fromVault || undefined] as const;
    }),
  );
  const values = Object.fromEntries(entries) as Record<VaultSetting, string | undefined>;
  const missing = (Object.keys(VAULT_SETTINGS) as VaultSetting[]).filter((k) => values[k] === undefined);
  if (missing.length > 0) {
    throw new ConfigError(
      missing
        .map((k) => {
          const { env: name, secret } = VAULT_SETTINGS[k];
          return secrets
            ? `${name} is not set and Key Vault has no secret ${JSON.stringify(secret)}: set one of them`
            : `${name} is not set and no Key Vault (KEY_VAULT_NAME or KEY_VAULT_URL) is configured to read secret ${JSON.stringify(secret)}: set one of them`;
        })
        .join('; '),
    );
  }
  return values as Record<VaultSetting, string>;
}

function checkVaultValues(values: Record<VaultSetting, string>): void {
  const uuid = (k: VaultSetting) => {
    if (!UUID.test(values[k]))
      throw new ConfigError(
        `${VAULT_SETTINGS[k].env} (or Key Vault secret ${JSON.stringify(VAULT_SETTINGS[k].secret)}): must be a UUID`,
      );
  };
  uuid('subscriptionId');
  if (!SERVICE_NAME.test(values.serviceName)) {
    throw new ConfigError(
      `APIM_SERVICE_NAME (or Key Vault secret "apim-service-name"): must be an API Management service name (letters, digits and hyphens), got ${JSON.stringify(values.serviceName)}`,
    );
  }
}

/**
 * SHUTDOWN_GRACE_SECONDS, read before the rest (it must hold for a SIGTERM
 * during start-up). Kubernetes waits terminationGracePeriodSeconds (60 in
 * k8s/) before SIGKILL: finish or hand back running jobs well before.
 */
export function shutdownGraceMsFrom(env: Env): number {
  return integer(env, 'SHUTDOWN_GRACE_SECONDS', 45, 0, 3600) * 1000;
}

/**
 * Reads and checks every setting. `secrets` reads Key Vault (pass one when
 * keyVaultUrlFrom(env) names a vault); without it only the environment counts.
 */
export async function loadReconcilerConfig(env: Env, secrets?: SecretReader): Promise<ReconcilerConfig> {
  const vault = await readVaultSettings(env, secrets);
  checkVaultValues(vault);
  const baseMs = integer(env, 'BACKOFF_BASE_MS', 1000, 1, 3_600_000);
  const maxMs = integer(env, 'BACKOFF_MAX_MS', 300_000, 1, 86_400_000);
  if (maxMs < baseMs)
    throw new ConfigError(`BACKOFF_MAX_MS: must be at least BACKOFF_BASE_MS (${baseMs}), got ${maxMs}`);
  const gateway = optionalText(env, 'INGRESS_GATEWAY_URL');
  const config: ReconcilerConfig = {
    redis: redisSettingsFrom(env),
    queuePrefix: text(env, 'QUEUE_PREFIX', DEFAULT_QUEUE_PREFIX),
    adminHost: text(env, 'ADMIN_HOST', '0.0.0.0'),
    adminPort: integer(env, 'ADMIN_PORT', 9090, 0, 65535),
    concurrency: integer(env, 'RECONCILE_CONCURRENCY', 4, 1, 1000),
    resyncIntervalSeconds: integer(env, 'RESYNC_INTERVAL_SECONDS', 600, 1, 604_800),
    ingressClass: text(env, 'INGRESS_CLASS', 'istio'),
    gatewayBaseUrl:
      gateway === undefined ? undefined : url(env, 'INGRESS_GATEWAY_URL', '', ['http:', 'https:']).replace(/\/+$/, ''),
    armEndpoint: url(env, 'ARM_ENDPOINT', 'https://management.azure.com', ['https:', 'http:']).replace(/\/+$/, ''),
    authorityHost: url(env, 'AZURE_AUTHORITY_HOST', 'https://login.microsoftonline.com', ['https:', 'http:']).replace(
      /\/+$/,
      '',
    ),
    apim: {
      serviceName: vault.serviceName,
      resourceGroup: vault.resourceGroup,
      subscriptionId: vault.subscriptionId.toLowerCase(),
      gatewayUrl: url(env, 'APIM_GATEWAY_URL', `https://${vault.serviceName}.azure-api.net`, [
        'https:',
        'http:',
      ]).replace(/\/+$/, ''),
    },
    aad: { tenantId: vault.tenantId, clientId: vault.clientId },
    apimWritesPerSecond: integer(env, 'APIM_WRITES_PER_SECOND', 10, 1, 10_000),
    apimReadsPerSecond: integer(env, 'APIM_READS_PER_SECOND', 20, 1, 10_000),
    quotaPeriodSeconds: integer(env, 'QUOTA_PERIOD_SECONDS', 86_400, 1, 31_536_000),
    publishInternalSegments: flag(env, 'PUBLISH_INTERNAL_SEGMENTS', false),
    backoff: { baseMs, maxMs },
    apimPollIntervalMs: integer(env, 'APIM_POLL_INTERVAL_MS', 1000, 1, 60_000),
    namespaces: monitoredNamespacesFrom(env),
    openMetricsImplementation: oneOf(env, 'OPENMETRICS_IMPLEMENTATION', OPENMETRICS_IMPLEMENTATIONS, 'ServiceMonitor'),
    requireReadyEndpoints: flag(env, 'REQUIRE_READY_ENDPOINTS', true),
    specCache: {
      maxEntries: integer(env, 'SPEC_CACHE_ENTRIES', 500, 1, 100_000),
      maxBytes: integer(env, 'SPEC_CACHE_MAX_BYTES', SPEC_CACHE_MAX_BYTES, 1024, 8 * 1024 ** 3),
    },
    dashboard: dashboardSettingsFrom(env),
  };
  if (config.dashboard.localPort !== 0 && config.dashboard.localPort === config.adminPort)
    throw new ConfigError(
      `DASHBOARD_LOCAL_PORT: must differ from ADMIN_PORT (${config.adminPort}): the loopback dashboard listens beside the admin port`,
    );
  return deepFreeze(config);
}

function dashboardSettingsFrom(env: Env): DashboardSettings {
  const username = optionalText(env, 'DASHBOARD_USERNAME');
  const passwordFile = optionalText(env, 'DASHBOARD_PASSWORD_FILE');
  if (username !== undefined && passwordFile === undefined)
    throw new ConfigError(
      'DASHBOARD_USERNAME: is set but DASHBOARD_PASSWORD_FILE is not: give the password file or unset DASHBOARD_USERNAME',
    );
  if (username?.includes(':'))
    throw new ConfigError('DASHBOARD_USERNAME: must not contain ":" (HTTP basic auth cannot carry it)');
  return {
    username: username ?? 'admin',
    passwordFile,
    tokenFile: optionalText(env, 'DASHBOARD_TOKEN_FILE'),
    readOnly: flag(env, 'DASHBOARD_READ_ONLY', false),
    localPort: integer(env, 'DASHBOARD_LOCAL_PORT', 9091, 0, 65535),
  };
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) deepFreeze(child);
  return Object.freeze(value);
}

/**
 * A summary for the start-up log line: no Key Vault values (names of the APIM
 * service and resource group included: they come from the vault), no
 * credentials in the Redis URL.
 */
export function describeConfig(config: ReconcilerConfig): Record<string, unknown> {
  return {
    ...describeRedisSettings(config.redis),
    queuePrefix: config.queuePrefix,
    adminHost: config.adminHost,
    adminPort: config.adminPort,
    concurrency: config.concurrency,
    resyncIntervalSeconds: config.resyncIntervalSeconds,
    ingressClass: config.ingressClass,
    gatewayBaseUrl: config.gatewayBaseUrl,
    armEndpoint: config.armEndpoint,
    authorityHost: config.authorityHost,
    apimWritesPerSecond: config.apimWritesPerSecond,
    apimReadsPerSecond: config.apimReadsPerSecond,
    quotaPeriodSeconds: config.quotaPeriodSeconds,
    publishInternalSegments: config.publishInternalSegments,
    backoff: config.backoff,
    apimPollIntervalMs: config.apimPollIntervalMs,
    monitoredNamespaces: config.namespaces.patterns.length > 0 ? config.namespaces.patterns.join(',') : '(all)',
    openMetricsImplementation: config.openMetricsImplementation,
    requireReadyEndpoints: config.requireReadyEndpoints,
    specCache: config.specCache,
    // Paths only: the files hold the credential.
    dashboard: config.dashboard,
  };
}
