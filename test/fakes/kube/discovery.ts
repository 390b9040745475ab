/**
 * Legacy (unaggregated) discovery documents: what client libraries and kubectl
 * read to learn groups, preferred versions and resources. Pure.
 */
import { apiVersionOf, compareVersionPriority, type ResourceType, type TypeRegistry } from './resource-types.ts';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

interface GroupVersion {
  groupVersion: string;
  version: string;
}

export interface ApiGroup {
  name: string;
  versions: GroupVersion[];
  preferredVersion: GroupVersion;
}

export function groupNames(registry: TypeRegistry): string[] {
  return [...new Set(registry.all.map((t) => t.group).filter((g) => g !== ''))];
}

export function apiGroup(registry: TypeRegistry, group: string): ApiGroup | undefined {
  const types = registry.all.filter((t) => t.group === group);
  if (types.length === 0) return undefined;
  const versions = [...new Set(types.flatMap((t) => t.versions))].sort(compareVersionPriority);
  const preferred = types.find((t) => t.preferredVersion)?.preferredVersion ?? versions[0] ?? 'v1';
  const entry = (version: string): GroupVersion => ({ groupVersion: apiVersionOf(group, version), version });
  return { name: group, versions: versions.map(entry), preferredVersion: entry(preferred) };
}

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(registry: TypeRegistry) {
  const groups = groupNames(registry)
    .map((g) => apiGroup(registry, g))
    .filter((g) => g !== undefined);
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroupDocument(registry: TypeRegistry, group: string) {
  const found = apiGroup(registry, group);
  return found && { kind: 'APIGroup', apiVersion: 'v1', ...found };
}

function resourceEntries(type: ResourceType) {
  const main = {
    name: type.plural,
    singularName: type.singular,
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: VERBS,
    ...(type.shortNames.length ? { shortNames: type.shortNames } : {}),
  };
  const status = {
    name: `${type.plural}/status`,
    singularName: '',
    namespaced: type.namespaced,
    kind: type.kind,
    verbs: STATUS_VERBS,
  };
  return type.statusSubresource ? [main, status] : [main];
}

/** APIResourceList for one group version, or undefined when nothing is served there. */
export function apiResourceList(registry: TypeRegistry, group: string, version: string) {
  const types = registry.all.filter((t) => t.group === group && t.versions.includes(version));
  if (types.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf(group, version),
    resources: types.flatMap(resourceEntries),
  };
}

export const VERSION_INFO = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0-fake',
  gitCommit: 'fake',
  gitTreeState: 'clean',
  buildDate: '2024-08-13T00:00:00Z',
  goVersion: 'go1.22.5',
  compiler: 'gc',
  platform: 'linux/amd64',
};
