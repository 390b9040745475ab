import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixtureText } from './resources.ts';

export interface SpecServer {
  readonly url: string;
  /** How many requests each path received. */
  readonly hits: Map<string, number>;
  /** Body bytes each streaming path handed to its sockets, summed over its requests. */
  readonly sent: Map<string, number>;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** One operation: for tests of many APIs, where a real TMF document would only cost time. */
const SMALL_DOCUMENT = JSON.stringify({
  openapi: '3.0.3',
  info: { title: 'Items', version: '1.0.0' },
  paths: { '/items': { get: { operationId: 'listItems', responses: { '200': { description: 'ok' } } } } },
});

const pathOf = (req: IncomingMessage): string => new URL(req.url ?? '/', 'http://x').pathname;

/** A body of `total` spaces without a Content-Length, written only as fast as the client reads it. */
function streamed(total: number, sent: Map<string, number>): Handler {
  return (req, res) => {
    const path = pathOf(req);
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    const pump = (): void => {
      let open = true;
      while (written < total && open) {
        open = res.write(chunk);
        written += chunk.length;
        sent.set(path, (sent.get(path) ?? 0) + chunk.length);
      }
      if (written >= total) res.end();
      else res.once('drain', pump);
    };
    res.on('close', () => (written = Infinity));
    pump();
  };
}

/**
 * The real TMF documents, a small one, and URLs that hang, trickle, or send far too much.
 * `/<route>/<n>` serves the same as `/<route>` at a URL of its own (checks of one URL share one fetch).
 */
function routes(sent: Map<string, number>): Record<string, Handler> {
  return {
    '/small.json': (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json', etag: '"small-v1"' }).end(SMALL_DOCUMENT),
    '/tmf620.json': (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json', etag: '"tmf620-v1"' })
        .end(fixtureText('TMF620-ProductCatalog-v4.0.0.swagger.json')),
    '/tmf639.yaml': (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/yaml' })
        .end(fixtureText('TMF639-Resource_Inventory_Management-v5.0.0.oas.yaml')),
    '/not-openapi.json': (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello": "world"}'),
    '/missing.json': (_req, res) => res.writeHead(404).end('not here'),
    '/hang': () => undefined,
    // Headers at once, then one byte a second for as long as the client listens.
    '/trickle': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      const timer = setInterval(() => res.write(' '), 1000);
      res.on('close', () => clearInterval(timer));
    },
    '/huge': streamed(64 * 1024 * 1024, sent),
    '/huge-60mb': streamed(60 * 1024 * 1024, sent),
  };
}

/** `/fixtures/[v5/]<file>`: a shared fixture document by its own name, so that URLs carry TM Forum's file names and versions. */
function fixtureRoute(path: string): Handler | undefined {
  const name = /^\/fixtures\/(?:v\d+\/)?([\w.-]+)$/.exec(path)?.[1];
  if (!name) return undefined;
  return (_req, res) => {
    let text: string;
    try {
      text = fixtureText(name);
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': name.endsWith('.json') ? 'application/json' : 'application/yaml' }).end(text);
  };
}

export async function startSpecServer(): Promise<SpecServer> {
  const hits = new Map<string, number>();
  const sent = new Map<string, number>();
  const table = routes(sent);
  const server = createServer((req, res) => {
    const path = pathOf(req);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = table[path] ?? table[path.replace(/\/\d+$/, '')] ?? fixtureRoute(path);
    (route ?? ((_q, r) => r.writeHead(404).end()))(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    sent,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
