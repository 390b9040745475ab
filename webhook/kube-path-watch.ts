/**
 * Keeps a PathIndex in step with every ExposedAPI in the cluster through an
 * informer (one LIST, then a WATCH), so admission answers "who claims this
 * path" from memory and never lists per request.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../shared/log.ts';
import { formatKey } from '../shared/key.ts';
import { startInformer, type Informer, type InformerState } from '../shared/kube/informer.ts';
import { exposedApiTarget } from '../shared/kube/exposed-apis.ts';
import type { MonitoredNamespaces } from '../shared/namespaces.ts';
import type { PathIndex } from './path-index.ts';

export type PathWatchState = InformerState;

export interface PathWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly index: PathIndex;
  readonly log: Logger;
  /** Only these namespaces' paths count: elsewhere another operator serves ExposedAPIs. */
  readonly namespaces: MonitoredNamespaces;
  readonly onStateChange?: (state: PathWatchState) => void;
  /** Restart delays after an informer error: initial, doubled per failure, capped. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
}

export type PathWatch = Informer;

function pathOf(object: KubernetesObject): string | undefined {
  const spec = (object as { spec?: { path?: unknown } }).spec;
  return typeof spec?.path === 'string' ? spec.path : undefined;
}

function keyOf(object: KubernetesObject): string {
  return formatKey({ namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' });
}

export function startPathWatch(options: PathWatchOptions): PathWatch {
  const { index } = options;
  return startInformer({
    kubeConfig: options.kubeConfig,
    what: 'ExposedAPIs (path index)',
    target: () => exposedApiTarget(options.kubeConfig),
    log: options.log,
    accept: (o) => options.namespaces.matches(o.metadata?.namespace ?? ''),
    ...(options.onStateChange ? { onStateChange: options.onStateChange } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {}),
    handlers: {
      onList: (items) => index.replaceAll(items.map((o) => [keyOf(o), pathOf(o)] as const)),
      onAdd: (o) => index.upsert(keyOf(o), pathOf(o)),
      // An object being deleted still claims its path: its APIM API is there until the finalizer ran.
      onUpdate: (o) => index.upsert(keyOf(o), pathOf(o)),
      onDelete: (o) => index.remove(keyOf(o)),
    },
  });
}
