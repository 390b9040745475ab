/**
 * The objects an informer has seen, by namespace and name, with secondary
 * indexes (e.g. EndpointSlices by Service). Besides the watch, a client may
 * record the answer to its own write (`upsert`), so that the next read sees
 * it before the watch event arrives; a watch event older than what is held
 * is then ignored instead of rolling the object back.
 */

/** What the store needs of an object: where it lives and which version it is. */
export interface StoredObject {
  metadata?: { namespace?: string; name?: string; resourceVersion?: string };
}

/** An index: the values an object is filed under (none: not indexed). */
export type IndexFunction<T> = (object: T) => readonly string[];

export interface ObjectStore<T extends StoredObject> {
  get(namespace: string, name: string): T | undefined;
  /** Every object, or those of one namespace. */
  list(namespace?: string): T[];
  /** Objects filed under `value` by the named index. */
  byIndex(index: string, value: string): T[];
  readonly size: number;
}

export interface WritableObjectStore<T extends StoredObject> extends ObjectStore<T> {
  /** A (re)list: replaces everything held (in `namespace` only, when given) by these items. */
  replace(items: readonly T[], namespace?: string): void;
  /** Adds or updates; false (and no change) when the store already holds a newer version. */
  upsert(object: T): boolean;
  remove(object: T): void;
}

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;
const objectKey = (o: StoredObject): string => keyOf(o.metadata?.namespace ?? '', o.metadata?.name ?? '');

/**
 * Whether `incoming` is not older than `held`. resourceVersions are opaque to
 * clients, but every API server backed by etcd hands out increasing decimal
 * revisions; only when both are decimal is an older one recognised, otherwise
 * the newest arrival wins.
 */
export function isNotOlder(incoming: string | undefined, held: string | undefined): boolean {
  if (!incoming || !held || !/^\d+$/.test(incoming) || !/^\d+$/.test(held)) return true;
  return BigInt(incoming) >= BigInt(held);
}

export function createObjectStore<T extends StoredObject>(
  indexes: Readonly<Record<string, IndexFunction<T>>> = {},
): WritableObjectStore<T> {
  const objects = new Map<string, T>();
  const byIndex = new Map<string, Map<string, Set<string>>>(Object.keys(indexes).map((name) => [name, new Map()]));

  const file = (key: string, object: T, add: boolean): void => {
    for (const [name, index] of Object.entries(indexes)) {
      const buckets = byIndex.get(name);
      if (!buckets) continue;
      for (const value of index(object)) {
        let bucket = buckets.get(value);
        if (add) {
          if (!bucket) buckets.set(value, (bucket = new Set()));
          bucket.add(key);
        } else if (bucket) {
          bucket.delete(key);
          if (bucket.size === 0) buckets.delete(value);
        }
      }
    }
  };
  const put = (key: string, object: T): void => {
    const previous = objects.get(key);
    if (previous) file(key, previous, false);
    objects.set(key, object);
    file(key, object, true);
  };
  const drop = (key: string): void => {
    const previous = objects.get(key);
    if (!previous) return;
    file(key, previous, false);
    objects.delete(key);
  };

  return {
    get: (namespace, name) => objects.get(keyOf(namespace, name)),
    list: (namespace) =>
      [...objects.values()].filter((o) => namespace === undefined || o.metadata?.namespace === namespace),
    byIndex(index, value) {
      const keys = byIndex.get(index)?.get(value);
      return keys ? [...keys].map((k) => objects.get(k)).filter((o): o is T => o !== undefined) : [];
    },
    get size() {
      return objects.size;
    },
    replace(items, namespace) {
      const fresh = new Set(items.map(objectKey));
      for (const [key, object] of [...objects]) {
        if ((namespace === undefined || object.metadata?.namespace === namespace) && !fresh.has(key)) drop(key);
      }
      for (const item of items) put(objectKey(item), item);
    },
    upsert(object) {
      const key = objectKey(object);
      const held = objects.get(key);
      if (held && !isNotOlder(object.metadata?.resourceVersion, held.metadata?.resourceVersion)) return false;
      put(key, object);
      return true;
    },
    remove: (object) => drop(objectKey(object)),
  };
}
