import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startAzureStandIns, TEST_SERVICE } from '../../fakes/azure-stand-ins.ts';

const PROBE = fileURLToPath(new URL('./env-probe.ts', import.meta.url));

t.test(
  'a process configured only by environment (NODE_EXTRA_CA_CERTS, AZURE_*, KEY_VAULT_URL, ARM_ENDPOINT) reaches every stand-in',
  async (t) => {
    const azure = await startAzureStandIns();
    t.teardown(azure.close);
    azure.vault.setSecret('subscription-id', TEST_SERVICE.subscriptionId);
    azure.vault.setSecret('resource-group', TEST_SERVICE.resourceGroup);
    azure.vault.setSecret('apim-service-name', TEST_SERVICE.name);
    const {
      AZURE_TENANT_ID: _a,
      AZURE_CLIENT_ID: _b,
      AZURE_CLIENT_SECRET: _c,
      AZURE_AUTHORITY_HOST: _d,
      ...clean
    } = process.env;
    const { stdout } = await promisify(execFile)(process.execPath, [PROBE], {
      env: { ...clean, ...azure.env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      target: Record<string, string>;
      put: string;
      got: string;
    };
    t.same(seen.target, {
      subscriptionId: TEST_SERVICE.subscriptionId,
      resourceGroup: TEST_SERVICE.resourceGroup,
      serviceName: TEST_SERVICE.name,
    });
    t.equal(seen.put, 'env-probe');
    t.equal(seen.got, 'https://backend.example');
    t.ok(azure.entra.tokens.some((tok) => tok.scopes.includes('https://vault.azure.net/.default')));
    t.ok(azure.entra.tokens.some((tok) => tok.scopes.includes(`${azure.arm.url}/.default`)));
  },
);
