import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { Env } from './env.ts';

/** Authorities MSAL knows; any other (a sovereign or private one, a local stand-in) must skip instance discovery. */
const MICROSOFT_AUTHORITIES = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);

/**
 * The standard @azure/identity chain (workload identity, managed identity,
 * client secret from the environment, ...). MSAL asks a fixed Microsoft
 * address to vouch for any authority it does not know, so for an
 * AZURE_AUTHORITY_HOST outside the known ones that discovery is switched off.
 */
export function createAzureCredential(env: Env): TokenCredential {
  const host = env.AZURE_AUTHORITY_HOST ? new URL(env.AZURE_AUTHORITY_HOST).hostname : 'login.microsoftonline.com';
  return new DefaultAzureCredential({ disableInstanceDiscovery: !MICROSOFT_AUTHORITIES.has(host) });
}
