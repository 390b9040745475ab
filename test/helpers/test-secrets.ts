/**
 * The one source of the secret values the stand-ins and tests hand to the
 * product: the Entra client secret, Redis passwords, the APIM subscription
 * keys, the queue dashboard's password and token. By default the plain values the suite has always used.
 * With SECRET_SCAN_DIR set (`npm run test:secrets`), each is a marker that no
 * product text can contain by chance, `MARKER-<KIND>-<random>`, and is
 * appended to `<dir>/markers/<pid>.txt` so that the scan knows every value
 * the run handed out (subscription keys are made on demand, per subscription).
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type SecretKind = 'CLIENT-SECRET' | 'REDIS-PASSWORD' | 'SUBSCRIPTION-KEY' | 'DASHBOARD-CREDENTIAL';

/** Where a secret-scan run records its output; undefined in a default run. */
export function secretScanDir(): string | undefined {
  return process.env.SECRET_SCAN_DIR || undefined;
}

function secretValue(kind: SecretKind, plain: () => string): string {
  const dir = secretScanDir();
  if (dir === undefined) return plain();
  const marker = `MARKER-${kind}-${randomBytes(8).toString('hex')}`;
  mkdirSync(join(dir, 'markers'), { recursive: true });
  appendFileSync(join(dir, 'markers', `${process.pid}.txt`), `${marker}\n`);
  return marker;
}

/** The Entra ID client secret of the operator's app registration. */
export const clientSecret = (): string => secretValue('CLIENT-SECRET', () => 'test-client-secret');

/** A password of a Redis ACL user the reconciler and webhook log in as; `plain` in a default run. */
export const redisPassword = (plain = 's3cret-pw'): string => secretValue('REDIS-PASSWORD', () => plain);

/** The form of a key from subscriptionKey(), in either mode. */
export const SUBSCRIPTION_KEY_FORM = /^(?:[0-9a-f]{32}|MARKER-SUBSCRIPTION-KEY-[0-9a-f]{16})$/;

/** A fresh APIM subscription key (real APIM makes 32 hex digits). */
export const subscriptionKey = (): string => secretValue('SUBSCRIPTION-KEY', () => randomBytes(16).toString('hex'));

/** A password or bearer token of the queue dashboard; `plain` in a default run. */
export const dashboardSecret = (plain: string): string => secretValue('DASHBOARD-CREDENTIAL', () => plain);
