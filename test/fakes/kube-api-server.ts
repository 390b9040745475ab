/**
 * A local server that behaves like the Kubernetes API for namespaced
 * resources, for tests that drive the real @kubernetes/client-node: discovery,
 * CRUD with resourceVersion conflicts, the four patch types, finalizers,
 * ownerReference garbage collection, generation rules with and without a
 * status subresource, watches that resume, expire (410) and can be dropped,
 * Namespaces that terminate (kube/namespace-lifecycle.ts),
 * and the whole server going away (connections refused, or 503) and back.
 *
 *   const api = await startKubeApiServer();
 *   const kc = api.kubeconfig();        // or api.kubeconfigYaml() for a child process
 *   ...
 *   await api.close();
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { buildKubeConfig, kubeConfigYaml } from './kube/kubeconfig.ts';
import { asKubeObject, type KubeObject } from './kube/object.ts';
import { createTypeRegistry, DEFAULT_RESOURCE_TYPES, type ResourceTypeOptions } from './kube/resource-types.ts';
import type { RequestRecord } from './kube/route.ts';
import { createRequestHandler, type Fault, type Interleaved, type RequestMatcher } from './kube/router.ts';
import { createStore } from './kube/store.ts';
import { startNamespaceController } from './kube/namespace-lifecycle.ts';
import { kubeRecorder } from './kube/record.ts';
import type { OpenWatch } from './kube/watch-stream.ts';

export type { KubeObject } from './kube/object.ts';
export type { RequestRecord, Verb } from './kube/route.ts';
export type { RequestMatcher } from './kube/router.ts';
export {
  DEFAULT_RESOURCE_TYPES,
  EXPOSED_API,
  INGRESS,
  SECRET,
  CORE_EVENT,
  EVENT,
  LEASE,
  COMPONENT,
  SERVICE,
  ENDPOINT_SLICE,
  POD,
  SERVICE_MONITOR,
  NAMESPACE,
  type ResourceTypeOptions,
} from './kube/resource-types.ts';

export interface KubeApiServerOptions {
  /** Resource types served; default DEFAULT_RESOURCE_TYPES. */
  readonly types?: readonly ResourceTypeOptions[];
  /** Changes to single types by id, e.g. `{ 'exposedapis.oda.tmforum.org': { statusSubresource: true } }`. */
  readonly overrides?: Readonly<Record<string, Partial<ResourceTypeOptions>>>;
  /** Serve https with this certificate; `ca` goes into the kubeconfig. Default plain http. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer; readonly ca: string | Buffer };
  /** Change events a watch can resume across; older resourceVersions get 410 Expired. Default 1000. */
  readonly watchHistory?: number;
  /** Interval of BOOKMARK events on watches that allow them. Default 60 s. */
  readonly bookmarkIntervalMs?: number;
  /** Require a bearer token: true accepts any, a string only that one. Default false. */
  readonly requireToken?: string | boolean;
  /** The kubeconfig context's namespace. Default 'default'. */
  readonly namespace?: string;
  /** Objects in place before the first request (apiVersion and kind pick the type). */
  readonly seed?: readonly unknown[];
  readonly port?: number;
  /** Keep each request's URL, headers (not Authorization) and body in `requests[].sent`, for a replay; default off. */
  readonly recordBodies?: boolean;
}

export interface KubeApiServer {
  /** `http://127.0.0.1:PORT` or `https://...`. */
  readonly url: string;
  /** Every request so far, in the server's terms (verb, resource, namespace, name). */
  readonly requests: readonly RequestRecord[];
  /** A client configuration; `token` names the client in `requests` (`user`), e.g. to tell the operator's calls from a test's. */
  kubeconfig(token?: string): KubeConfig;
  kubeconfigYaml(token?: string): string;
  /** Snapshot of a type's objects (`exposedapis`, `exposedapis.oda.tmforum.org`, `ExposedAPI`), as stored. */
  objects(type: string, namespace?: string): KubeObject[];
  get(type: string, namespace: string, name: string): KubeObject | undefined;
  /** Puts objects in place with no admission rules (creates or replaces); watchers see them. */
  seed(...objects: unknown[]): KubeObject[];
  /** Deletes through the back door, as `seed` writes: finalizers still hold the object (it gets a deletionTimestamp). */
  remove(type: string, namespace: string, name: string): void;
  /** The current global resourceVersion. */
  resourceVersion(): string;
  /** The next request matching answers with this status (or drops the connection: 'reset'). Queue several for several. */
  failNext(matcher: RequestMatcher, status: number | 'reset', body?: unknown): void;
  /**
   * Runs `write` (another client's change, e.g. `seed`) just before the next matching request is served, so that
   * the request meets it: a write with the old resourceVersion then gets a real 409, a watch resuming from before a
   * `compact` a real 410.
   */
  interleave(matcher: RequestMatcher, write: () => void): void;
  clearRequests(): void;
  /** Watches open right now. */
  openWatches(): number;
  /** Connections accepted so far (with TLS, completed handshakes): how well clients reuse them. */
  connectionsAccepted(): number;
  /** Ends every open watch, as an API server restart or a load balancer does. */
  closeWatches(): void;
  /** Sends 410 Expired to every open watch and forgets the watch history: clients must re-list. */
  expireWatches(): void;
  /** Forgets the watch history, as etcd's compaction does: a watch resuming from an older resourceVersion gets 410 Expired. */
  compact(): void;
  /**
   * The API server goes away: 'refuse' stops listening and cuts every connection (a crashed or restarting
   * server: connections refused); 'unavailable' ends every watch and answers each request 503 ServiceUnavailable
   * (no healthy server behind the address). The objects stay, and `seed`/`remove` still change them.
   */
  goDown(how: 'refuse' | 'unavailable'): Promise<void>;
  /** Serves again, on the same address. */
  comeBack(): Promise<void>;
  /** Resolves once the predicate holds; re-checked on every request, change and watch open/close, and every few ms (for client-side state). */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Stops listening and ends every watch and connection. */
  close(): Promise<void>;
}

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const registry = createTypeRegistry(options.types ?? DEFAULT_RESOURCE_TYPES, options.overrides);
  const store = createStore({ types: registry.all, historyLimit: options.watchHistory ?? 1000 });
  const requests: RequestRecord[] = [];
  const faults: Fault[] = [];
  const interleaved: Interleaved[] = [];
  let down: 'refuse' | 'unavailable' | undefined;
  const watches = new Set<OpenWatch>();
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  store.subscribe(notify);
  const stopNamespaceController = startNamespaceController(store, registry.all);
  const recorder = kubeRecorder();
  if (recorder) store.subscribe(recorder.observe);
  let url = '';
  const handler = createRequestHandler({
    registry,
    store,
    requests,
    faults,
    interleaved,
    unavailable: () => down === 'unavailable',
    watches,
    notify,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    token: options.requireToken ?? false,
    serverAddress: () => new URL(url).host,
    recordBodies: options.recordBodies ?? false,
  });
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler)
    : createHttpServer(handler);
  let accepted = 0;
  server.on(options.tls ? 'secureConnection' : 'connection', () => {
    accepted += 1;
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () => {
    for (const watch of [...watches]) watch.end();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    return closed;
  };
  await listen(options.port ?? 0);
  url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const seed = (...objects: unknown[]) =>
    objects.map((value) => {
      const object = asKubeObject(value);
      const type = object && registry.byApiVersionKind(String(object.apiVersion ?? ''), String(object.kind ?? ''));
      if (!object || !type) throw new Error(`cannot seed ${JSON.stringify(value)}: unknown apiVersion/kind`);
      return store.seed(type, object);
    });
  seed(...(options.seed ?? []));
  const port = (server.address() as AddressInfo).port;
  const target = {
    url,
    token: 'stand-in-token',
    namespace: options.namespace ?? 'default',
    ...(options.tls ? { caPem: options.tls.ca } : {}),
  };

  return {
    url,
    requests,
    kubeconfig: (token) => buildKubeConfig({ ...target, token: token ?? target.token }),
    kubeconfigYaml: (token) => kubeConfigYaml(buildKubeConfig({ ...target, token: token ?? target.token })),
    objects: (type, namespace) => store.list(registry.byName(type), namespace),
    get: (type, namespace, name) => store.get(registry.byName(type), namespace, name),
    seed,
    remove: (type, namespace, name) => void store.delete(registry.byName(type), namespace, name, {}),
    resourceVersion: () => String(store.resourceVersion()),
    failNext: (matcher, status, body) => {
      faults.push(body === undefined ? { matcher, status } : { matcher, status, body });
    },
    interleave: (matcher, write) => {
      interleaved.push({ matcher, write });
    },
    clearRequests: () => {
      requests.length = 0;
    },
    openWatches: () => watches.size,
    connectionsAccepted: () => accepted,
    closeWatches: () => {
      for (const watch of [...watches]) watch.end();
    },
    expireWatches: () => {
      store.compact();
      for (const watch of [...watches]) watch.expire();
    },
    compact: () => store.compact(),
    goDown: async (how) => {
      down = how;
      if (how === 'refuse') await stopListening();
      else for (const watch of [...watches]) watch.end();
      notify();
    },
    comeBack: async () => {
      if (down === 'refuse') await listen(port);
      down = undefined;
      notify();
    },
    waitFor: (predicate, timeoutMs = 10_000) => waitFor(waiters, predicate, timeoutMs),
    close: async () => {
      stopNamespaceController();
      recorder?.flush();
      if (down !== 'refuse') await stopListening();
      down = undefined;
    },
  };
}

function waitFor(waiters: Set<() => void>, predicate: () => boolean, timeoutMs: number): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      waiters.delete(check);
      clearTimeout(timer);
      clearInterval(poll);
      if (error) reject(error);
      else resolve();
    };
    const check = () => {
      if (predicate()) done();
    };
    const timer = setTimeout(() => done(new Error(`condition not met within ${timeoutMs} ms`)), timeoutMs);
    // Conditions on the client side (a cache, an index) change after the server notified: re-check often too.
    const poll = setInterval(check, 5);
    waiters.add(check);
  });
}
