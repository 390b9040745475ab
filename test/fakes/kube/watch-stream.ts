/**
 * A watch: newline-delimited JSON events on a chunked 200 response, resumed
 * from a resourceVersion out of the store's history, 410 Expired as an ERROR
 * event when that history no longer reaches back, selectors applied to each
 * event as the API server does (an object leaving the selector is DELETED).
 */
import type { ServerResponse } from 'node:http';
import type { ResourceRoute } from './handlers.ts';
import { present } from './handlers.ts';
import type { KubeObject } from './object.ts';
import { apiVersionOf } from './resource-types.ts';
import { combine, parseFieldSelector, parseLabelSelector, type Selector } from './selectors.ts';
import { badRequest, expired, KubeError } from './status.ts';
import type { StoreEvent, Store } from './store.ts';

export interface OpenWatch {
  /** Ends the stream as the API server does when it drops a watch. */
  end(): void;
  /** Sends 410 Expired and ends, as when the watch cache has moved past this watcher. */
  expire(): void;
}

export interface WatchOptions {
  readonly store: Store;
  readonly bookmarkIntervalMs: number;
  /** Called with the open watch; returns the function that forgets it. */
  readonly register: (watch: OpenWatch) => () => void;
}

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** What a watcher with this namespace and selector sees of a store event, if anything. */
export function translate(event: StoreEvent, route: ResourceRoute, selector: Selector): WatchEventType | undefined {
  if (event.resource.id !== route.type.id) return undefined;
  if (route.namespace !== undefined && event.object.metadata.namespace !== route.namespace) return undefined;
  const now = selector(event.object);
  if (event.type !== 'MODIFIED' || !event.previous) return now ? event.type : undefined;
  const before = selector(event.previous);
  if (now) return before ? 'MODIFIED' : 'ADDED';
  return before ? 'DELETED' : undefined;
}

interface StartPoint {
  readonly backlog: readonly { type: WatchEventType; object: KubeObject }[];
  readonly initialEvents: boolean;
}

function startPoint(
  options: WatchOptions,
  route: ResourceRoute,
  query: Readonly<Record<string, string>>,
  selector: Selector,
): StartPoint {
  const requested = query.resourceVersion ?? '';
  // Unset or "0": the current state as synthetic ADDED events, then changes.
  if (requested === '' || requested === '0' || query.sendInitialEvents === 'true') {
    const objects = options.store.list(route.type, route.namespace).filter(selector);
    return { backlog: objects.map((object) => ({ type: 'ADDED', object })), initialEvents: true };
  }
  if (!/^\d+$/.test(requested)) throw badRequest(`resourceVersion: Invalid value: "${requested}": must be an integer`);
  const events = options.store.eventsAfter(Number(requested));
  const backlog = events.flatMap((event) => {
    const type = translate(event, route, selector);
    return type ? [{ type, object: event.object }] : [];
  });
  return { backlog, initialEvents: false };
}

function openStream(response: ServerResponse): void {
  response.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  response.flushHeaders();
}

type Write = (type: string, object: unknown) => void;

function writerFor(response: ServerResponse): Write {
  return (type, object) => {
    if (!response.writableEnded) response.write(`${JSON.stringify({ type, object })}\n`);
  };
}

/** Follows the store until the client leaves, the timeout passes, or the test ends the watch. */
function follow(
  response: ServerResponse,
  route: ResourceRoute,
  query: Readonly<Record<string, string>>,
  selector: Selector,
  options: WatchOptions,
): void {
  const write = writerFor(response);
  const timers: NodeJS.Timeout[] = [];
  let forget = () => {};
  const unsubscribe = options.store.subscribe((event) => {
    const type = translate(event, route, selector);
    if (type) write(type, present(route.type, route.version, event.object));
  });
  // Stops the fan-out at once: 'close' comes a tick after end(), and a write after end throws.
  const finish = () => {
    unsubscribe();
    for (const timer of timers) clearTimeout(timer);
    forget();
    if (!response.writableEnded) response.end();
  };
  const timeoutSeconds = Number(query.timeoutSeconds ?? 0);
  if (timeoutSeconds > 0) timers.push(setTimeout(finish, timeoutSeconds * 1000));
  if (query.allowWatchBookmarks === 'true')
    timers.push(setInterval(() => write('BOOKMARK', bookmark(route, options.store)), options.bookmarkIntervalMs));
  forget = options.register({
    end: finish,
    expire: () => {
      write('ERROR', expired(query.resourceVersion ?? '', options.store.resourceVersion()).toStatus());
      finish();
    },
  });
  response.on('close', finish);
}

function bookmark(route: ResourceRoute, store: Store, annotations?: Record<string, string>): unknown {
  const metadata = { resourceVersion: String(store.resourceVersion()), ...(annotations ? { annotations } : {}) };
  return { kind: route.type.kind, apiVersion: apiVersionOf(route.type.group, route.version), metadata };
}

/** Serves one watch. Throws before writing anything on a bad request. */
export function serveWatch(
  response: ServerResponse,
  route: ResourceRoute,
  query: Readonly<Record<string, string>>,
  options: WatchOptions,
): void {
  const selector = combine(parseLabelSelector(query.labelSelector), parseFieldSelector(query.fieldSelector));
  const write = writerFor(response);
  let start: StartPoint;
  try {
    start = startPoint(options, route, query, selector);
  } catch (error) {
    // Too old a resourceVersion is not an HTTP error: the stream opens and carries the Status.
    if (!(error instanceof KubeError) || error.code !== 410) throw error;
    openStream(response);
    write('ERROR', error.toStatus());
    response.end();
    return;
  }
  openStream(response);
  for (const event of start.backlog) write(event.type, present(route.type, route.version, event.object));
  if (start.initialEvents && query.allowWatchBookmarks === 'true' && query.sendInitialEvents === 'true') {
    write('BOOKMARK', bookmark(route, options.store, { 'k8s.io/initial-events-end': 'true' }));
  }
  follow(response, route, query, selector, options);
}
