/**
 * Namespaces as the API server and its namespace controller treat them: a
 * new one is Active with the `kubernetes` finalizer; deleting it marks it
 * Terminating (deletionTimestamp, status.phase); while it terminates, new
 * objects in it are refused with 403 (the NamespaceLifecycle admission
 * plugin) but existing ones can still be updated and deleted; the controller
 * deletes everything in it, and the namespace goes once nothing is left.
 */
import type { KubeObject } from './object.ts';
import type { ResourceType } from './resource-types.ts';
import { KubeError } from './status.ts';
import type { Store } from './store.ts';

const NAMESPACE_FINALIZER = 'kubernetes';

export const isNamespace = (object: KubeObject): boolean => object.kind === 'Namespace';

function specFinalizers(object: KubeObject): unknown[] {
  const finalizers = (object.spec as { finalizers?: unknown } | undefined)?.finalizers;
  return Array.isArray(finalizers) ? finalizers : [];
}

/** What a new Namespace gets from the API server. */
export function newNamespace(object: KubeObject): KubeObject {
  return {
    ...object,
    spec: { finalizers: [NAMESPACE_FINALIZER], ...(object.spec as Record<string, unknown> | undefined) },
    status: { phase: 'Active' },
  };
}

/** A Namespace is held by the finalizers in its spec, which only the namespace controller removes. */
export function heldBySpecFinalizers(object: KubeObject): boolean {
  return isNamespace(object) && specFinalizers(object).length > 0;
}

export function markTerminating(object: KubeObject): KubeObject {
  return isNamespace(object) ? { ...object, status: { ...(object.status as object), phase: 'Terminating' } } : object;
}

/** The NamespaceLifecycle admission plugin: nothing new in a namespace being terminated. */
export function refuseCreateIfTerminating(
  store: Store,
  namespaces: ResourceType | undefined,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
): void {
  if (!namespaces || !type.namespaced || namespace === undefined) return;
  if (!store.get(namespaces, '', namespace)?.metadata.deletionTimestamp) return;
  const why = `unable to create new content in namespace ${namespace} because it is being terminated`;
  throw new KubeError(403, 'Forbidden', `${type.id} "${name}" is forbidden: ${why}`, {
    name,
    ...(type.group ? { group: type.group } : {}),
    kind: type.plural,
    causes: [
      {
        reason: 'NamespaceTerminating',
        message: `namespace ${namespace} is being terminated`,
        field: 'metadata.namespace',
      },
    ],
  });
}

/**
 * The namespace controller: after any change, deletes what is left in each
 * terminating namespace (finalizers still hold what they hold), and removes
 * the namespace's own finalizer once it is empty. Runs after the change, as
 * a controller does, never inside the write.
 */
export function startNamespaceController(store: Store, types: readonly ResourceType[]): () => void {
  const namespaces = types.find((t) => t.id === 'namespaces');
  if (!namespaces) return () => undefined;
  const contents = types.filter((t) => t.namespaced);
  let scheduled: NodeJS.Immediate | undefined;
  const sweep = (): void => {
    scheduled = undefined;
    for (const namespace of store.list(namespaces)) {
      if (!namespace.metadata.deletionTimestamp) continue;
      const name = namespace.metadata.name ?? '';
      let left = 0;
      for (const type of contents) {
        for (const object of store.list(type, name)) {
          left += 1;
          if (!object.metadata.deletionTimestamp) store.delete(type, name, object.metadata.name ?? '', {});
        }
      }
      if (left === 0)
        store.update(
          namespaces,
          '',
          name,
          { ...namespace, spec: { ...(namespace.spec as object), finalizers: [] } },
          {
            requireResourceVersion: false,
          },
        );
    }
  };
  return store.subscribe(() => {
    scheduled ??= setImmediate(sweep);
  });
}
