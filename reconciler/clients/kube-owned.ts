/**
 * Objects the operator owns for an ExposedAPI (Ingress, ServiceMonitor,
 * subscription-key Secret): created when missing, updated only in what
 * differs (its labels, annotations, ownerReferences and spec or data; others'
 * labels and annotations are kept), never written when already right.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { formatKey, type ResourceKey } from '../../shared/key.ts';
import type { Logger } from '../../shared/log.ts';
import { statusOf, classify } from './kube-errors.ts';
import type { CustomRef, KubeCalls } from './kube-calls.ts';
import { keyOfObject, mergedMetadata, metadataHolds, plain, sameJson, secretData } from './kube-objects.ts';
import type { KubeObject, KubeObjectMeta } from './kube-types.ts';

export interface OwnedKind {
  readonly ref: CustomRef;
  readonly kind: string;
}

/** The live object: from the cache when it can answer, else read from the API server. */
export type LiveReader = (key: ResourceKey) => Promise<KubeObject | undefined>;

export async function applyCustomObject(
  calls: KubeCalls,
  log: Logger,
  owned: OwnedKind,
  desired: object,
  live: LiveReader,
): Promise<KubeObject> {
  const wanted = desired as KubeObject;
  const key = keyOfObject(desired, owned.kind);
  const what = `${owned.kind} ${formatKey(key)}`;
  const current = await live(key);
  const apiVersion = `${owned.ref.group}/${owned.ref.version}`;
  if (!current) {
    const created = await calls.write(`create${owned.kind}`, `create ${what}`, () =>
      calls.custom.createNamespacedCustomObjectWithHttpInfo({
        ...owned.ref,
        namespace: key.namespace,
        body: { apiVersion, kind: owned.kind, ...(desired as Record<string, unknown>) },
      }),
    );
    log.info({ resource: formatKey(key) }, `Created ${owned.kind}`);
    return plain(created);
  }
  if (metadataHolds(current.metadata, wanted.metadata) && sameJson(current.spec ?? {}, wanted.spec ?? {})) {
    return current;
  }
  // PUT with the live resourceVersion: a concurrent change is a 409; a status subresource keeps the live status.
  const body = { ...current, metadata: mergedMetadata(current.metadata, wanted.metadata), spec: wanted.spec };
  const updated = await calls.write(`replace${owned.kind}`, `update ${what}`, () =>
    calls.custom.replaceNamespacedCustomObjectWithHttpInfo({
      ...owned.ref,
      namespace: key.namespace,
      name: key.name,
      body,
    }),
  );
  log.info({ resource: formatKey(key) }, `Updated ${owned.kind}`);
  return plain(updated);
}

/** Deletes it; already gone is the goal. */
export async function deleteCustomObject(
  calls: KubeCalls,
  log: Logger,
  owned: OwnedKind,
  key: ResourceKey,
): Promise<boolean> {
  try {
    await calls.call(`delete${owned.kind}`, () =>
      calls.custom.deleteNamespacedCustomObjectWithHttpInfo({ ...owned.ref, namespace: key.namespace, name: key.name }),
    );
    log.info({ resource: formatKey(key) }, `Deleted ${owned.kind}`);
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw classify(error, `delete ${owned.kind} ${formatKey(key)}`);
  }
}

export async function applySecretObject(
  calls: KubeCalls,
  log: Logger,
  secret: object,
  live: LiveReader,
): Promise<KubeObject | undefined> {
  const wanted = secret as V1Secret;
  const key = keyOfObject(secret, 'Secret');
  const data = secretData(wanted);
  const what = `Secret ${formatKey(key)}`;
  const current = (await live(key)) as unknown as V1Secret | undefined;
  if (!current) {
    const body: V1Secret = { apiVersion: 'v1', kind: 'Secret', metadata: wanted.metadata, type: wanted.type, data };
    const created = await calls.write('createSecret', `create ${what}`, () =>
      calls.core.createNamespacedSecretWithHttpInfo({ namespace: key.namespace, body }),
    );
    log.info({ resource: formatKey(key) }, 'Created Secret');
    return plain(created);
  }
  const liveMeta = (current.metadata ?? {}) as unknown as KubeObjectMeta;
  const wantedMeta = (wanted.metadata ?? {}) as KubeObjectMeta;
  const sameType = wanted.type === undefined || wanted.type === current.type;
  if (sameType && metadataHolds(liveMeta, wantedMeta) && sameJson(current.data ?? {}, data)) return undefined;
  const metadata = mergedMetadata(liveMeta, wantedMeta) as unknown as V1Secret['metadata'];
  const body: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata,
    data,
    type: wanted.type ?? current.type,
    ...(current.immutable === undefined ? {} : { immutable: current.immutable }),
  };
  const updated = await calls.write('replaceSecret', `update ${what}`, () =>
    calls.core.replaceNamespacedSecretWithHttpInfo({ namespace: key.namespace, name: key.name, body }),
  );
  log.info({ resource: formatKey(key) }, 'Updated Secret');
  return plain(updated);
}
