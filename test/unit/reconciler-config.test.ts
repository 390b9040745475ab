import t from 'tap';
import { DEFAULT_QUEUE_PREFIX } from '../../shared/jobs.ts';
import { describeConfig, keyVaultUrlFrom, loadReconcilerConfig, type SecretReader } from '../../reconciler/config.ts';

const SUB = '0b3a4c5d-1e2f-4a5b-9c8d-7e6f5a4b3c2d';
const TENANT = '11111111-2222-4333-8444-555555555555';
const CLIENT = '66666666-7777-4888-9999-000000000000';

const VAULT: Record<string, string> = {
  'apim-service-name': 'oda-apim',
  'resource-group': 'oda-rg',
  'subscription-id': SUB,
  'aad-tenant-id': TENANT,
  'aad-client-id': CLIENT,
};

/** A Key Vault reader that records what was asked. */
function vault(values: Record<string, string> = VAULT): SecretReader & { asked: string[] } {
  const asked: string[] = [];
  return Object.assign(
    async (name: string) => {
      asked.push(name);
      return values[name];
    },
    { asked },
  );
}

t.test('defaults, with every APIM and Entra value from Key Vault', async (t) => {
  const config = await loadReconcilerConfig({}, vault());
  const { namespaces, ...plain } = config;
  t.same(namespaces.patterns, [], 'every namespace');
  t.ok(namespaces.matches('anything'));
  t.same(plain, {
    redis: {
      url: 'redis://127.0.0.1:6379',
      auth: 'password',
      username: undefined,
      passwordFile: undefined,
      tlsCaFile: undefined,
    },
    queuePrefix: DEFAULT_QUEUE_PREFIX,
    adminHost: '0.0.0.0',
    adminPort: 9090,
    concurrency: 4,
    resyncIntervalSeconds: 600,
    ingressClass: 'istio',
    gatewayBaseUrl: undefined,
    armEndpoint: 'https://management.azure.com',
    authorityHost: 'https://login.microsoftonline.com',
    apim: {
      serviceName: 'oda-apim',
      resourceGroup: 'oda-rg',
      subscriptionId: SUB,
      gatewayUrl: 'https://oda-apim.azure-api.net',
    },
    aad: { tenantId: TENANT, clientId: CLIENT },
    apimWritesPerSecond: 10,
    apimReadsPerSecond: 20,
    quotaPeriodSeconds: 86400,
    publishInternalSegments: false,
    backoff: { baseMs: 1000, maxMs: 300000 },
    apimPollIntervalMs: 1000,
    openMetricsImplementation: 'ServiceMonitor',
    requireReadyEndpoints: true,
    specCache: { maxEntries: 500, maxBytes: 64 * 1024 * 1024 },
    dashboard: { username: 'admin', passwordFile: undefined, tokenFile: undefined, readOnly: false, localPort: 9091 },
  });
  t.ok(
    Object.isFrozen(config) &&
      Object.isFrozen(config.apim) &&
      Object.isFrozen(config.backoff) &&
      Object.isFrozen(config.redis),
    'frozen, nested too',
  );
});

t.test('environment overrides, one by one', async (t) => {
  const cases: [
    string,
    Record<string, string>,
    (c: Awaited<ReturnType<typeof loadReconcilerConfig>>) => unknown,
    unknown,
  ][] = [
    ['REDIS_URL', { REDIS_URL: 'redis://redis:6380' }, (c) => c.redis.url, 'redis://redis:6380'],
    [
      'REDIS_AUTH',
      { REDIS_AUTH: 'entra', REDIS_USERNAME: 'oid' },
      (c) => [c.redis.auth, c.redis.username],
      ['entra', 'oid'],
    ],
    ['QUEUE_PREFIX', { QUEUE_PREFIX: 'oda' }, (c) => c.queuePrefix, 'oda'],
    ['ADMIN_PORT', { ADMIN_PORT: '8081' }, (c) => c.adminPort, 8081],
    ['RECONCILE_CONCURRENCY', { RECONCILE_CONCURRENCY: '16' }, (c) => c.concurrency, 16],
    ['RESYNC_INTERVAL_SECONDS', { RESYNC_INTERVAL_SECONDS: '60' }, (c) => c.resyncIntervalSeconds, 60],
    ['INGRESS_CLASS', { INGRESS_CLASS: 'nginx' }, (c) => c.ingressClass, 'nginx'],
    [
      'INGRESS_GATEWAY_URL',
      { INGRESS_GATEWAY_URL: 'http://istio-ingress.istio-system/' },
      (c) => c.gatewayBaseUrl,
      'http://istio-ingress.istio-system',
    ],
    [
      'ARM_ENDPOINT',
      { ARM_ENDPOINT: 'https://management.usgovcloudapi.net/' },
      (c) => c.armEndpoint,
      'https://management.usgovcloudapi.net',
    ],
    [
      'APIM_GATEWAY_URL',
      { APIM_GATEWAY_URL: 'https://api.example.com' },
      (c) => c.apim.gatewayUrl,
      'https://api.example.com',
    ],
    [
      'APIM_SERVICE_NAME (gateway default follows)',
      { APIM_SERVICE_NAME: 'other' },
      (c) => [c.apim.serviceName, c.apim.gatewayUrl],
      ['other', 'https://other.azure-api.net'],
    ],
    ['APIM_RESOURCE_GROUP', { APIM_RESOURCE_GROUP: 'rg2' }, (c) => c.apim.resourceGroup, 'rg2'],
    [
      'AZURE_SUBSCRIPTION_ID (lower-cased)',
      { AZURE_SUBSCRIPTION_ID: SUB.toUpperCase() },
      (c) => c.apim.subscriptionId,
      SUB,
    ],
    ['AAD_TENANT_ID', { AAD_TENANT_ID: 'contoso.onmicrosoft.com' }, (c) => c.aad.tenantId, 'contoso.onmicrosoft.com'],
    ['AAD_CLIENT_ID', { AAD_CLIENT_ID: 'api://oda' }, (c) => c.aad.clientId, 'api://oda'],
    ['APIM_WRITES_PER_SECOND', { APIM_WRITES_PER_SECOND: '3' }, (c) => c.apimWritesPerSecond, 3],
    ['APIM_READS_PER_SECOND', { APIM_READS_PER_SECOND: '7' }, (c) => c.apimReadsPerSecond, 7],
    ['QUOTA_PERIOD_SECONDS', { QUOTA_PERIOD_SECONDS: '3600' }, (c) => c.quotaPeriodSeconds, 3600],
    ['PUBLISH_INTERNAL_SEGMENTS', { PUBLISH_INTERNAL_SEGMENTS: 'true' }, (c) => c.publishInternalSegments, true],
    ['BACKOFF_*', { BACKOFF_BASE_MS: '50', BACKOFF_MAX_MS: '5000' }, (c) => c.backoff, { baseMs: 50, maxMs: 5000 }],
    [
      'OPENMETRICS_IMPLEMENTATION',
      { OPENMETRICS_IMPLEMENTATION: 'DataDogAnnotation' },
      (c) => c.openMetricsImplementation,
      'DataDogAnnotation',
    ],
    ['REQUIRE_READY_ENDPOINTS', { REQUIRE_READY_ENDPOINTS: 'false' }, (c) => c.requireReadyEndpoints, false],
    [
      'MONITORED_NAMESPACES',
      { MONITORED_NAMESPACES: 'components, odacompns-*' },
      (c) => ['components', 'odacompns-7', 'other'].map((ns) => c.namespaces.matches(ns)),
      [true, true, false],
    ],
  ];
  for (const [name, env, read, expected] of cases)
    t.same(read(await loadReconcilerConfig(env, vault())), expected, name);
});

t.test('environment values alone are enough, and win over the vault without asking it', async (t) => {
  const env = {
    APIM_SERVICE_NAME: 'envapim',
    APIM_RESOURCE_GROUP: 'envrg',
    AZURE_SUBSCRIPTION_ID: SUB,
    AAD_TENANT_ID: TENANT,
    AAD_CLIENT_ID: CLIENT,
  };
  const config = await loadReconcilerConfig(env);
  t.equal(config.apim.serviceName, 'envapim');
  const reader = vault();
  t.equal((await loadReconcilerConfig(env, reader)).apim.resourceGroup, 'envrg');
  t.same(reader.asked, [], 'no secret read when the environment sets every value');
});

t.test('a value missing from both places names the variable and the secret', async (t) => {
  const cases: [string, Record<string, string>, SecretReader | undefined, RegExp][] = [
    [
      'missing in vault',
      {},
      vault({ ...VAULT, 'resource-group': '' }),
      /APIM_RESOURCE_GROUP is not set and Key Vault has no secret "resource-group"/,
    ],
    [
      'no vault at all',
      {},
      undefined,
      /AZURE_SUBSCRIPTION_ID is not set and no Key Vault \(KEY_VAULT_NAME or KEY_VAULT_URL\) is configured to read secret "subscription-id"/,
    ],
    [
      'every missing value at once',
      { APIM_SERVICE_NAME: 'x1' },
      vault({}),
      /APIM_RESOURCE_GROUP.*"resource-group".*AZURE_SUBSCRIPTION_ID.*"subscription-id".*AAD_TENANT_ID.*"aad-tenant-id".*AAD_CLIENT_ID.*"aad-client-id"/,
    ],
  ];
  for (const [name, env, reader, message] of cases)
    await t.rejects(loadReconcilerConfig(env, reader), { name: 'ConfigError', message }, name);
});

t.test('bad values are refused with the variable named', async (t) => {
  const cases: [string, Record<string, string>, Record<string, string>, RegExp][] = [
    [
      'subscription id not a UUID (vault)',
      {},
      { 'subscription-id': 'my-subscription' },
      /AZURE_SUBSCRIPTION_ID \(or Key Vault secret "subscription-id"\): must be a UUID/,
    ],
    [
      'subscription id not a UUID (env)',
      { AZURE_SUBSCRIPTION_ID: '1234' },
      {},
      /AZURE_SUBSCRIPTION_ID.*must be a UUID/,
    ],
    ['port not a number', { ADMIN_PORT: 'http' }, {}, /ADMIN_PORT: must be an integer from 0 to 65535, got "http"/],
    ['port out of range', { ADMIN_PORT: '70000' }, {}, /ADMIN_PORT: must be an integer from 0 to 65535/],
    ['zero concurrency', { RECONCILE_CONCURRENCY: '0' }, {}, /RECONCILE_CONCURRENCY/],
    ['redis URL scheme', { REDIS_URL: 'http://redis' }, {}, /REDIS_URL: must be a redis: or rediss: URL/],
    ['redis entra without a username', { REDIS_AUTH: 'entra' }, {}, /^REDIS_USERNAME: REDIS_AUTH=entra needs it/],
    [
      'unknown scrape way',
      { OPENMETRICS_IMPLEMENTATION: 'Scrape' },
      {},
      /OPENMETRICS_IMPLEMENTATION: must be one of ServiceMonitor, PrometheusAnnotation, DataDogAnnotation, got "Scrape"/,
    ],
    ['not a flag', { REQUIRE_READY_ENDPOINTS: 'maybe' }, {}, /REQUIRE_READY_ENDPOINTS: must be true or false/],
    [
      'not a namespace glob',
      { MONITORED_NAMESPACES: 'Comp/x' },
      {},
      /MONITORED_NAMESPACES: "Comp\/x" is not a namespace/,
    ],
    ['flag', { PUBLISH_INTERNAL_SEGMENTS: 'maybe' }, {}, /PUBLISH_INTERNAL_SEGMENTS: must be true or false/],
    [
      'service name',
      { APIM_SERVICE_NAME: 'bad name!' },
      {},
      /APIM_SERVICE_NAME.*must be an API Management service name/,
    ],
    [
      'backoff cap below base',
      { BACKOFF_BASE_MS: '5000', BACKOFF_MAX_MS: '100' },
      {},
      /BACKOFF_MAX_MS: must be at least BACKOFF_BASE_MS/,
    ],
  ];
  for (const [name, env, secrets, message] of cases) {
    await t.rejects(loadReconcilerConfig(env, vault({ ...VAULT, ...secrets })), { name: 'ConfigError', message }, name);
  }
});

t.test('keyVaultUrlFrom: URL, else name, else none', async (t) => {
  const cases: [Record<string, string>, string | undefined | RegExp][] = [
    [{}, undefined],
    [{ KEY_VAULT_NAME: 'oda-kv' }, 'https://oda-kv.vault.azure.net'],
    [{ KEY_VAULT_URL: 'https://kv.vault.azure.cn/', KEY_VAULT_NAME: 'ignored' }, 'https://kv.vault.azure.cn/'],
    [{ KEY_VAULT_NAME: 'no_underscores' }, /KEY_VAULT_NAME: must be a Key Vault name/],
    [{ KEY_VAULT_URL: 'http://kv.local' }, /KEY_VAULT_URL: must be a https: URL/],
  ];
  for (const [env, expected] of cases) {
    if (expected instanceof RegExp)
      t.throws(() => keyVaultUrlFrom(env), { name: 'ConfigError', message: expected }, JSON.stringify(env));
    else t.equal(keyVaultUrlFrom(env), expected, JSON.stringify(env));
  }
});

t.test('describeConfig holds no Key Vault value and no Redis password', async (t) => {
  const config = await loadReconcilerConfig({ REDIS_URL: 'rediss://user:hunter2@redis:6380' }, vault());
  const text = JSON.stringify(describeConfig(config));
  for (const secret of [...Object.values(VAULT), 'hunter2']) t.notMatch(text, secret, `no ${secret}`);
  t.match(describeConfig(config), { redisUrl: 'rediss://***:***@redis:6380', adminPort: 9090, concurrency: 4 });
});
