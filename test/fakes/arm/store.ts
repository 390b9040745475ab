/** In-memory state of one APIM service in the ARM stand-in. */
import type { ImportedOperation } from './import.ts';

export interface Revision {
  readonly rev: string;
  properties: Record<string, unknown>;
  etag: string;
  operations: ImportedOperation[];
}

export interface ApiEntry {
  /** The API id as first created (case kept); lookups are case-insensitive. */
  readonly name: string;
  readonly revisions: Map<string, Revision>;
  current: string;
}

export interface Stored {
  properties: Record<string, unknown>;
  etag: string;
}

export interface SubscriptionEntry {
  readonly name: string;
  primaryKey: string;
  secondaryKey: string;
  scope: string;
  displayName?: string;
  state?: string;
  etag?: string;
}

export interface ServiceState {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
  readonly apis: Map<string, ApiEntry>;
  /** Keyed by `apiid;rev=N` (lower case). */
  readonly policies: Map<string, Stored & { xml: string }>;
  readonly openidProviders: Map<string, Stored & { name: string }>;
  readonly products: Map<string, Stored & { name: string; apis: Set<string> }>;
  /** Keyed by sid (lower case); `scope` is kept as a full ARM id, as APIM returns it. */
  readonly subscriptions: Map<string, SubscriptionEntry>;
  readonly releases: Map<string, { apiId: string; notes: string }>;
}

export function createServiceState(subscriptionId: string, resourceGroup: string, name: string): ServiceState {
  return {
    subscriptionId,
    resourceGroup,
    name,
    apis: new Map(),
    policies: new Map(),
    openidProviders: new Map(),
    products: new Map(),
    subscriptions: new Map(),
    releases: new Map(),
  };
}

export function serviceId(service: ServiceState): string {
  return `/subscriptions/${service.subscriptionId}/resourceGroups/${service.resourceGroup}/providers/Microsoft.ApiManagement/service/${service.name}`;
}

/** `my-api;rev=2` → `{ base: 'my-api', rev: '2' }`. */
export function parseApiId(apiId: string): { base: string; rev: string | undefined } {
  const match = /^(.*);rev=(\d+)$/.exec(apiId);
  return match ? { base: match[1]!, rev: match[2]! } : { base: apiId, rev: undefined };
}

export interface ApiSnapshot {
  readonly id: string;
  readonly current: string;
  readonly etag: string;
  readonly properties: Record<string, unknown>;
  readonly operations: readonly ImportedOperation[];
  readonly revisions: readonly string[];
  readonly policy: string | undefined;
}

/** A deep copy of the APIs (current revision) and their policies, for assertions. */
export function snapshot(service: ServiceState): {
  apis: Record<string, ApiSnapshot>;
  policies: Record<string, string>;
} {
  const apis: Record<string, ApiSnapshot> = {};
  const policies: Record<string, string> = {};
  for (const entry of service.apis.values()) {
    const rev = entry.revisions.get(entry.current)!;
    const policy = service.policies.get(`${entry.name};rev=${entry.current}`.toLowerCase())?.xml;
    apis[entry.name] = structuredClone({
      id: entry.name,
      current: entry.current,
      etag: rev.etag,
      properties: rev.properties,
      operations: rev.operations,
      revisions: [...entry.revisions.keys()],
      policy,
    });
    if (policy !== undefined) policies[entry.name] = policy;
  }
  return { apis, policies };
}
