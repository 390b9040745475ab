/**
 * Keeps a PathIndex in step with every ExposedAPI in the cluster through an
 * informer (one LIST, then a WATCH), so admission answers "who claims this
 * path" from memory and never lists per request.
 *
 * The informer re-lists by itself after 410 Expired and resumes dropped
 * watches; on any other error client-node's informer stops for good, so this
 * module starts a fresh one (new discovery, new LIST) after an exponential,
 * capped delay.
 */
import { isIPv6 } from 'node:net';
import { delimiter } from 'node:path';
import {
  ApisApi, CustomObjectsApi, KubeConfig, ListWatch, Watch,
  type KubernetesListObject, type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from '../shared/log.ts';
import { formatKey } from '../shared/key.ts';
import type { PathIndex } from './path-index.ts';

export const GROUP = 'oda.tmforum.org';
export const PLURAL = 'exposedapis';
const FALLBACK_VERSION = 'v1';

export interface PathWatchState {
  readonly enabled: boolean;
  /** True once the first LIST has filled the index; stays true through later restarts (the index is kept). */
  readonly synced: boolean;
  /** Why the watch is not (or no longer) healthy. */
  readonly reason?: string;
}

export interface PathWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly index: PathIndex;
  readonly log: Logger;
  readonly onStateChange?: (state: PathWatchState) => void;
  /** Restart delays after an informer error: initial, doubled per failure, capped. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
}

export interface PathWatch {
  state(): PathWatchState;
  /** Ends the informer and any pending restart; resolves when nothing is left running. */
  stop(): Promise<void>;
}

/** Kubernetes access from the environment: KUBECONFIG (a path list), else in-cluster, else none. */
export function loadKubeConfig(env: Readonly<Record<string, string | undefined>>): KubeConfig | undefined {
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f.trim() !== '');
  const kubeConfig = new KubeConfig();
  if (files.length > 0) {
    files.forEach((file, i) => {
      if (i === 0) return kubeConfig.loadFromFile(file);
      const more = new KubeConfig();
      more.loadFromFile(file);
      kubeConfig.mergeConfig(more, true);
    });
    return kubeConfig;
  }
  if (env.KUBERNETES_SERVICE_HOST) return inClusterConfig(kubeConfig, env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT ?? '443');
  return undefined;
}

/** loadFromCluster() reads process.env itself: redo its server URL from the env we were given. */
function inClusterConfig(kubeConfig: KubeConfig, host: string, port: string): KubeConfig {
  kubeConfig.loadFromCluster();
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const { clusters, users, contexts, currentContext } = kubeConfig;
  kubeConfig.loadFromOptions({ clusters: clusters.map((c) => ({ ...c, server })), users, contexts, currentContext });
  return kubeConfig;
}

function pathOf(object: KubernetesObject): string | undefined {
  const spec = (object as { spec?: { path?: unknown } }).spec;
  return typeof spec?.path === 'string' ? spec.path : undefined;
}

function keyOf(object: KubernetesObject): string {
  return formatKey({ namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' });
}

/** One line for logs and /readyz: client-node's ApiException message spans lines and carries response headers. */
export function describeError(error: unknown): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown; cause?: { code?: unknown } };
  const status = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  let detail = typeof e.message === 'string' ? e.message.split('\n')[0] ?? '' : String(error);
  if (typeof e.body === 'string') {
    try {
      const body = JSON.parse(e.body) as { reason?: string; message?: string };
      if (body.reason) detail = `${body.reason}: ${body.message ?? ''}`;
    } catch { /* not a Status: keep the message */ }
  }
  if (typeof e.cause?.code === 'string') detail = `${detail} (${e.cause.code})`;
  return status === undefined ? detail : `HTTP ${status} ${detail}`;
}

/** The group's preferred version from discovery (GET /apis), or v1 when discovery does not say. */
export async function discoverVersion(kubeConfig: KubeConfig): Promise<{ version: string; note?: string }> {
  try {
    const groups = await kubeConfig.makeApiClient(ApisApi).getAPIVersions();
    const group = groups.groups.find((g) => g.name === GROUP);
    const version = group?.preferredVersion?.version ?? group?.versions[0]?.version;
    return version ? { version } : { version: FALLBACK_VERSION, note: `API group ${GROUP} is not served` };
  } catch (error) {
    return { version: FALLBACK_VERSION, note: `discovery failed: ${describeError(error)}` };
  }
}

/**
 * client-node's Watch with an off switch. ListWatch.stop() only aborts the
 * request it already holds: a stop that lands while the informer is listing,
 * waiting to reconnect, or connecting would otherwise leave a watch running.
 */
class StoppableWatch extends Watch {
  readonly #signal: AbortSignal;
  constructor(kubeConfig: KubeConfig, signal: AbortSignal) {
    super(kubeConfig);
    this.#signal = signal;
  }
  override async watch(
    path: string, query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void, done: (err: any) => void,
  ): Promise<AbortController> {
    if (this.#signal.aborted) return new AbortController();
    const controller = await super.watch(path, query, callback, done);
    if (this.#signal.aborted) controller.abort();
    return controller;
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

interface Attempt {
  readonly signal: AbortSignal;
  /** Called after each LIST with its items, before the informer handles them. */
  readonly onList: (items: readonly KubernetesObject[]) => void;
  readonly onError: (error: unknown) => void;
}

/** One informer over all namespaces; equivalent to makeInformer, but with StoppableWatch and an abortable reconnect delay. */
function startInformer(kubeConfig: KubeConfig, version: string, index: PathIndex, attempt: Attempt): ListWatch<KubernetesObject> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
    const result = (await api.listClusterCustomObject({ group: GROUP, version, plural: PLURAL })) as KubernetesListObject<KubernetesObject>;
    // Stopped while listing: fail the list so the informer does not go on to watch.
    if (attempt.signal.aborted) throw new Error('path watch stopped');
    attempt.onList(result.items);
    return result;
  };
  const informer = new ListWatch(`/apis/${GROUP}/${version}/${PLURAL}`, new StoppableWatch(kubeConfig, attempt.signal), list, false,
    undefined, undefined, { delayFn: (ms) => abortableDelay(ms, attempt.signal) });
  informer.on('add', (o) => index.upsert(keyOf(o), pathOf(o)));
  // An object being deleted still claims its path: its APIM API is there until the finalizer ran.
  informer.on('update', (o) => index.upsert(keyOf(o), pathOf(o)));
  informer.on('delete', (o) => index.remove(keyOf(o)));
  informer.on('error', (error) => { if (!attempt.signal.aborted) attempt.onError(error); });
  informer.start().catch((error: unknown) => { if (!attempt.signal.aborted) attempt.onError(error); });
  return informer;
}

export function startPathWatch(options: PathWatchOptions): PathWatch {
  const { kubeConfig, index, log } = options;
  const initialMs = options.backoff?.initialMs ?? 500;
  const maxMs = options.backoff?.maxMs ?? 30_000;
  let state: PathWatchState = { enabled: true, synced: false, reason: 'waiting for the first list of ExposedAPIs' };
  let stopped = false;
  let failures = 0;
  let lastSyncAt = 0;
  let current: { controller: AbortController; informer?: ListWatch<KubernetesObject> } | undefined;
  let retry: NodeJS.Timeout | undefined;

  const setState = (next: PathWatchState) => {
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
    log.warn({ error: message, retryInMs: delay }, 'ExposedAPI path watch failed; restarting it');
    setState({ enabled: true, synced: state.synced, reason: `watch failed (${message}); restarting in ${delay} ms` });
    retry = setTimeout(() => { retry = undefined; void run(); }, delay);
  };

  const run = async () => {
    const controller = new AbortController();
    current = { controller };
    const { version, note } = await discoverVersion(kubeConfig);
    if (controller.signal.aborted) return;
    if (note) log.warn({ version }, `ExposedAPI version discovery: ${note}; watching ${version}`);
    const attempt: Attempt = {
      signal: controller.signal,
      onList: (items) => {
        index.replaceAll(items.map((o) => [keyOf(o), pathOf(o)] as const));
        lastSyncAt = Date.now();
        if (!state.synced || state.reason) log.info({ version, count: items.length }, 'Listed ExposedAPIs; path index synced');
        setState({ enabled: true, synced: true });
      },
      onError: (error) => fail(controller, current?.informer, error),
    };
    current.informer = startInformer(kubeConfig, version, index, attempt);
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
