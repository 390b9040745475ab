/** Pure helpers for comparing and merging the objects the reconciler applies. */
import type { V1Secret } from '@kubernetes/client-node';
import { PermanentError } from '../../shared/errors.ts';
import type { ResourceKey } from '../../shared/key.ts';
import type { KubeObject, KubeObjectMeta } from './kube-types.ts';

export function plain(value: unknown): KubeObject {
  return value as KubeObject;
}

export function keyOfObject(object: object, kind: string): ResourceKey {
  const metadata = (object as { metadata?: { namespace?: unknown; name?: unknown } }).metadata;
  if (typeof metadata?.namespace !== 'string' || typeof metadata.name !== 'string') {
    throw new PermanentError(`${kind} needs metadata.namespace and metadata.name`);
  }
  return { namespace: metadata.namespace, name: metadata.name };
}

/** Deep equality of JSON values, ignoring key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/** Every key of `wanted` has the same value in `live` (others may add labels and annotations). */
function holds(live: Record<string, string> | undefined, wanted: Record<string, string> | undefined): boolean {
  return Object.entries(wanted ?? {}).every(([k, v]) => live?.[k] === v);
}

/** The metadata we own on an object we apply: merged into the live metadata, never replacing others' keys. */
export function mergedMetadata(live: KubeObjectMeta, wanted: KubeObjectMeta): KubeObjectMeta {
  const merged: KubeObjectMeta = { ...live };
  if (wanted.labels) merged.labels = { ...live.labels, ...wanted.labels };
  if (wanted.annotations) merged.annotations = { ...live.annotations, ...wanted.annotations };
  if (wanted.ownerReferences) merged.ownerReferences = wanted.ownerReferences;
  return merged;
}

export function metadataHolds(live: KubeObjectMeta, wanted: KubeObjectMeta): boolean {
  return (
    holds(live.labels, wanted.labels) &&
    holds(live.annotations, wanted.annotations) &&
    (wanted.ownerReferences === undefined || sameJson(live.ownerReferences ?? [], wanted.ownerReferences))
  );
}

/** stringData folded into base64 data, as the API server stores a Secret. */
export function secretData(secret: V1Secret): Record<string, string> {
  const data: Record<string, string> = { ...secret.data };
  for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = Buffer.from(v, 'utf8').toString('base64');
  return data;
}
