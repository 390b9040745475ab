/**
 * The non-watch verbs on a resource: request body in, status and body out.
 * No HTTP here; the server module does the wire.
 */
import { asKubeObject, isPlainObject, type KubeObject } from './object.ts';
import { applyPatch, parsePatchBody, patchTypeOf } from './patch.ts';
import { apiVersionOf, type ResourceType } from './resource-types.ts';
import type { Route } from './route.ts';
import { combine, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { badRequest, invalid, methodNotAllowed, notFound, success } from './status.ts';
import type { Store } from './store.ts';
import { refuseCreateIfTerminating } from './namespace-lifecycle.ts';

export type ResourceRoute = Extract<Route, { kind: 'resource' }>;

export interface Incoming {
  readonly route: ResourceRoute;
  /** The Namespace type, when served: creates in a terminating namespace are then refused. */
  readonly namespaces?: ResourceType;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly body: string;
}

export interface Outgoing {
  readonly status: number;
  readonly body: unknown;
}

/** An object as read through one version: one storage, apiVersion rewritten, no conversion. */
export function present(type: ResourceType, version: string, object: KubeObject): KubeObject {
  return { ...object, apiVersion: apiVersionOf(type.group, version), kind: type.kind };
}

function parseObject(text: string): KubeObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badRequest(`error decoding body: ${(error as Error).message}`);
  }
  const object = asKubeObject(value);
  if (!object) throw badRequest('the body of the request is not a Kubernetes object');
  return object;
}

function checkTypeMeta(route: ResourceRoute, object: KubeObject): void {
  const expected = apiVersionOf(route.type.group, route.version);
  if (object.apiVersion && object.apiVersion !== expected) {
    throw badRequest(
      `the API version in the data (${object.apiVersion}) does not match the expected API version (${expected})`,
    );
  }
  if (object.kind && object.kind !== route.type.kind) {
    throw badRequest(`the kind in the data (${object.kind}) does not match the expected kind (${route.type.kind})`);
  }
}

function isDryRun(query: Readonly<Record<string, string>>, body?: unknown): boolean {
  const fromBody = isPlainObject(body) && Array.isArray(body.dryRun) && body.dryRun.includes('All');
  return query.dryRun === 'All' || fromBody;
}

function list(store: Store, incoming: Incoming): Outgoing {
  const { route, query } = incoming;
  const selector = combine(parseLabelSelector(query.labelSelector), parseFieldSelector(query.fieldSelector));
  const all = store.list(route.type, route.namespace).filter(selector);
  const start = query.continue ? Number(Buffer.from(query.continue, 'base64url').toString()) : 0;
  const limit = query.limit ? Number(query.limit) : 0;
  const page = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
  const remaining = all.length - start - page.length;
  // Built-in lists carry no apiVersion/kind on their items; CRD lists do.
  const items = page.map((o) =>
    route.type.custom ? present(route.type, route.version, o) : { ...o, apiVersion: undefined, kind: undefined },
  );
  const metadata: Record<string, unknown> = { resourceVersion: String(store.resourceVersion()) };
  if (remaining > 0)
    Object.assign(metadata, {
      continue: Buffer.from(String(start + page.length)).toString('base64url'),
      remainingItemCount: remaining,
    });
  return {
    status: 200,
    body: { apiVersion: apiVersionOf(route.type.group, route.version), kind: route.type.listKind, metadata, items },
  };
}

function create(store: Store, incoming: Incoming, namespace: string): Outgoing {
  const object = parseObject(incoming.body);
  checkTypeMeta(incoming.route, object);
  const name = object.metadata.name || object.metadata.generateName || '';
  refuseCreateIfTerminating(store, incoming.namespaces, incoming.route.type, incoming.route.namespace, name);
  const created = store.create(incoming.route.type, namespace, object, { dryRun: isDryRun(incoming.query) });
  return { status: 201, body: present(incoming.route.type, incoming.route.version, created) };
}

function update(store: Store, incoming: Incoming, namespace: string, name: string): Outgoing {
  const { route } = incoming;
  const object = parseObject(incoming.body);
  checkTypeMeta(route, object);
  const options = {
    subresource: route.subresource === 'status' ? ('status' as const) : undefined,
    requireResourceVersion: route.type.custom,
    dryRun: isDryRun(incoming.query),
  };
  return {
    status: 200,
    body: present(route.type, route.version, store.update(route.type, namespace, name, object, options)),
  };
}

function patch(store: Store, incoming: Incoming, namespace: string, name: string): Outgoing {
  const { route, query } = incoming;
  const patchType = patchTypeOf(incoming.contentType);
  const body = parsePatchBody(patchType, incoming.body);
  const dryRun = isDryRun(query);
  if (patchType === 'apply' && !query.fieldManager)
    throw invalid(route.type, name, 'fieldManager', 'Required value: is required for apply patch');
  const current = store.get(route.type, namespace, name);
  const subresource = route.subresource === 'status' ? ('status' as const) : undefined;
  if (!current && patchType === 'apply' && !subresource) {
    // Server-side apply creates what does not exist yet.
    const object = asKubeObject(body) ?? { metadata: {} };
    checkTypeMeta(route, object);
    refuseCreateIfTerminating(store, incoming.namespaces, route.type, route.namespace, name);
    const created = store.create(
      route.type,
      namespace,
      { ...object, metadata: { ...object.metadata, name } },
      { dryRun },
    );
    return { status: 201, body: present(route.type, route.version, created) };
  }
  if (!current) throw notFound(route.type, name);
  const patched = applyPatch(patchType, current, body);
  const updated = store.update(route.type, namespace, name, patched, {
    subresource,
    requireResourceVersion: false,
    dryRun,
  });
  return { status: 200, body: present(route.type, route.version, updated) };
}

function parseDeleteOptions(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? value : {};
  } catch {
    throw badRequest('error decoding DeleteOptions');
  }
}

function remove(store: Store, incoming: Incoming, namespace: string, name: string): Outgoing {
  const { route } = incoming;
  const options = parseDeleteOptions(incoming.body);
  const preconditions = isPlainObject(options.preconditions)
    ? (options.preconditions as { uid?: string; resourceVersion?: string })
    : undefined;
  const result = store.delete(route.type, namespace, name, {
    preconditions,
    dryRun: isDryRun(incoming.query, options),
  });
  if (!result.deleted) return { status: 200, body: present(route.type, route.version, result.object) };
  const details = {
    name,
    kind: route.type.plural,
    uid: result.object.metadata.uid ?? '',
    ...(route.type.group ? { group: route.type.group } : {}),
  };
  return { status: 200, body: success(details) };
}

function removeCollection(store: Store, incoming: Incoming, namespace: string): Outgoing {
  const selector = combine(
    parseLabelSelector(incoming.query.labelSelector),
    parseFieldSelector(incoming.query.fieldSelector),
  );
  const dryRun = isDryRun(incoming.query);
  const matched = store.list(incoming.route.type, namespace).filter(selector);
  const { type, version } = incoming.route;
  const items = matched.map((o) =>
    present(type, version, store.delete(type, namespace, o.metadata.name ?? '', { dryRun }).object),
  );
  const metadata = { resourceVersion: String(store.resourceVersion()) };
  return { status: 200, body: { apiVersion: apiVersionOf(type.group, version), kind: type.listKind, metadata, items } };
}

/** Every verb but watch. Throws KubeError for the router to turn into a Status. */
export function handleResource(store: Store, incoming: Incoming): Outgoing {
  const { route } = incoming;
  const { namespace, name } = route;
  switch (route.verb) {
    case 'list':
      return list(store, incoming);
    case 'get': {
      const found = name !== undefined ? store.get(route.type, namespace ?? '', name) : undefined;
      if (!found) throw notFound(route.type, name ?? '');
      return { status: 200, body: present(route.type, route.version, found) };
    }
    case 'create':
      return create(store, incoming, namespace ?? '');
    case 'update':
      return update(store, incoming, namespace ?? '', name ?? '');
    case 'patch':
      return patch(store, incoming, namespace ?? '', name ?? '');
    case 'delete':
      return remove(store, incoming, namespace ?? '', name ?? '');
    case 'deletecollection':
      return removeCollection(store, incoming, namespace ?? '');
    default:
      throw methodNotAllowed();
  }
}
