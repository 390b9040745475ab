import type { TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { isRestError } from '@azure/core-rest-pipeline';
import type { SecretReader } from '../config.ts';

/** Reads Key Vault secrets by name; a missing secret is undefined, any other failure throws. */
export function createSecretReader(
  vaultUrl: string,
  credential: TokenCredential,
  onCall?: (op: string, status: number | 'error', ms: number) => void,
): SecretReader {
  // The challenge names vault.azure.net; a vault on another host (a sovereign cloud's, or a stand-in) is accepted only when asked for.
  const client = new SecretClient(vaultUrl, credential, {
    disableChallengeResourceVerification: !/\.vault\.(azure\.net|usgovcloudapi\.net|azure\.cn)$/.test(
      new URL(vaultUrl).hostname,
    ),
  });
  return async (name) => {
    const started = performance.now();
    try {
      const secret = await client.getSecret(name);
      onCall?.('getSecret', 200, performance.now() - started);
      return secret.value;
    } catch (error) {
      const status = isRestError(error) && error.statusCode !== undefined ? error.statusCode : 'error';
      onCall?.('getSecret', status, performance.now() - started);
      if (status === 404) return undefined;
      throw error;
    }
  };
}
