import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixtureText } from './resources.ts';

export interface SpecServer {
  readonly url: string;
  /** How many requests each path received. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** One operation: for tests of many APIs, where a real TMF document would only cost time. */
const SMALL_DOCUMENT = JSON.stringify({
  openapi: '3.0.3',
  info: { title: 'Items', version: '1.0.0' },
  paths: { '/items': { get: { operationId: 'listItems', responses: { '200': { description: 'ok' } } } } },
});

/** The real TMF documents, a small one, a URL that hangs and one that never stops sending. */
const ROUTES: Record<string, Handler> = {
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
  '/huge': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
      if (sent < 64 * 1024 * 1024) res.once('drain', pump);
      else res.end();
    };
    res.on('close', () => (sent = Infinity));
    pump();
  },
};

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
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    (ROUTES[path] ?? fixtureRoute(path) ?? ((_q, r) => r.writeHead(404).end()))(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
