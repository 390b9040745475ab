/**
 * The stand-in's etcd: one map of objects per resource type, one global
 * resourceVersion counter, a bounded history of change events for watches to
 * resume from, and synchronous fan-out to subscribers. Reads and writes hand
 * out copies, so no caller can change a stored object behind the store's back.
 */
import { randomUUID } from 'node:crypto';
import { type KubeObject, timestamp } from './object.ts';
import {
  hasFinalizers,
  isBeingDeleted,
  isNoOp,
  markDeleting,
  prepareCreate,
  prepareUpdate,
  storedApiVersion,
  type UpdateOptions,
} from './object-rules.ts';
import type { ResourceType } from './resource-types.ts';
import { alreadyExists, conflict, expired, notFound } from './status.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: EventType;
  readonly resourceVersion: number;
  readonly resource: ResourceType;
  readonly object: KubeObject;
  /** The object before a MODIFIED, so that a filtered watch can tell an object entering or leaving its selector. */
  readonly previous?: KubeObject;
}

export interface WriteOptions {
  readonly dryRun?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

export interface DeleteResult {
  readonly object: KubeObject;
  /** False when finalizers keep the object (it now carries a deletionTimestamp). */
  readonly deleted: boolean;
}

export interface StoreOptions {
  /** How many events a watch can resume across; older resourceVersions answer 410 Expired. */
  readonly types: readonly ResourceType[];
  readonly historyLimit: number;
  readonly clock?: () => Date;
}

const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(): string {
  return Array.from({ length: 5 }, () => SUFFIX_ALPHABET[Math.floor(Math.random() * SUFFIX_ALPHABET.length)]).join('');
}

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function createStore(options: StoreOptions) {
  const clock = options.clock ?? (() => new Date());
  const objects = new Map<string, Map<string, KubeObject>>();
  const history: StoreEvent[] = [];
  const listeners = new Set<(event: StoreEvent) => void>();
  let counter = 0;
  let compacted = 0;

  const bucket = (type: ResourceType) => {
    let found = objects.get(type.id);
    if (!found) objects.set(type.id, (found = new Map()));
    return found;
  };
  const now = () => timestamp(clock());

  function commit(type: EventType, resource: ResourceType, object: KubeObject, previous?: KubeObject): KubeObject {
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(++counter);
    const key = keyOf(stored.metadata.namespace ?? '', stored.metadata.name ?? '');
    if (type === 'DELETED') bucket(resource).delete(key);
    else bucket(resource).set(key, stored);
    const event: StoreEvent = previous
      ? { type, resourceVersion: counter, resource, object: stored, previous }
      : { type, resourceVersion: counter, resource, object: stored };
    history.push(event);
    while (history.length > options.historyLimit) compacted = history.shift()?.resourceVersion ?? compacted;
    for (const listener of [...listeners]) listener(event);
    return structuredClone(stored);
  }

  function existing(resource: ResourceType, namespace: string, name: string): KubeObject {
    const found = bucket(resource).get(keyOf(namespace, name));
    if (!found) throw notFound(resource, name);
    return found;
  }

  function remove(resource: ResourceType, object: KubeObject): KubeObject {
    const result = commit('DELETED', resource, object);
    collectGarbage(object.metadata.namespace ?? '', object.metadata.uid ?? '');
    return result;
  }

  function findByUid(namespace: string, uid: string): KubeObject | undefined {
    for (const [, items] of objects) {
      for (const object of items.values())
        if (object.metadata.uid === uid && object.metadata.namespace === namespace) return object;
    }
    return undefined;
  }

  /** Background cascading deletion, done at once: dependents with no live owner left go too. */
  function collectGarbage(namespace: string, ownerUid: string): void {
    for (const resource of options.types) {
      for (const dependent of [...bucket(resource).values()]) {
        const refs = dependent.metadata.ownerReferences ?? [];
        if (dependent.metadata.namespace !== namespace || !refs.some((r) => r.uid === ownerUid)) continue;
        const others = refs.filter((r) => r.uid !== ownerUid && findByUid(namespace, r.uid));
        if (others.length > 0) {
          commit(
            'MODIFIED',
            resource,
            { ...dependent, metadata: { ...dependent.metadata, ownerReferences: others } },
            dependent,
          );
        } else {
          deleteObject(resource, namespace, dependent.metadata.name ?? '', {});
        }
      }
    }
  }

  function deleteObject(resource: ResourceType, namespace: string, name: string, opts: DeleteOptions): DeleteResult {
    const current = existing(resource, namespace, name);
    const { uid, resourceVersion } = opts.preconditions ?? {};
    if (uid && uid !== current.metadata.uid)
      throw conflict(
        resource,
        name,
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid}`,
      );
    if (resourceVersion && resourceVersion !== current.metadata.resourceVersion)
      throw conflict(
        resource,
        name,
        `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
      );
    if (hasFinalizers(current)) {
      if (isBeingDeleted(current)) return { object: structuredClone(current), deleted: false };
      const marked = markDeleting(current, now());
      return { object: opts.dryRun ? marked : commit('MODIFIED', resource, marked, current), deleted: false };
    }
    return { object: opts.dryRun ? structuredClone(current) : remove(resource, current), deleted: true };
  }

  return {
    resourceVersion: () => counter,
    compactedResourceVersion: () => compacted,

    get(resource: ResourceType, namespace: string, name: string): KubeObject | undefined {
      const found = bucket(resource).get(keyOf(namespace, name));
      return found && structuredClone(found);
    },

    /** Objects in key order (namespace, then name), as etcd returns them. */
    list(resource: ResourceType, namespace?: string): KubeObject[] {
      return [...bucket(resource).entries()]
        .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, o]) => structuredClone(o));
    },

    create(resource: ResourceType, namespace: string, body: KubeObject, opts: WriteOptions = {}): KubeObject {
      const object = prepareCreate(resource, namespace, body, {
        now: now(),
        uid: randomUUID(),
        suffix: randomSuffix(),
      });
      if (bucket(resource).has(keyOf(namespace, object.metadata.name ?? '')))
        throw alreadyExists(resource, object.metadata.name ?? '');
      return opts.dryRun ? object : commit('ADDED', resource, object);
    },

    update(
      resource: ResourceType,
      namespace: string,
      name: string,
      body: KubeObject,
      opts: UpdateOptions & WriteOptions,
    ): KubeObject {
      const current = existing(resource, namespace, name);
      const next = prepareUpdate(resource, current, body, opts);
      if (isNoOp(current, next)) return structuredClone(current);
      if (opts.dryRun) return next;
      if (isBeingDeleted(next) && !hasFinalizers(next)) return remove(resource, next);
      return commit('MODIFIED', resource, next, current);
    },

    delete: deleteObject,

    /** Puts an object in place with no admission rules: the test's back door. */
    seed(resource: ResourceType, object: KubeObject): KubeObject {
      const namespace = resource.namespaced ? (object.metadata.namespace ?? 'default') : '';
      const previous = bucket(resource).get(keyOf(namespace, object.metadata.name ?? ''));
      const metadata = {
        generation: 1,
        creationTimestamp: now(),
        ...object.metadata,
        ...(resource.namespaced ? { namespace } : {}),
        uid: object.metadata.uid ?? previous?.metadata.uid ?? randomUUID(),
      };
      const seeded = { ...object, apiVersion: storedApiVersion(resource), kind: resource.kind, metadata };
      return previous ? commit('MODIFIED', resource, seeded, previous) : commit('ADDED', resource, seeded);
    },

    /** Events after a resourceVersion, or 410 Expired when the history no longer reaches back that far. */
    eventsAfter(resourceVersion: number): readonly StoreEvent[] {
      if (resourceVersion < compacted) throw expired(String(resourceVersion), compacted + 1);
      return history.filter((e) => e.resourceVersion > resourceVersion);
    },

    subscribe(listener: (event: StoreEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Forgets the history, as a compaction does: resuming from any older version gets 410. */
    compact(): void {
      history.length = 0;
      compacted = counter;
    },
  };
}

export type Store = ReturnType<typeof createStore>;
