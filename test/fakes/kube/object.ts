/** The shape of a stored object, loose on purpose: the stand-in never interprets spec or status. */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Accepts anything with an object `metadata`; bodies come off the wire untyped. */
export function asKubeObject(value: unknown): KubeObject | undefined {
  if (!isPlainObject(value)) return undefined;
  const metadata = value.metadata ?? {};
  if (!isPlainObject(metadata)) return undefined;
  return { ...value, metadata } as KubeObject;
}

/** RFC 3339 with second precision, as metav1.Time marshals. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a).filter((k) => a[k] !== undefined);
  const otherKeys = Object.keys(b).filter((k) => b[k] !== undefined);
  return keys.length === otherKeys.length && keys.every((k) => deepEqual(a[k], b[k]));
}

/** Everything but the given top-level fields: what generation and no-op checks compare. */
export function without(object: KubeObject, ...fields: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...object };
  for (const field of fields) delete copy[field];
  return copy;
}
