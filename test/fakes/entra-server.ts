/**
 * A local HTTPS server that behaves like a Microsoft Entra ID authority for
 * the real @azure/identity credentials (ClientSecretCredential, and
 * DefaultAzureCredential through its environment credential): the OpenID
 * discovery document and the v2.0 token endpoint (client_credentials).
 *
 *   const entra = await startEntraServer({ cert, key, clients: { [clientId]: secret } });
 *   process.env.AZURE_AUTHORITY_HOST = entra.url;   // plus AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET
 *   new DefaultAzureCredential({ disableInstanceDiscovery: true });
 *   entra.tokens  // every token issued, with the scopes asked for
 *   await entra.close();
 *
 * A non-Microsoft authority needs `disableInstanceDiscovery: true` on the
 * credential, else MSAL asks login.microsoftonline.com about it first.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface IssuedToken {
  readonly token: string;
  readonly tenant: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
}

export interface EntraServerOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** Accepted client ids and their secrets; default: any client with any secret. */
  readonly clients?: Readonly<Record<string, string>>;
  /** Lifetime the token answers announce; default 3600 s. */
  readonly expiresInSeconds?: number;
  readonly port?: number;
}

export interface EntraServer {
  /** `https://127.0.0.1:PORT`: the value for AZURE_AUTHORITY_HOST. */
  readonly url: string;
  /** Tokens issued so far, oldest first. */
  readonly tokens: readonly IssuedToken[];
  /** Every request so far (method and path). */
  readonly requests: readonly { method: string; path: string }[];
  /** True when this server issued the token (for stand-ins that check bearer tokens). */
  isValid(token: string): boolean;
  /** Makes the next `count` token requests fail with 400 invalid_client (or the given status). */
  failNextTokens(count?: number, status?: number): void;
  close(): Promise<void>;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A JWT-shaped token (unsigned): some clients peek at its claims, none verify it. */
function makeToken(url: string, tenant: string, clientId: string, scopes: readonly string[], ttl: number): string {
  const now = Math.floor(Date.now() / 1000);
  const aud = (scopes[0] ?? '').replace(/\/\.default$/, '');
  const claims = {
    aud,
    iss: `${url}/${tenant}/v2.0`,
    tid: tenant,
    appid: clientId,
    oid: clientId,
    iat: now,
    nbf: now,
    exp: now + ttl,
    jti: randomUUID(),
  };
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function discovery(url: string, tenant: string): Record<string, unknown> {
  const base = `${url}/${tenant}`;
  return {
    issuer: `${base}/v2.0`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    tenant_region_scope: null,
    cloud_instance_name: 'microsoftonline.com',
  };
}

export async function startEntraServer(options: EntraServerOptions): Promise<EntraServer> {
  const tokens: IssuedToken[] = [];
  const requests: { method: string; path: string }[] = [];
  const valid = new Set<string>();
  const ttl = options.expiresInSeconds ?? 3600;
  let failures: { count: number; status: number } = { count: 0, status: 400 };
  let url = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', url).pathname;
    requests.push({ method: req.method ?? 'GET', path });
    const disco = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (req.method === 'GET' && disco) return send(res, 200, discovery(url, disco[1]!));
    if (req.method === 'GET' && /^\/[^/]+\/discovery\/v2\.0\/keys$/.test(path)) return send(res, 200, { keys: [] });
    const tokenPath = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (req.method === 'POST' && tokenPath) return issue(tokenPath[1]!, new URLSearchParams(await readBody(req)), res);
    send(res, 404, { error: 'not_found', error_description: `No route for ${req.method} ${path}` });
  }

  function issue(tenant: string, form: URLSearchParams, res: ServerResponse): void {
    const clientId = form.get('client_id') ?? '';
    if (failures.count > 0) {
      failures.count -= 1;
      return send(res, failures.status, {
        error: 'invalid_client',
        error_description: 'AADSTS7000215: injected failure.',
      });
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return send(res, 400, {
        error: 'unsupported_grant_type',
        error_description: 'AADSTS70003: only client_credentials is served.',
      });
    }
    const expected = options.clients?.[clientId];
    if (options.clients && (expected === undefined || expected !== form.get('client_secret'))) {
      return send(res, 401, {
        error: 'invalid_client',
        error_description: 'AADSTS7000215: Invalid client secret provided.',
      });
    }
    const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s.length > 0);
    const token = makeToken(url, tenant, clientId, scopes, ttl);
    tokens.push({ token, tenant, clientId, scopes });
    valid.add(token);
    send(res, 200, { token_type: 'Bearer', expires_in: ttl, ext_expires_in: ttl, access_token: token });
  }

  const server: Server = createServer({ cert: options.cert, key: options.key }, (req, res) => {
    handle(req, res).catch((error: unknown) =>
      send(res, 500, { error: 'server_error', error_description: String(error) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    tokens,
    requests,
    isValid: (token) => valid.has(token),
    failNextTokens(count = 1, status = 400) {
      failures = { count, status };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
