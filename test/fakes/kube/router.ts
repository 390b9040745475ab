/**
 * The HTTP side of the stand-in: records each request, checks the bearer
 * token, injects the faults a test queued, then dispatches to discovery, a
 * watch, or a resource verb and writes the answer (always a Status on error).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiGroupDocument, apiGroupList, apiResourceList, apiVersions, VERSION_INFO } from './discovery.ts';
import { handleResource } from './handlers.ts';
import { recordedRequest } from '../recorded-request.ts';
import type { TypeRegistry } from './resource-types.ts';
import { type DiscoveryTarget, parseRoute, recordOf, type RequestRecord } from './route.ts';
import { failure, KubeError, methodNotAllowed, resourceNotFound, statusForCode } from './status.ts';
import type { Store } from './store.ts';
import { type OpenWatch, serveWatch } from './watch-stream.ts';

export type RequestMatcher =
  | Partial<
      Pick<RequestRecord, 'method' | 'verb' | 'resource' | 'version' | 'namespace' | 'name' | 'subresource' | 'user'>
    >
  | ((request: RequestRecord) => boolean);

export interface Fault {
  readonly matcher: RequestMatcher;
  /** An HTTP status, or 'reset' to drop the connection without an answer. */
  readonly status: number | 'reset';
  readonly body?: unknown;
}

/** Another client's write, landing just before a matching request is served (the request then meets it). */
export interface Interleaved {
  readonly matcher: RequestMatcher;
  readonly write: () => void;
}

export interface RouterOptions {
  readonly registry: TypeRegistry;
  readonly store: Store;
  readonly bookmarkIntervalMs: number;
  /** Require `Authorization: Bearer ...`: true accepts any token, a string only that one. */
  readonly token: string | boolean;
  readonly requests: RequestRecord[];
  readonly faults: Fault[];
  readonly interleaved: Interleaved[];
  /** True while the server answers every request 503, as an API server with no healthy backend behind it. */
  readonly unavailable: () => boolean;
  readonly watches: Set<OpenWatch>;
  readonly serverAddress: () => string;
  /** Called after every request and watch change, for tests that wait on conditions. */
  readonly notify: () => void;
  /** Keep each non-watch request as sent (`record.sent`), for a replay. */
  readonly recordBodies: boolean;
}

export function matches(matcher: RequestMatcher, request: RequestRecord): boolean {
  if (typeof matcher === 'function') return matcher(request);
  return Object.entries(matcher).every(([key, value]) => request[key as keyof RequestRecord] === value);
}

function takeFirst<T extends { readonly matcher: RequestMatcher }>(queue: T[], request: RequestRecord): T | undefined {
  const index = queue.findIndex((f) => matches(f.matcher, request));
  return index < 0 ? undefined : queue.splice(index, 1)[0];
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

function discovery(options: RouterOptions, target: DiscoveryTarget): unknown {
  switch (target.document) {
    case 'api':
      return apiVersions(options.serverAddress());
    case 'apis':
      return apiGroupList(options.registry);
    case 'version':
      return VERSION_INFO;
    case 'group':
      return apiGroupDocument(options.registry, target.group);
    case 'resources':
      return apiResourceList(options.registry, target.group, target.version);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function authorised(options: RouterOptions, request: IncomingMessage): boolean {
  if (options.token === false) return true;
  const header = request.headers.authorization ?? '';
  if (!header.startsWith('Bearer ') || header.length <= 'Bearer '.length) return false;
  return options.token === true || header === `Bearer ${options.token}`;
}

async function dispatch(
  options: RouterOptions,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  query: Record<string, string>,
  record: RequestRecord,
): Promise<void> {
  const route = parseRoute(options.registry, request.method ?? 'GET', url.pathname, query);
  if (route.kind === 'unknown') throw resourceNotFound();
  if (route.kind === 'discovery') {
    const document = discovery(options, route.target);
    if (!document) throw resourceNotFound();
    return send(response, 200, document);
  }
  if (!route.verb) throw methodNotAllowed();
  if (route.verb === 'watch') {
    const register = (watch: OpenWatch) => {
      options.watches.add(watch);
      options.notify();
      return () => {
        options.watches.delete(watch);
        options.notify();
      };
    };
    return serveWatch(response, route, query, {
      store: options.store,
      bookmarkIntervalMs: options.bookmarkIntervalMs,
      register,
    });
  }
  const body = await readBody(request);
  record.blockingOwners = blockingOwners(body);
  if (options.recordBodies) record.sent = recordedRequest(request, body);
  const namespaces = options.registry.all.find((t) => t.id === 'namespaces');
  const incoming = { route, query, contentType: request.headers['content-type'], body, namespaces };
  const result = handleResource(options.store, incoming);
  send(response, result.status, result.body);
}

function blockingOwners(body: string): string[] | undefined {
  let object: {
    metadata?: { ownerReferences?: { apiVersion?: string; kind?: string; blockOwnerDeletion?: boolean }[] };
  };
  try {
    object = JSON.parse(body);
  } catch {
    return undefined;
  }
  const refs = (object?.metadata?.ownerReferences ?? []).filter((r) => r.blockOwnerDeletion === true);
  return refs.length > 0 ? refs.map((r) => `${String(r.apiVersion).split('/')[0]}/${r.kind}`) : undefined;
}

export function createRequestHandler(
  options: RouterOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const query = Object.fromEntries(url.searchParams);
    const method = request.method ?? 'GET';
    const contentType = request.headers['content-type'];
    const record = recordOf(
      parseRoute(options.registry, method, url.pathname, query),
      method,
      url.pathname,
      query,
      contentType,
      /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1],
    );
    options.requests.push(record);
    response.once('finish', () => {
      record.code = response.statusCode;
    });
    takeFirst(options.interleaved, record)?.write();
    const fault = takeFirst(options.faults, record);
    if (options.unavailable()) {
      send(response, 503, failure(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'));
    } else if (!authorised(options, request)) {
      send(response, 401, failure(401, 'Unauthorized', 'Unauthorized'));
    } else if (fault?.status === 'reset') {
      request.socket.destroy();
    } else if (fault) {
      send(response, fault.status, fault.body ?? statusForCode(fault.status));
    } else {
      dispatch(options, request, response, url, query, record).catch((error: unknown) => {
        const status =
          error instanceof KubeError
            ? error.toStatus()
            : failure(500, 'InternalError', `stand-in failed: ${String(error)}`);
        if (response.headersSent) response.end();
        else send(response, status.code, status);
      });
    }
    options.notify();
  };
}
