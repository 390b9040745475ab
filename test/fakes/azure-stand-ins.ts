/**
 * Starts the Entra ID, ARM (APIM) and Key Vault stand-ins on one test CA and
 * points the process at them the way the reconciler's environment would:
 * the CA joins the default trust store (what NODE_EXTRA_CA_CERTS does at
 * start-up) and AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET /
 * AZURE_AUTHORITY_HOST name the Entra stand-in, so `DefaultAzureCredential`
 * runs its production path.
 *
 *   const azure = await startAzureStandIns({ services: [SERVICE] });
 *   t.teardown(azure.close);
 *   azure.env  // the environment a child process (the reconciler) needs
 */
import { readFileSync } from 'node:fs';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { makeCerts } from '../helpers/certs.ts';
import { clientSecret } from '../helpers/test-secrets.ts';
import { startArmApimServer, type ArmApimServer, type ArmApimServerOptions } from './arm-apim-server.ts';
import { startEntraServer, type EntraServer } from './entra-server.ts';
import { startKeyVaultServer, type KeyVaultServer } from './key-vault-server.ts';

export const TEST_TENANT = '5f0c2d8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
export const TEST_CLIENT = '0d7a6b5c-4d3e-4f2a-9b1c-8e7f6a5b4c3d';
export const TEST_SUBSCRIPTION = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
export const TEST_SERVICE = { subscriptionId: TEST_SUBSCRIPTION, resourceGroup: 'rg-apim', name: 'apim-test' } as const;

export interface AzureStandIns {
  readonly entra: EntraServer;
  readonly arm: ArmApimServer;
  readonly vault: KeyVaultServer;
  readonly caFile: string;
  /** Environment for a process that should use these stand-ins. */
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

export async function startAzureStandIns(
  options: Partial<Omit<ArmApimServerOptions, 'cert' | 'key'>> = {},
): Promise<AzureStandIns> {
  const certs = makeCerts('azure-stand-ins');
  const cert = readFileSync(certs.certFile);
  const key = readFileSync(certs.keyFile);
  setDefaultCACertificates([...getCACertificates('default'), certs.ca.toString()]);
  const secret = clientSecret();
  const entra = await startEntraServer({ cert, key, clients: { [TEST_CLIENT]: secret } });
  const arm = await startArmApimServer({
    cert,
    key,
    services: [TEST_SERVICE],
    isValidToken: entra.isValid,
    ...options,
  });
  const vault = await startKeyVaultServer({
    cert,
    key,
    authority: entra.url,
    tenant: TEST_TENANT,
    isValidToken: entra.isValid,
  });
  const env = {
    AZURE_TENANT_ID: TEST_TENANT,
    AZURE_CLIENT_ID: TEST_CLIENT,
    AZURE_CLIENT_SECRET: secret,
    AZURE_AUTHORITY_HOST: entra.url,
    ARM_ENDPOINT: arm.url,
    KEY_VAULT_URL: vault.url,
    NODE_EXTRA_CA_CERTS: certs.caFile,
    NO_PROXY: '127.0.0.1,localhost',
  };
  for (const [k, v] of Object.entries(env)) if (k !== 'NODE_EXTRA_CA_CERTS') process.env[k] = v;
  delete process.env.AZURE_FEDERATED_TOKEN_FILE;
  delete process.env.AZURE_TOKEN_CREDENTIALS;
  return {
    entra,
    arm,
    vault,
    caFile: certs.caFile,
    env,
    async close() {
      await Promise.all([arm.close(), vault.close(), entra.close()]);
    },
  };
}
