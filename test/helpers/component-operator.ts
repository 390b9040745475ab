import { isDeepStrictEqual } from 'node:util';
import { CustomObjectsApi, PatchStrategy, Watch, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { CANVAS_SEGMENTS, canvasExposedApis, type CanvasStatusKey } from './canvas-component.ts';

type Obj = Record<string, any>;

const GROUP = 'oda.tmforum.org';
const VERSION = 'v1';
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** kopf's annotation that makes a handler run again with nothing changed (timers, resumes). */
const TOUCH = 'kopf.zalando.org/touch-dummy';

export interface ComponentOperator {
  /** Creates the Component and, as the create handlers do, its ExposedAPIs and status lists. */
  install(component: Obj, options?: { statusListsAfter?: () => Promise<void> }): Promise<void>;
  /** Replaces the Component's spec and runs the update handlers: children patched, created and deleted. */
  upgrade(component: Obj): Promise<void>;
  /** Runs the handlers again with the spec unchanged, as kopf does on resume and touch: lists rewritten from the children. */
  rewrite(namespace: string, name: string): Promise<void>;
  uninstall(namespace: string, name: string): Promise<void>;
  /** `status['summary/status'].deployment_status` as last written. */
  deploymentStatus(namespace: string, name: string): Promise<string | undefined>;
  /** Writes this stand-in made to Components. */
  readonly writes: () => number;
  close(): void;
}

function summary(status: Obj): Obj {
  let desired = 0;
  let complete = 0;
  const urls: Record<string, string> = {};
  for (const { statusKey } of CANVAS_SEGMENTS) {
    const entries: Obj[] = status[statusKey] ?? [];
    desired += entries.length;
    urls[`${statusKey.replace('APIs', '')}APIsummary`] = entries
      .filter((e) => e.url)
      .map((e) => `${e.url} `)
      .join('');
    complete += entries.filter((e) => e.url && e.ready === true).length;
  }
  // The Canvas goes on to identity, secrets and dependent APIs; a component with none of them is Complete here.
  return { ...urls, deployment_status: complete === desired ? 'Complete' : 'In-Progress-CompCon' };
}

/**
 * The parts of the ODA Canvas component operator (componentOperator.py)
 * that meet an API operator, driven against the Kubernetes stand-in through
 * the real client:
 *
 * - `processExposedAPIs` per segment: children created (`{name, uid,
 *   ready: false}`), patched when their spec differs (the entry then copied
 *   from the child's `status.apiStatus`, uid and `implementation.ready`), and
 *   deleted when gone from the spec; the three lists written back in one
 *   merge patch of the main resource, with no resourceVersion, as kopf does;
 * - `summary` on every status change: `summary/status.deployment_status`,
 *   `Complete` only when every entry has a url and is ready.
 *
 * One Component's handlers run one at a time, as kopf runs them.
 */
export function startComponentOperator(kubeconfig: KubeConfig, namespace: string): ComponentOperator {
  const api = kubeconfig.makeApiClient(CustomObjectsApi);
  let writes = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };
  const ref = (plural: string, name: string) => ({ group: GROUP, version: VERSION, namespace, plural, name });
  const getComponent = (name: string): Promise<Obj> => api.getNamespacedCustomObject(ref('components', name));
  const patchComponent = async (name: string, body: Obj): Promise<void> => {
    writes++;
    await api.patchNamespacedCustomObject({ ...ref('components', name), body }, merge);
  };

  async function child(object: Obj, listed: boolean): Promise<Obj> {
    const name = object.metadata.name;
    if (listed) {
      let current: Obj = await api.getNamespacedCustomObject(ref('exposedapis', name));
      if (!isDeepStrictEqual(current.spec, object.spec))
        current = await api.patchNamespacedCustomObject({ ...ref('exposedapis', name), body: object }, merge);
      const apiStatus = current.status?.apiStatus;
      return apiStatus
        ? { ...apiStatus, uid: current.metadata.uid, ready: current.status?.implementation?.ready ?? false }
        : { name, uid: current.metadata.uid, ready: false };
    }
    const created: Obj = await api.createNamespacedCustomObject({ ...ref('exposedapis', ''), body: object });
    return { name, uid: created.metadata.uid, ready: false };
  }

  async function handle(component: Obj, statusListsAfter?: () => Promise<void>): Promise<void> {
    const status = component.status ?? {};
    const children = canvasExposedApis(component);
    const lists = {} as Record<CanvasStatusKey, Obj[]>;
    for (const { statusKey } of CANVAS_SEGMENTS) {
      const wanted = children.filter((c) => c.statusKey === statusKey);
      const old: Obj[] = status[statusKey] ?? [];
      for (const entry of old) {
        if (!wanted.some((c) => c.object.metadata.name === entry.name))
          await api.deleteNamespacedCustomObject(ref('exposedapis', entry.name)).catch(() => undefined);
      }
      lists[statusKey] = [];
      for (const { object } of wanted)
        lists[statusKey].push(
          await child(
            object,
            old.some((e) => e.name === object.metadata.name),
          ),
        );
    }
    await statusListsAfter?.();
    await patchComponent(component.metadata.name, { status: lists });
  }

  const seen = new Map<string, Obj>();
  const watch = new Watch(kubeconfig);
  let stopped = false;
  let request: { abort(): void } | undefined;
  const onEvent = (type: string, object: Obj): void => {
    if (type === 'DELETED' || !object?.status) return;
    const name = object.metadata.name;
    if (isDeepStrictEqual(seen.get(name), object.status)) return;
    seen.set(name, object.status);
    void serial(async () => {
      const current = await getComponent(name).catch(() => undefined);
      if (!current?.status) return;
      const wanted = summary(current.status);
      if (!isDeepStrictEqual(current.status['summary/status'], wanted))
        await patchComponent(name, { status: { 'summary/status': wanted } });
    });
  };
  const open = async (): Promise<void> => {
    if (stopped) return;
    request = await watch.watch(`/apis/${GROUP}/${VERSION}/namespaces/${namespace}/components`, {}, onEvent, () => {
      if (!stopped) setTimeout(() => void open(), 100);
    });
  };
  void open();

  return {
    install: (component, options = {}) =>
      serial(async () => {
        const created: Obj = await api.createNamespacedCustomObject({ ...ref('components', ''), body: component });
        writes++;
        await handle(created, options.statusListsAfter);
      }),
    upgrade: (component) =>
      serial(async () => {
        const current = await getComponent(component.metadata.name);
        writes++;
        const replaced: Obj = await api.replaceNamespacedCustomObject({
          ...ref('components', component.metadata.name),
          body: { ...current, spec: component.spec },
        });
        await handle(replaced);
      }),
    rewrite: (_namespace, name) =>
      serial(async () => {
        await patchComponent(name, { metadata: { annotations: { [TOUCH]: new Date().toISOString() } } });
        await handle(await getComponent(name));
      }),
    uninstall: (_namespace, name) =>
      serial(async () => {
        writes++;
        await api.deleteNamespacedCustomObject(ref('components', name));
      }),
    deploymentStatus: async (_namespace, name) =>
      (await getComponent(name).catch(() => undefined))?.status?.['summary/status']?.deployment_status,
    writes: () => writes,
    close() {
      stopped = true;
      request?.abort();
    },
  };
}
