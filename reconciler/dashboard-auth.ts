import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '../shared/errors.ts';

/** Where the queue dashboard's credential comes from (DASHBOARD_* settings); the files are read at start. */
export interface DashboardSettings {
  /** DASHBOARD_USERNAME: the basic-auth user name. */
  readonly username: string;
  /** DASHBOARD_PASSWORD_FILE: a mounted Secret holding the basic-auth password. */
  readonly passwordFile: string | undefined;
  /** DASHBOARD_TOKEN_FILE: a mounted Secret holding a bearer token. */
  readonly tokenFile: string | undefined;
  /** DASHBOARD_READ_ONLY: no retry, clean, promote or delete, on the page or through its API. */
  readonly readOnly: boolean;
  /** DASHBOARD_LOCAL_PORT: the loopback-only listener used when no credential is configured. */
  readonly localPort: number;
}

/** What a request must present: kept as digests only, so the secrets themselves are not held longer than the read. */
export interface DashboardCredential {
  readonly basic: Buffer | undefined;
  readonly token: Buffer | undefined;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

function readSecretFile(variable: string, path: string, read: (path: string) => string): string {
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    throw new ConfigError(
      `${variable}: cannot read ${JSON.stringify(path)} (${errorMessage(error)}): mount the Secret there or unset ${variable}`,
    );
  }
  // A Secret written with `echo` or an editor ends in a newline that is not part of the value.
  const value = text.replace(/\r?\n$/, '');
  if (value === '')
    throw new ConfigError(
      `${variable}: ${JSON.stringify(path)} is empty: put the credential in it or unset ${variable}`,
    );
  return value;
}

/**
 * Reads the configured credential files (a failure stops the process with
 * one line naming the variable). Undefined: no credential, so the dashboard
 * is served on the loopback only.
 */
export function readDashboardCredential(
  settings: DashboardSettings,
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): DashboardCredential | undefined {
  if (settings.passwordFile === undefined && settings.tokenFile === undefined) return undefined;
  const password = settings.passwordFile && readSecretFile('DASHBOARD_PASSWORD_FILE', settings.passwordFile, read);
  const token = settings.tokenFile && readSecretFile('DASHBOARD_TOKEN_FILE', settings.tokenFile, read);
  return {
    basic: password ? digest(`${settings.username}:${password}`) : undefined,
    token: token ? digest(token) : undefined,
  };
}

/** Equal-length digests compared in constant time: neither the length nor the first differing byte shows in the timing. */
const matches = (presented: string, expected: Buffer | undefined): boolean =>
  expected !== undefined && timingSafeEqual(digest(presented), expected);

/**
 * Whether an Authorization header carries the credential: `Basic` with the
 * user and password, or `Bearer` with the token. Hand-written rather than
 * @fastify/basic-auth plus @fastify/bearer-auth: one route takes either
 * scheme with one challenge, which those would need @fastify/auth to combine,
 * and the comparison (the part that matters) would still be ours.
 */
export function authorized(header: string | undefined, credential: DashboardCredential): boolean {
  const match = /^(\S+) +(\S+)\s*$/.exec(header ?? '');
  if (!match) return false;
  const scheme = match[1]!.toLowerCase();
  const value = match[2]!;
  if (scheme === 'bearer') return matches(value, credential.token);
  if (scheme !== 'basic') return false;
  // Compared as "user:password" whole: no split, so a colon in the password needs no special case.
  return matches(Buffer.from(value, 'base64').toString('utf8'), credential.basic);
}

/** The WWW-Authenticate challenges of a 401, one per accepted scheme (browsers prompt for Basic). */
export function challenges(credential: DashboardCredential): string[] {
  return [
    ...(credential.basic ? ['Basic realm="queue dashboard", charset="UTF-8"'] : []),
    ...(credential.token ? ['Bearer realm="queue dashboard"'] : []),
  ];
}
