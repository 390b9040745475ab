import t from 'tap';
import { readFileSync } from 'node:fs';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { makeCerts } from '../../helpers/certs.ts';
import { startEntraServer } from '../../fakes/entra-server.ts';
import { startKeyVaultServer } from '../../fakes/key-vault-server.ts';

const TENANT = '7c1f3b0e-0000-4000-8000-000000000001';
const CLIENT = '7c1f3b0e-0000-4000-8000-000000000002';

// Trust the test CA the way NODE_EXTRA_CA_CERTS does for the reconciler process.
const certs = makeCerts('azure-stand-ins');
setDefaultCACertificates([...getCACertificates('default'), certs.ca.toString()]);

const entra = await startEntraServer({
  cert: readFileSync(certs.certFile),
  key: readFileSync(certs.keyFile),
  clients: { [CLIENT]: 's3cret' },
});
const vault = await startKeyVaultServer({
  cert: readFileSync(certs.certFile),
  key: readFileSync(certs.keyFile),
  authority: entra.url,
  tenant: TENANT,
  isValidToken: entra.isValid,
  secrets: { 'apim-service-name': 'apim-one' },
});
t.teardown(async () => {
  await vault.close();
  await entra.close();
});

for (const [k, v] of Object.entries({
  AZURE_TENANT_ID: TENANT,
  AZURE_CLIENT_ID: CLIENT,
  AZURE_CLIENT_SECRET: 's3cret',
  AZURE_AUTHORITY_HOST: entra.url,
}))
  process.env[k] = v;
delete process.env.AZURE_FEDERATED_TOKEN_FILE;
delete process.env.AZURE_TOKEN_CREDENTIALS;

const credential = new DefaultAzureCredential({ disableInstanceDiscovery: true });
const client = new SecretClient(vault.url, credential, {
  disableChallengeResourceVerification: true,
  retryOptions: { maxRetries: 0 },
});

t.test('the real SecretClient reads a secret through DefaultAzureCredential', async (t) => {
  const secret = await client.getSecret('apim-service-name');
  t.equal(secret.value, 'apim-one');
  t.match(secret.properties.id, new RegExp(`^${vault.url}/secrets/apim-service-name/`));
  t.equal(vault.requests[0]?.status, 401, 'the first request is the unauthenticated challenge');
  t.ok(vault.requests.some((r) => r.authenticated && r.status === 200));
  t.ok(
    entra.tokens.some(
      (tok) =>
        tok.scopes.includes('https://vault.azure.net/.default') && tok.tenant === TENANT && tok.clientId === CLIENT,
    ),
  );
  t.notOk(
    entra.requests.some((r) => r.path.includes('discovery/instance')),
    'no instance discovery',
  );
});

t.test('a new version becomes the latest; a version can be read', async (t) => {
  const first = (await client.getSecret('apim-service-name')).properties.version!;
  vault.setSecret('apim-service-name', 'apim-two');
  t.equal((await client.getSecret('apim-service-name')).value, 'apim-two');
  t.equal((await client.getSecret('apim-service-name', { version: first })).value, 'apim-one');
});

t.test('a missing secret is a 404 SecretNotFound RestError', async (t) => {
  const error = await client.getSecret('nope').then(
    () => undefined,
    (e: unknown) => e as { statusCode?: number; code?: string },
  );
  t.equal(error?.statusCode, 404);
  t.equal(error?.code, 'SecretNotFound');
});

t.test('a wrong client secret is refused by the authority', async (t) => {
  process.env.AZURE_CLIENT_SECRET = 'wrong';
  const bad = new SecretClient(vault.url, new DefaultAzureCredential({ disableInstanceDiscovery: true }), {
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
  });
  await t.rejects(bad.getSecret('apim-service-name'));
  process.env.AZURE_CLIENT_SECRET = 's3cret';
});
