/**
 * Run as a child process by env.test.ts with only environment variables set,
 * as the reconciler would be: builds the credential the production way and
 * drives Key Vault and the APIM adapter, then prints what it saw as JSON.
 */
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { createApimClient } from '../../../reconciler/clients/apim.ts';

const MICROSOFT_AUTHORITIES = [
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
];
const env = process.env;
const authority = env.AZURE_AUTHORITY_HOST ? new URL(env.AZURE_AUTHORITY_HOST).hostname : 'login.microsoftonline.com';
const custom = !MICROSOFT_AUTHORITIES.includes(authority);
const credential = new DefaultAzureCredential({ disableInstanceDiscovery: custom });
const vaultUrl = env.KEY_VAULT_URL!;
const vault = new SecretClient(vaultUrl, credential, {
  disableChallengeResourceVerification: !new URL(vaultUrl).hostname.endsWith('.vault.azure.net'),
});
const read = async (name: string) => (await vault.getSecret(name)).value!;
const target = {
  subscriptionId: await read('subscription-id'),
  resourceGroup: await read('resource-group'),
  serviceName: await read('apim-service-name'),
  endpoint: env.ARM_ENDPOINT ?? 'https://management.azure.com',
};
const apim = createApimClient(target, credential, { pollIntervalMs: 5 });
const put = await apim.putApi('env-probe', {
  displayName: 'env probe',
  path: 'env-probe',
  serviceUrl: 'https://backend.example',
  protocols: ['https'],
  subscriptionRequired: false,
  description: 'probe',
});
const got = await apim.getApi('env-probe');
console.log(JSON.stringify({ target: { ...target, endpoint: undefined }, put: put.id, got: got?.serviceUrl }));
