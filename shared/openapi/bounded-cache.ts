import { LRUCache } from 'lru-cache';

/** The default byte bound of each OpenAPI cache: 16 documents at APIM's 4 MiB import limit. */
export const SPEC_CACHE_MAX_BYTES = 64 * 1024 * 1024;

export interface CacheBounds {
  /** At most this many entries (SPEC_CACHE_ENTRIES). */
  readonly maxEntries: number;
  /** At most about this many bytes of values (SPEC_CACHE_MAX_BYTES); an entry larger than that is not kept. */
  readonly maxBytes: number;
}

/**
 * A least-recently-used cache bounded by entries and by bytes: a few large
 * documents must not hold as much memory as the entry bound allows for small
 * ones. `sizeOf` estimates an entry's bytes.
 */
export function boundedCache<V extends NonNullable<unknown>>(
  bounds: CacheBounds,
  sizeOf: (value: V, key: string) => number,
): LRUCache<string, V> {
  for (const name of ['maxEntries', 'maxBytes'] as const) {
    if (!Number.isInteger(bounds[name]) || bounds[name] < 1)
      throw new Error(`cache bound ${name} must be a positive integer, not ${bounds[name]}`);
  }
  return new LRUCache<string, V>({
    max: bounds.maxEntries,
    maxSize: bounds.maxBytes,
    // lru-cache needs a positive integer size per entry.
    sizeCalculation: (value, key) => Math.max(1, Math.ceil(sizeOf(value, key))),
  });
}
