/**
 * What the API server's generic registry does to an object on create and
 * update, as pure functions: system metadata, generation, the status
 * subresource split, finalizer rules. The store adds resourceVersions.
 */
import { apiVersionOf, type ResourceType } from './resource-types.ts';
import { deepEqual, type KubeObject, type ObjectMeta, without } from './object.ts';
import { badRequest, conflict, invalid, type KubeError } from './status.ts';
import { heldBySpecFinalizers, isNamespace, markTerminating, newNamespace } from './namespace-lifecycle.ts';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Set by the server only: a client may send them but they are ignored or replaced. */
const SYSTEM_FIELDS = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
  'managedFields',
] as const;

export interface CreateContext {
  readonly now: string;
  readonly uid: string;
  /** The five random characters appended to generateName. */
  readonly suffix: string;
}

export function storedApiVersion(type: ResourceType): string {
  return apiVersionOf(type.group, type.preferredVersion);
}

function checkNamespace(body: KubeObject, namespace: string): void {
  const given = body.metadata.namespace;
  if (given && given !== namespace)
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
}

function checkName(type: ResourceType, name: string): void {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    throw invalid(
      type,
      name,
      'metadata.name',
      `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    );
  }
}

export function prepareCreate(
  type: ResourceType,
  namespace: string,
  body: KubeObject,
  context: CreateContext,
): KubeObject {
  if (type.namespaced) checkNamespace(body, namespace);
  const { generateName } = body.metadata;
  const name = body.metadata.name || (generateName ? `${generateName}${context.suffix}` : '');
  if (!name) throw invalid(type, '', 'metadata.name', 'Required value: name or generateName is required');
  checkName(type, name);
  const metadata: ObjectMeta = { ...body.metadata };
  for (const field of SYSTEM_FIELDS) delete metadata[field];
  Object.assign(metadata, { name, namespace, uid: context.uid, generation: 1, creationTimestamp: context.now });
  if (!type.namespaced) delete metadata.namespace;
  const created: KubeObject = { ...body, apiVersion: storedApiVersion(type), kind: type.kind, metadata };
  const object = isNamespace(created) ? newNamespace(created) : created;
  // With a status subresource, status is written through /status only.
  if (type.statusSubresource) delete object.status;
  return object;
}

export interface UpdateOptions {
  readonly subresource?: 'status';
  /** PUT on a CRD: the API server refuses an update that names no resourceVersion. */
  readonly requireResourceVersion: boolean;
}

function checkPreconditions(type: ResourceType, existing: KubeObject, body: KubeObject, options: UpdateOptions): void {
  const name = existing.metadata.name ?? '';
  if (body.metadata.name && body.metadata.name !== name) {
    throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
  }
  checkNamespace(body, existing.metadata.namespace ?? '');
  const given = body.metadata.resourceVersion;
  if (given) {
    if (given !== existing.metadata.resourceVersion) throw conflict(type, name);
  } else if (options.requireResourceVersion) {
    throw invalid(type, name, 'metadata.resourceVersion', 'Invalid value: 0x0: must be specified for an update');
  }
}

/** Which parts of the body a write may change, by subresource. */
function mergeWrite(
  type: ResourceType,
  existing: KubeObject,
  body: KubeObject,
  subresource: 'status' | undefined,
): KubeObject {
  if (subresource === 'status') {
    const next: KubeObject = { ...existing, metadata: { ...existing.metadata } };
    if (body.status === undefined) delete next.status;
    else next.status = body.status;
    return next;
  }
  const metadata: ObjectMeta = { ...body.metadata };
  for (const field of SYSTEM_FIELDS) delete metadata[field];
  for (const field of SYSTEM_FIELDS)
    if (existing.metadata[field] !== undefined) (metadata as Record<string, unknown>)[field] = existing.metadata[field];
  metadata.name = existing.metadata.name;
  metadata.namespace = existing.metadata.namespace;
  const next: KubeObject = { ...body, metadata };
  if (type.statusSubresource) {
    if (existing.status === undefined) delete next.status;
    else next.status = existing.status;
  }
  return next;
}

function checkFinalizers(type: ResourceType, existing: KubeObject, next: KubeObject): KubeError | undefined {
  if (!existing.metadata.deletionTimestamp) return undefined;
  const before = new Set(existing.metadata.finalizers ?? []);
  const added = (next.metadata.finalizers ?? []).filter((f) => !before.has(f));
  if (added.length === 0) return undefined;
  return invalid(
    type,
    existing.metadata.name ?? '',
    'metadata.finalizers',
    `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
  );
}

/**
 * The object an update would store, or throws the API server's error. The
 * generation moves when anything outside metadata changes — outside metadata
 * and status when the type has a status subresource.
 */
export function prepareUpdate(
  type: ResourceType,
  existing: KubeObject,
  body: KubeObject,
  options: UpdateOptions,
): KubeObject {
  checkPreconditions(type, existing, body, options);
  const next = mergeWrite(type, existing, body, options.subresource);
  next.apiVersion = existing.apiVersion;
  next.kind = existing.kind;
  const finalizerError = checkFinalizers(type, existing, next);
  if (finalizerError) throw finalizerError;
  const ignored = type.statusSubresource ? ['metadata', 'status'] : ['metadata'];
  if (!deepEqual(without(existing, ...ignored), without(next, ...ignored))) {
    next.metadata.generation = (existing.metadata.generation ?? 0) + 1;
  }
  return next;
}

/** True when a write would change nothing: the API server then keeps the resourceVersion and sends no event. */
export function isNoOp(existing: KubeObject, next: KubeObject): boolean {
  const strip = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return deepEqual(strip(existing), strip(next));
}

/** Marks an object as being deleted; the generation moves, as the registry does for finalizer-held deletes. */
export function markDeleting(existing: KubeObject, now: string): KubeObject {
  const metadata = { ...existing.metadata, deletionTimestamp: now, deletionGracePeriodSeconds: 0 };
  if ((metadata.generation ?? 0) > 0) metadata.generation = (metadata.generation ?? 0) + 1;
  return markTerminating({ ...existing, metadata });
}

export function isBeingDeleted(object: KubeObject): boolean {
  return Boolean(object.metadata.deletionTimestamp);
}

export function hasFinalizers(object: KubeObject): boolean {
  return (object.metadata.finalizers ?? []).length > 0 || heldBySpecFinalizers(object);
}
