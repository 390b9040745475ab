/**
 * A client-node informer that keeps going. The informer re-lists by itself
 * after 410 Expired and resumes dropped watches; on any other error it stops
 * for good, so this starts a fresh one (new target, new LIST) after an
 * exponential, capped delay, and tells the handlers what changed while it
 * was down (deletions included), as a re-list after 410 does. Used by the
 * webhook's path cache and the reconciler's watcher alike.
 */
import {
  type KubeConfig,
  ListWatch,
  Watch,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { describeError } from './errors.ts';
import type { StoredObject, WritableObjectStore } from './object-store.ts';

export interface InformerState {
  readonly enabled: boolean;
  /** True once the first LIST arrived; stays true through later restarts (what was learnt is kept). */
  readonly synced: boolean;
  /** Why the informer is not (or no longer) healthy. */
  readonly reason?: string;
}

export interface InformerTarget {
  /** The watch path, e.g. `/apis/oda.tmforum.org/v1/exposedapis`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<KubernetesObject>>;
  /** Restricts the watch as the list function restricts the list. */
  readonly labelSelector?: string;
  /** Said once in the log when the target was chosen with a caveat (e.g. discovery failed). */
  readonly note?: string;
  /** The namespace the path is confined to, if any: a re-list then replaces only that namespace in the store. */
  readonly namespace?: string;
}

export interface InformerHandlers {
  /** Every LIST (the first and each re-list) with all items, before add events for them. */
  readonly onList?: (items: readonly KubernetesObject[]) => void;
  readonly onAdd?: (object: KubernetesObject) => void;
  readonly onUpdate?: (object: KubernetesObject) => void;
  readonly onDelete?: (object: KubernetesObject) => void;
}

export interface InformerOptions {
  readonly kubeConfig: KubeConfig;
  /** What is watched, in words, for logs: "ExposedAPIs". */
  readonly what: string;
  /**
   * Chosen anew at every (re)start, so a restart also redoes discovery.
   * Undefined: the resource is not served (an optional CRD not installed):
   * the informer asks again every `backoff.maxMs` and counts as synced, empty.
   */
  readonly target: () => Promise<InformerTarget | undefined>;
  /** Kept up to date with every list and event, and kept across restarts until the next list replaces it. */
  readonly store?: WritableObjectStore<StoredObject>;
  /** Objects outside it are ignored, as if never listed (a cluster-wide watch serving some namespaces). */
  readonly accept?: (object: KubernetesObject) => boolean;
  readonly handlers: InformerHandlers;
  readonly log: Logger;
  readonly onStateChange?: (state: InformerState) => void;
  /** Restart delays after an informer error: initial, doubled per failure, capped. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
}

export interface Informer {
  state(): InformerState;
  /** Ends the informer and any pending restart; resolves when nothing is left running. */
  stop(): Promise<void>;
}

/** A watch that lasted this long, or delivered an event, was healthy: its end is no reason to wait. */
const HEALTHY_WATCH_MS = 1000;
const RECONNECT_MAX_MS = 30_000;

/**
 * client-node's Watch with an off switch, and a reconnect delay like
 * client-go's. ListWatch.stop() only aborts the request it already holds: a
 * stop that lands while the informer is listing, waiting to reconnect, or
 * connecting would otherwise leave a watch running. And ListWatch doubles its
 * delay on every close that brought no event, so a quiet watch the server
 * closed a few times (API server restarts, load balancers) waited up to 30 s
 * to resume: here only watches that end at once back off.
 */
class StoppableWatch extends Watch {
  readonly #signal: AbortSignal;
  #shortInARow = 0;
  constructor(kubeConfig: KubeConfig, signal: AbortSignal) {
    super(kubeConfig);
    this.#signal = signal;
  }
  override async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    if (this.#signal.aborted) return new AbortController();
    const started = Date.now();
    let events = 0;
    const counted = (phase: string, apiObj: any, watchObj?: any) => {
      events++;
      callback(phase, apiObj, watchObj);
    };
    const ended = (err: any) => {
      this.#shortInARow = events > 0 || Date.now() - started >= HEALTHY_WATCH_MS ? 0 : this.#shortInARow + 1;
      done(err);
    };
    const controller = await super.watch(path, query, counted, ended);
    if (this.#signal.aborted) controller.abort();
    return controller;
  }
  /** Before reconnecting: nothing after a healthy watch, else 1 s doubled per short one in a row, capped. */
  reconnectDelayMs(): number {
    return this.#shortInARow === 0 ? 0 : Math.min(RECONNECT_MAX_MS, HEALTHY_WATCH_MS * 2 ** (this.#shortInARow - 1));
  }
}

/** A delay that ends early (resolves) when the signal aborts, so no timer outlives stop(). */
function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    }
    signal.addEventListener('abort', finish, { once: true });
  });
}

const objectKey = (o: StoredObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

function startListWatch(
  kubeConfig: KubeConfig,
  target: InformerTarget,
  handlers: InformerHandlers,
  signal: AbortSignal,
  onError: (error: unknown) => void,
): ListWatch<KubernetesObject> {
  const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
    const result = await target.list();
    // Stopped while listing: fail the list so the informer does not go on to watch.
    if (signal.aborted) throw new Error('informer stopped');
    handlers.onList?.(result.items);
    return result;
  };
  const watch = new StoppableWatch(kubeConfig, signal);
  const informer = new ListWatch(target.path, watch, list, false, target.labelSelector, undefined, {
    delayFn: () => abortableDelay(watch.reconnectDelayMs(), signal),
  });
  if (handlers.onAdd) informer.on('add', handlers.onAdd);
  if (handlers.onUpdate) informer.on('update', handlers.onUpdate);
  if (handlers.onDelete) informer.on('delete', handlers.onDelete);
  informer.on('error', (error) => {
    if (!signal.aborted) onError(error);
  });
  informer.start().catch((error: unknown) => {
    if (!signal.aborted) onError(error);
  });
  return informer;
}

export function startInformer(options: InformerOptions): Informer {
  const { kubeConfig, log, what } = options;
  const initialMs = options.backoff?.initialMs ?? 500;
  const maxMs = options.backoff?.maxMs ?? 30_000;
  let state: InformerState = { enabled: true, synced: false, reason: `waiting for the first list of ${what}` };
  let stopped = false;
  let failures = 0;
  let lastSyncAt = 0;
  let current: { controller: AbortController; informer?: ListWatch<KubernetesObject> } | undefined;
  let retry: NodeJS.Timeout | undefined;

  const setState = (next: InformerState) => {
    if (next.synced === state.synced && next.reason === state.reason) return;
    state = next;
    options.onStateChange?.(state);
  };

  const fail = (controller: AbortController, informer: ListWatch<KubernetesObject> | undefined, error: unknown) => {
    controller.abort();
    void informer?.stop();
    if (stopped) return;
    // Backoff resets only after a healthy spell: a watch that fails right after each good LIST must not re-list in a hot loop.
    if (lastSyncAt > 0 && Date.now() - lastSyncAt > maxMs) failures = 0;
    failures++;
    const delay = Math.min(maxMs, initialMs * 2 ** (failures - 1));
    const message = describeError(error);
    log.warn({ error: message, retryInMs: delay }, `Watch of ${what} failed; restarting it`);
    setState({ enabled: true, synced: state.synced, reason: `watch failed (${message}); restarting in ${delay} ms` });
    retry = setTimeout(() => {
      retry = undefined;
      void run();
    }, delay);
  };

  const run = async () => {
    const controller = new AbortController();
    current = { controller };
    let target: InformerTarget | undefined;
    try {
      target = await options.target();
    } catch (error) {
      // Discovery failed (the API server away): retried like a failed watch, never an unhandled rejection.
      if (!controller.signal.aborted) fail(controller, undefined, error);
      return;
    }
    if (controller.signal.aborted) return;
    if (!target) {
      // Not served: nothing to list or watch; empty is the truth until it is served.
      if (state.enabled) log.info(`${what}: not served by this cluster; checking again every ${maxMs} ms`);
      options.store?.replace([]);
      setState({ enabled: false, synced: true, reason: 'not served by this cluster' });
      retry = setTimeout(() => {
        retry = undefined;
        void run();
      }, maxMs);
      return;
    }
    if (target.note) log.warn({ path: target.path }, `${what}: ${target.note}`);
    const { store } = options;
    const accept = options.accept ?? (() => true);
    // A restart's first LIST is a fresh ListWatch's, which calls every item an add. Against what the store held
    // before, it is told like a re-list after 410: what went is deleted, what moved is updated, the rest was known.
    let restarted = lastSyncAt > 0;
    let before: Map<string, KubernetesObject> | undefined;
    const handlers: InformerHandlers = {
      onList: (all) => {
        const items = all.filter(accept);
        if (restarted && store)
          before = new Map(store.list(target.namespace).map((o) => [objectKey(o), o as KubernetesObject]));
        restarted = false;
        store?.replace(items, target.namespace);
        options.handlers.onList?.(items);
        if (before) {
          const listed = new Set(items.map(objectKey));
          for (const [key, gone] of [...before]) {
            if (listed.has(key)) continue;
            before.delete(key);
            options.handlers.onDelete?.(gone);
          }
          if (before.size === 0) before = undefined;
        }
        lastSyncAt = Date.now();
        if (!state.synced || state.reason) log.info({ path: target.path, count: items.length }, `Listed ${what}`);
        setState({ enabled: true, synced: true });
      },
      onAdd: (object) => {
        if (!accept(object) || (store && !store.upsert(object))) return;
        const held = before?.get(objectKey(object));
        if (held === undefined) return options.handlers.onAdd?.(object);
        before?.delete(objectKey(object));
        if (before?.size === 0) before = undefined;
        if (held.metadata?.resourceVersion !== object.metadata?.resourceVersion) options.handlers.onUpdate?.(object);
      },
      onUpdate: (object) => {
        if (!accept(object) || (store && !store.upsert(object))) return;
        options.handlers.onUpdate?.(object);
      },
      onDelete: (object) => {
        if (!accept(object)) return;
        store?.remove(object);
        options.handlers.onDelete?.(object);
      },
    };
    current.informer = startListWatch(kubeConfig, target, handlers, controller.signal, (error) =>
      fail(controller, current?.informer, error),
    );
  };

  void run();
  return {
    state: () => state,
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      retry = undefined;
      current?.controller.abort();
      await current?.informer?.stop();
    },
  };
}
