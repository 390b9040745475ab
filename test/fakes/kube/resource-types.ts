/**
 * The resource types the stand-in API server serves, and how a request names
 * one. Everything the operator touches (ExposedAPIs, Components, Ingresses,
 * Services, EndpointSlices, Pods, Secrets, Events, ServiceMonitors) is
 * namespaced; Namespaces themselves are the one cluster-scoped type.
 */

export interface ResourceTypeOptions {
  /** API group; '' for the core group served under /api/v1. */
  readonly group: string;
  /** Served versions, in any order; all read and write the same stored objects. */
  readonly versions: readonly string[];
  readonly kind: string;
  readonly plural: string;
  readonly singular?: string;
  readonly shortNames?: readonly string[];
  /**
   * A CustomResourceDefinition rather than a built-in type. Decides what the
   * real API server does differently for CRDs: list items carry apiVersion and
   * kind, and an update (PUT) must name a resourceVersion.
   */
  readonly custom?: boolean;
  /**
   * Has a /status subresource. Without one, /status answers 404, status is
   * written through the main resource and every change outside metadata bumps
   * metadata.generation; with one, only changes outside metadata and status do,
   * main-resource writes keep the stored status and /status writes keep the rest.
   */
  readonly statusSubresource?: boolean;
  /** Version the group advertises as preferred; default: the highest by Kubernetes version priority. */
  readonly preferredVersion?: string;
  /** Objects live in a namespace (default); false for cluster-scoped types, served at `/<plural>/<name>`. */
  readonly namespaced?: boolean;
}

/** A resource type with every option settled. */
export interface ResourceType {
  /** `plural.group`, or `plural` for the core group: how kubectl names it. */
  readonly id: string;
  readonly group: string;
  readonly versions: readonly string[];
  readonly preferredVersion: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly custom: boolean;
  readonly statusSubresource: boolean;
  readonly namespaced: boolean;
}

export const EXPOSED_API: ResourceTypeOptions = {
  group: 'oda.tmforum.org',
  versions: ['v1', 'v1beta4', 'v1beta3'],
  kind: 'ExposedAPI',
  plural: 'exposedapis',
  singular: 'exposedapi',
  custom: true,
  statusSubresource: false,
};
export const INGRESS: ResourceTypeOptions = {
  group: 'networking.k8s.io',
  versions: ['v1'],
  kind: 'Ingress',
  plural: 'ingresses',
  shortNames: ['ing'],
  statusSubresource: true,
};
export const SECRET: ResourceTypeOptions = { group: '', versions: ['v1'], kind: 'Secret', plural: 'secrets' };
export const CORE_EVENT: ResourceTypeOptions = {
  group: '',
  versions: ['v1'],
  kind: 'Event',
  plural: 'events',
  shortNames: ['ev'],
};
export const EVENT: ResourceTypeOptions = {
  group: 'events.k8s.io',
  versions: ['v1'],
  kind: 'Event',
  plural: 'events',
  shortNames: ['ev'],
};
/** Cluster-scoped; deleting one terminates it as the API server and namespace controller do (namespace-lifecycle.ts). */
export const NAMESPACE: ResourceTypeOptions = {
  group: '',
  versions: ['v1'],
  kind: 'Namespace',
  plural: 'namespaces',
  shortNames: ['ns'],
  namespaced: false,
};
export const LEASE: ResourceTypeOptions = {
  group: 'coordination.k8s.io',
  versions: ['v1'],
  kind: 'Lease',
  plural: 'leases',
};

/** As the Canvas's oda-crds install it: every version served from one stored object, no status subresource. */
export const COMPONENT: ResourceTypeOptions = {
  group: 'oda.tmforum.org',
  versions: ['v1', 'v1beta4', 'v1beta3', 'v1beta2'],
  kind: 'Component',
  plural: 'components',
  singular: 'component',
  shortNames: ['comp'],
  custom: true,
  statusSubresource: false,
};
export const SERVICE: ResourceTypeOptions = {
  group: '',
  versions: ['v1'],
  kind: 'Service',
  plural: 'services',
  shortNames: ['svc'],
  statusSubresource: true,
};
export const ENDPOINT_SLICE: ResourceTypeOptions = {
  group: 'discovery.k8s.io',
  versions: ['v1'],
  kind: 'EndpointSlice',
  plural: 'endpointslices',
};
export const POD: ResourceTypeOptions = {
  group: '',
  versions: ['v1'],
  kind: 'Pod',
  plural: 'pods',
  shortNames: ['po'],
  statusSubresource: true,
};
/** prometheus-operator's CRD: served only where that operator is installed. */
export const SERVICE_MONITOR: ResourceTypeOptions = {
  group: 'monitoring.coreos.com',
  versions: ['v1'],
  kind: 'ServiceMonitor',
  plural: 'servicemonitors',
  shortNames: ['smon'],
  custom: true,
};

export const DEFAULT_RESOURCE_TYPES: readonly ResourceTypeOptions[] = [
  EXPOSED_API,
  COMPONENT,
  INGRESS,
  SECRET,
  SERVICE,
  ENDPOINT_SLICE,
  POD,
  CORE_EVENT,
  EVENT,
  LEASE,
  SERVICE_MONITOR,
  NAMESPACE,
];

export function typeId(group: string, plural: string): string {
  return group ? `${plural}.${group}` : plural;
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** Splits `group/version` (or a core `v1`) into its parts. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

const VERSION_PATTERN = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * Kubernetes' version priority (GA before beta before alpha, higher numbers
 * first, non-Kubernetes names last alphabetically): the order CRD versions are
 * advertised in, whose first entry is the group's preferred version.
 */
export function compareVersionPriority(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = VERSION_PATTERN.exec(v);
    if (!m) return [3, 0, 0];
    const stability = m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2;
    return [stability, -Number(m[1]), -Number(m[3] ?? 0)];
  };
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return (ra[i] ?? 0) - (rb[i] ?? 0);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function settleType(options: ResourceTypeOptions): ResourceType {
  const versions = [...options.versions].sort(compareVersionPriority);
  if (versions.length === 0) throw new Error(`resource type ${options.plural} serves no version`);
  const preferredVersion = options.preferredVersion ?? versions[0] ?? 'v1';
  return {
    id: typeId(options.group, options.plural),
    group: options.group,
    versions,
    preferredVersion,
    kind: options.kind,
    listKind: `${options.kind}List`,
    plural: options.plural,
    singular: options.singular ?? options.kind.toLowerCase(),
    shortNames: options.shortNames ?? [],
    custom: options.custom ?? false,
    statusSubresource: options.statusSubresource ?? false,
    namespaced: options.namespaced ?? true,
  };
}

export interface TypeRegistry {
  readonly all: readonly ResourceType[];
  byPath(group: string, version: string, plural: string): ResourceType | undefined;
  byApiVersionKind(apiVersion: string, kind: string): ResourceType | undefined;
  /** `plural.group`, `plural` (the core group wins, as with kubectl), or a kind. */
  byName(name: string): ResourceType;
}

export function createTypeRegistry(
  types: readonly ResourceTypeOptions[],
  overrides: Readonly<Record<string, Partial<ResourceTypeOptions>>> = {},
): TypeRegistry {
  const all = types.map((t) => settleType({ ...t, ...overrides[typeId(t.group, t.plural)] }));
  const unknownOverride = Object.keys(overrides).find((id) => !all.some((t) => t.id === id));
  if (unknownOverride) throw new Error(`override for unknown resource type ${unknownOverride}`);
  return {
    all,
    byPath: (group, version, plural) =>
      all.find((t) => t.group === group && t.plural === plural && t.versions.includes(version)),
    byApiVersionKind(apiVersion, kind) {
      const { group, version } = parseApiVersion(apiVersion);
      return all.find((t) => t.group === group && t.kind === kind && t.versions.includes(version));
    },
    byName(name) {
      const lower = name.toLowerCase();
      const found =
        all.find((t) => t.id === lower) ??
        all.find((t) => t.plural === lower && t.group === '') ??
        all.find(
          (t) =>
            t.plural === lower ||
            t.singular === lower ||
            t.kind.toLowerCase() === lower ||
            t.shortNames.includes(lower),
        );
      if (!found) throw new Error(`unknown resource type ${name}`);
      return found;
    },
  };
}
