/**
 * Turns a request line into what the API server would call it: a discovery
 * document, or a verb on a resource. Pure; the request log records the result
 * so tests can assert "no LIST during admission" in the server's own words.
 */
import type { RecordedHttpRequest } from '../recorded-request.ts';
import type { ResourceType, TypeRegistry } from './resource-types.ts';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly verb: Verb | 'discovery' | 'unknown';
  /** The resource type's id (`exposedapis.oda.tmforum.org`, `secrets`). */
  readonly resource?: string;
  readonly version?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
  /** The body's media type, e.g. which patch type a PATCH used. */
  readonly contentType?: string;
  /**
   * `group/kind` of each owner the written object references with
   * blockOwnerDeletion: the API server's OwnerReferencesPermissionEnforcement
   * then requires `update` on that owner's `finalizers` subresource.
   */
  blockingOwners?: string[];
  /** The bearer token the client sent: which client made the call. */
  readonly user?: string;
  /** With the server's `recordBodies`: the request as sent, for a replay (not for watches). */
  sent?: RecordedHttpRequest;
  /** The HTTP status answered, once the answer is complete (as the audit log's responseStatus.code); none for a dropped connection. */
  code?: number;
}

export type DiscoveryTarget =
  | { readonly document: 'api' | 'apis' | 'version' }
  | { readonly document: 'group'; readonly group: string }
  | { readonly document: 'resources'; readonly group: string; readonly version: string };

export type Route =
  | { readonly kind: 'discovery'; readonly target: DiscoveryTarget }
  | {
      readonly kind: 'resource';
      readonly type: ResourceType;
      readonly version: string;
      readonly verb: Verb | undefined;
      readonly namespace?: string;
      readonly name?: string;
      readonly subresource?: string;
    }
  | { readonly kind: 'unknown' };

function discoveryTarget(segments: readonly string[]): DiscoveryTarget | undefined {
  const [root, a, b] = segments;
  if (segments.length === 1 && (root === 'api' || root === 'apis' || root === 'version')) return { document: root };
  if (root === 'api' && segments.length === 2 && a === 'v1') return { document: 'resources', group: '', version: 'v1' };
  if (root === 'apis' && segments.length === 2 && a) return { document: 'group', group: a };
  if (root === 'apis' && segments.length === 3 && a && b) return { document: 'resources', group: a, version: b };
  return undefined;
}

export function isWatch(query: Readonly<Record<string, string>>): boolean {
  return query.watch === 'true' || query.watch === '1';
}

function verbOf(method: string, hasName: boolean, watch: boolean): Verb | undefined {
  switch (method) {
    case 'GET':
      return hasName ? 'get' : watch ? 'watch' : 'list';
    case 'POST':
      return hasName ? undefined : 'create';
    case 'PUT':
      return hasName ? 'update' : undefined;
    case 'PATCH':
      return hasName ? 'patch' : undefined;
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

interface ResourcePath {
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** `[/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]` below the group version; which form is meant depends on the type. */
function resourcePath(registry: TypeRegistry, segments: readonly string[]): ResourcePath | undefined {
  const [root] = segments;
  const prefix = root === 'api' ? 2 : root === 'apis' ? 3 : 0;
  if (prefix === 0 || segments.length <= prefix) return undefined;
  const group = root === 'api' ? '' : (segments[1] ?? '');
  const version = segments[prefix - 1] ?? '';
  const rest = segments.slice(prefix);
  const namespacedType = registry.byPath(group, version, rest[2] ?? '');
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest.length <= 5 && namespacedType?.namespaced) {
    const [, namespace, plural, name, subresource] = rest;
    return { group, version, plural: plural ?? '', namespace, name, subresource } as ResourcePath;
  }
  if (rest.length > 3) return undefined;
  const [plural, name, subresource] = rest;
  // A namespaced collection across all namespaces (`/pods`), or a cluster-scoped object (`/namespaces/x`).
  if (name !== undefined && registry.byPath(group, version, plural ?? '')?.namespaced !== false) return undefined;
  return { group, version, plural: plural ?? '', name, subresource } as ResourcePath;
}

export function parseRoute(
  registry: TypeRegistry,
  method: string,
  pathname: string,
  query: Readonly<Record<string, string>>,
): Route {
  const segments = pathname
    .split('/')
    .filter((s) => s.length > 0)
    .map(decodeURIComponent);
  const target = discoveryTarget(segments);
  if (target) return method === 'GET' ? { kind: 'discovery', target } : { kind: 'unknown' };
  const path = resourcePath(registry, segments);
  const type = path && registry.byPath(path.group, path.version, path.plural);
  if (!path || !type) return { kind: 'unknown' };
  if (path.subresource !== undefined && (path.subresource !== 'status' || !type.statusSubresource))
    return { kind: 'unknown' };
  const verb = verbOf(method, path.name !== undefined, isWatch(query));
  // A namespaced collection across all namespaces can only be read.
  const allowed = !type.namespaced || path.namespace !== undefined || verb === 'list' || verb === 'watch';
  return {
    kind: 'resource',
    type,
    version: path.version,
    verb: allowed ? verb : undefined,
    namespace: path.namespace,
    name: path.name,
    subresource: path.subresource,
  };
}

export function recordOf(
  route: Route,
  method: string,
  path: string,
  query: Readonly<Record<string, string>>,
  contentType?: string,
  user?: string,
): RequestRecord {
  const base = { method, path, query, ...(contentType ? { contentType } : {}), ...(user ? { user } : {}) };
  if (route.kind === 'discovery') return { ...base, verb: 'discovery' };
  if (route.kind === 'unknown') return { ...base, verb: 'unknown' };
  const record: RequestRecord = {
    ...base,
    verb: route.verb ?? 'unknown',
    resource: route.type.id,
    version: route.version,
  };
  return Object.assign(record, strip({ namespace: route.namespace, name: route.name, subresource: route.subresource }));
}

function strip(fields: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Record<string, string>;
}
