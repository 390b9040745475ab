/**
 * Which ExposedAPI (by "namespace/name" key) claims which API path, so that
 * admission can refuse a second claim on a path without asking Kubernetes.
 * Pure and synchronous; kube-path-watch.ts keeps it in step with the cluster.
 *
 * Paths compare as APIM compares API paths: case-insensitively, with
 * repeated slashes collapsed and leading and trailing slashes ignored.
 *
 * An object being deleted (it has a deletionTimestamp) keeps its claim until
 * it is gone: its APIM API exists until the finalizer has removed it.
 *
 * The index answers from what the watch has delivered, so two CREATEs racing
 * in the same instant can both pass admission; the reconciler then meets the
 * conflict in APIM and reports it as a permanent error on the later object.
 */

export interface PathIndex {
  /** Records the key's path, replacing its previous claim; no path removes the claim. */
  upsert(key: string, path: string | undefined): void;
  remove(key: string): void;
  /** Replaces everything with these entries, as after a full list. */
  replaceAll(entries: Iterable<readonly [key: string, path: string | undefined]>): void;
  /** The key (other than exceptKey) that claims this path, if any; the smallest key when several do. */
  claimant(path: string, exceptKey: string): string | undefined;
  /** How many keys claim a path. */
  size(): number;
}

/** The form two paths are compared in: "/A//b/" and "a/b" are the same path. */
export function normalisePath(path: string): string {
  const segments = path
    .trim()
    .toLowerCase()
    .split('/')
    .filter((s) => s.length > 0);
  return `/${segments.join('/')}`;
}

export function createPathIndex(): PathIndex {
  const pathByKey = new Map<string, string>();
  const keysByPath = new Map<string, Set<string>>();

  const remove = (key: string): void => {
    const path = pathByKey.get(key);
    if (path === undefined) return;
    pathByKey.delete(key);
    const keys = keysByPath.get(path);
    keys?.delete(key);
    if (keys?.size === 0) keysByPath.delete(path);
  };

  const upsert = (key: string, path: string | undefined): void => {
    remove(key);
    if (path === undefined || path.trim() === '') return;
    const normalised = normalisePath(path);
    pathByKey.set(key, normalised);
    const keys = keysByPath.get(normalised) ?? new Set<string>();
    keys.add(key);
    keysByPath.set(normalised, keys);
  };

  return {
    upsert,
    remove,
    replaceAll(entries) {
      pathByKey.clear();
      keysByPath.clear();
      for (const [key, path] of entries) upsert(key, path);
    },
    claimant(path, exceptKey) {
      const keys = keysByPath.get(normalisePath(path));
      if (!keys) return undefined;
      return [...keys].filter((k) => k !== exceptKey).sort()[0];
    },
    size: () => pathByKey.size,
  };
}
