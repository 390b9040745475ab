/**
 * The owning Component's view of an ExposedAPI, as every ODA Canvas API
 * operator keeps it: the entry with the ExposedAPI's uid in the Component's
 * `status.coreAPIs`, `status.managementAPIs` or `status.securityAPIs` carries
 * its `url`, `developerUI` and `ready`. The component operator calls the
 * Component Complete only when every entry is ready. Pure.
 */
import type { KubeObject } from '../clients/kube-types.ts';

export const COMPONENT_API_LISTS = ['coreAPIs', 'managementAPIs', 'securityAPIs'] as const;
export const COMPONENT_KIND = 'Component';
export const COMPONENT_GROUP = 'oda.tmforum.org';

export interface ComponentEntryFields {
  readonly url: string;
  readonly developerUI?: string;
  readonly ready: boolean;
}

interface Entry {
  uid?: unknown;
  name?: unknown;
  url?: unknown;
  developerUI?: unknown;
  ready?: unknown;
}

/** One JSON Patch operation (RFC 6902). */
export type PatchOperation =
  | { op: 'test' | 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

function lists(component: KubeObject): { list: string; entries: Entry[] }[] {
  const status = component.status ?? {};
  return COMPONENT_API_LISTS.map((list) => ({
    list,
    entries: Array.isArray(status[list]) ? (status[list] as Entry[]) : [],
  }));
}

/** What of the API entries other parties may change and this operator acts on: their identity and the copied fields. */
export function componentApiEntries(component: KubeObject): unknown[] {
  return lists(component).flatMap(({ list, entries }) =>
    entries.map((e) => [list, e?.uid, e?.name, e?.url, e?.developerUI, e?.ready]),
  );
}

/** The Component that owns an ExposedAPI by ownerReference (kind Component in the ODA group), if any. */
export function owningComponent(object: KubeObject): { name: string; uid: string } | undefined {
  const owner = (object.metadata.ownerReferences ?? []).find(
    (r) => r.kind === COMPONENT_KIND && r.apiVersion.split('/')[0] === COMPONENT_GROUP,
  );
  return owner ? { name: owner.name, uid: owner.uid } : undefined;
}

export type ComponentUpdate =
  | { readonly kind: 'none'; readonly why: 'no-entry' | 'up-to-date' }
  | { readonly kind: 'patch'; readonly list: string; readonly index: number; readonly operations: PatchOperation[] };

/**
 * The JSON Patch that makes the entry for `uid` carry `wanted`, touching only
 * those fields of that entry, guarded by a test of the entry's uid (the list
 * may have been rewritten meanwhile); `none` when no list has the entry yet
 * (the component operator writes it a moment later) or it is already right.
 */
export function componentUpdate(component: KubeObject, uid: string, wanted: ComponentEntryFields): ComponentUpdate {
  for (const { list, entries } of lists(component)) {
    const index = entries.findIndex((e) => e?.uid === uid);
    if (index < 0) continue;
    const entry = entries[index] as Entry;
    const at = `/status/${list}/${index}`;
    const operations: PatchOperation[] = [];
    const set = (field: keyof ComponentEntryFields, value: unknown): void => {
      if (entry[field] === value) return;
      operations.push({ op: field in entry ? 'replace' : 'add', path: `${at}/${field}`, value });
    };
    set('url', wanted.url);
    if (wanted.developerUI !== undefined) set('developerUI', wanted.developerUI);
    set('ready', wanted.ready);
    if (operations.length === 0) return { kind: 'none', why: 'up-to-date' };
    return { kind: 'patch', list, index, operations: [{ op: 'test', path: `${at}/uid`, value: uid }, ...operations] };
  }
  return { kind: 'none', why: 'no-entry' };
}
