/**
 * A local HTTPS server that behaves like Azure Key Vault's secret reads for
 * the real @azure/keyvault-secrets SecretClient: the challenge handshake
 * (an unauthenticated request gets 401 with the authority and resource),
 * `GET /secrets/{name}/` and `GET /secrets/{name}/{version}`, 404 SecretNotFound.
 *
 *   const vault = await startKeyVaultServer({ cert, key, authority: entra.url, tenant, isValidToken: entra.isValid });
 *   vault.setSecret('apim-service-name', 'my-apim');
 *   new SecretClient(vault.url, credential, { disableChallengeResourceVerification: true });
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface KeyVaultServerOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** The Entra authority named in the challenge, e.g. the Entra stand-in's url. */
  readonly authority: string;
  readonly tenant: string;
  /** Accepts a bearer token; default any non-empty token. */
  readonly isValidToken?: (token: string) => boolean;
  /** Secrets in place before the first request. */
  readonly secrets?: Readonly<Record<string, string>>;
  readonly port?: number;
}

export interface KeyVaultRequest {
  readonly method: string;
  readonly path: string;
  readonly apiVersion: string | null;
  readonly authenticated: boolean;
  readonly status: number;
}

export interface KeyVaultServer {
  /** `https://127.0.0.1:PORT`: the value for KEY_VAULT_URL. */
  readonly url: string;
  readonly requests: readonly KeyVaultRequest[];
  /** Adds a new version of the secret (it becomes the latest); returns the version. */
  setSecret(name: string, value: string): string;
  deleteSecret(name: string): void;
  close(): Promise<void>;
}

interface Version {
  readonly version: string;
  readonly value: string;
  readonly created: number;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export async function startKeyVaultServer(options: KeyVaultServerOptions): Promise<KeyVaultServer> {
  const store = new Map<string, Version[]>();
  const requests: KeyVaultRequest[] = [];
  const isValid = options.isValidToken ?? ((token: string) => token.length > 0);
  let url = '';

  function setSecret(name: string, value: string): string {
    const version = randomBytes(16).toString('hex');
    const versions = store.get(name.toLowerCase()) ?? [];
    versions.push({ version, value, created: Math.floor(Date.now() / 1000) });
    store.set(name.toLowerCase(), versions);
    return version;
  }
  for (const [name, value] of Object.entries(options.secrets ?? {})) setSecret(name, value);

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const parsed = new URL(req.url ?? '/', url);
    const path = decodeURIComponent(parsed.pathname);
    const apiVersion = new URLSearchParams(parsed.search).get('api-version');
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const authenticated = token !== undefined && isValid(token);
    const record = (status: number) =>
      requests.push({ method: req.method ?? 'GET', path, apiVersion, authenticated, status });
    req.resume();
    if (!authenticated) {
      record(401);
      const challenge = `Bearer authorization="${options.authority}/${options.tenant}", resource="https://vault.azure.net"`;
      return send(
        res,
        401,
        { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
        { 'www-authenticate': challenge },
      );
    }
    const match = /^\/secrets\/([^/]+)\/?([^/]*)$/.exec(path);
    if (req.method !== 'GET' || !match) {
      record(400);
      return send(res, 400, { error: { code: 'BadParameter', message: `Unsupported request ${req.method} ${path}` } });
    }
    const name = match[1]!;
    const versions = store.get(name.toLowerCase()) ?? [];
    const found = match[2] ? versions.find((v) => v.version === match[2]) : versions.at(-1);
    if (!found) {
      record(404);
      const what = match[2] ? `A secret with (name/id) ${name}/${match[2]}` : `A secret with (name/id) ${name}`;
      return send(res, 404, { error: { code: 'SecretNotFound', message: `${what} was not found in this key vault.` } });
    }
    record(200);
    send(res, 200, {
      value: found.value,
      id: `${url}/secrets/${name}/${found.version}`,
      attributes: {
        enabled: true,
        created: found.created,
        updated: found.created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      },
      tags: {},
    });
  }

  const server: Server = createServer({ cert: options.cert, key: options.key }, handle);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    setSecret,
    deleteSecret: (name) => void store.delete(name.toLowerCase()),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
