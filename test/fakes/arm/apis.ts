/** API resources of the ARM stand-in: get/head/list, long-running create-or-update with import, delete, revisions, releases. */
import { checkApiId, checkApiProperties } from './api-rules.ts';
import type { HandlerContext } from './context.ts';
import { codeFor } from './faults.ts';
import {
  ArmFailure,
  checkIfMatch,
  headerValue,
  newEtag,
  notFound,
  propertiesOf,
  validation,
  type ArmAnswer,
} from './http.ts';
import { importDocument } from './import.ts';
import { nameFilter, page } from './paging.ts';
import { parseApiId, type ApiEntry, type Revision, type ServiceState } from './store.ts';

const SUBSCRIPTION_KEY_DEFAULTS = { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' };

export function findRevision(
  service: ServiceState,
  apiId: string,
): { entry: ApiEntry; revision: Revision; name: string } | undefined {
  const { base, rev } = parseApiId(apiId);
  const entry = service.apis.get(base.toLowerCase());
  const revision = entry?.revisions.get(rev ?? entry.current);
  if (!entry || !revision) return undefined;
  return {
    entry,
    revision,
    name: rev === undefined || rev === entry.current ? entry.name : `${entry.name};rev=${rev}`,
  };
}

export function requireRevision(
  service: ServiceState,
  apiId: string,
): { entry: ApiEntry; revision: Revision; name: string } {
  const found = findRevision(service, apiId);
  if (!found) throw new ArmFailure(404, 'ResourceNotFound', 'Api not found.');
  return found;
}

function contract(
  ctx: HandlerContext,
  name: string,
  entry: ApiEntry,
  revision: Revision,
  extra: Record<string, unknown> = {},
): unknown {
  const properties = {
    ...revision.properties,
    apiRevision: revision.rev,
    isCurrent: revision.rev === entry.current,
    isOnline: true,
    ...extra,
  };
  return { id: `${ctx.serviceId}/apis/${name}`, type: 'Microsoft.ApiManagement/service/apis', name, properties };
}

export function getApi(ctx: HandlerContext, apiId: string): ArmAnswer {
  const { entry, revision, name } = requireRevision(ctx.service, apiId);
  return { status: 200, body: contract(ctx, name, entry, revision), headers: { etag: revision.etag } };
}

/** The current revision of every API (other revisions are listed per API), by name, paged. */
export function listApis(ctx: HandlerContext): ArmAnswer {
  const wanted = nameFilter(ctx);
  const value = [...ctx.service.apis.values()]
    .filter((entry) => wanted(entry.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((entry) => contract(ctx, entry.name, entry, entry.revisions.get(entry.current)!));
  return page(ctx, value);
}

export function listOperations(ctx: HandlerContext, apiId: string): ArmAnswer {
  const { revision, name } = requireRevision(ctx.service, apiId);
  const value = revision.operations.map((op) => ({
    id: `${ctx.serviceId}/apis/${name}/operations/${op.name}`,
    type: 'Microsoft.ApiManagement/service/apis/operations',
    name: op.name,
    properties: { displayName: op.operationId ?? op.name, method: op.method, urlTemplate: op.urlTemplate },
  }));
  return { status: 200, body: { value, count: value.length } };
}

export function listRevisions(ctx: HandlerContext, apiId: string): ArmAnswer {
  const { entry } = requireRevision(ctx.service, apiId);
  const value = [...entry.revisions.values()].map((r) => ({
    apiId: `/apis/${entry.name};rev=${r.rev}`,
    apiRevision: r.rev,
    isCurrent: r.rev === entry.current,
    isOnline: true,
  }));
  return { status: 200, body: { value, count: value.length } };
}

/** The properties a PUT leaves: update merges into the existing ones; an import replaces operations and resets serviceUrl. */
function desired(
  existing: Revision | undefined,
  p: Record<string, unknown>,
): { properties: Record<string, unknown>; operations: Revision['operations'] } {
  const { format, value, apiRevision: _r, isCurrent: _c, provisioningState: _s, ...rest } = p;
  const base: Record<string, unknown> = existing
    ? { ...existing.properties }
    : {
        protocols: ['https'],
        subscriptionRequired: true,
        type: 'http',
        subscriptionKeyParameterNames: SUBSCRIPTION_KEY_DEFAULTS,
      };
  let operations = existing?.operations ?? [];
  if (typeof format === 'string' && typeof value === 'string') {
    const imported = importDocument(format, value);
    operations = imported.operations;
    delete base.serviceUrl;
    if (imported.serviceUrl) base.serviceUrl = imported.serviceUrl;
    if (rest.displayName === undefined && base.displayName === undefined && imported.title)
      base.displayName = imported.title;
  }
  for (const [key, v] of Object.entries(rest)) if (v !== undefined) base[key] = v;
  return { properties: base, operations: [...operations] };
}

export function putApi(ctx: HandlerContext, apiId: string): ArmAnswer {
  const { base, rev } = parseApiId(apiId);
  checkApiId(base);
  const p = propertiesOf(ctx.request.body);
  const entry = ctx.service.apis.get(base.toLowerCase());
  if (!entry && rev !== undefined && rev !== '1') throw new ArmFailure(404, 'ResourceNotFound', 'Api not found.');
  const targetRev = rev ?? entry?.current ?? '1';
  const existing = entry?.revisions.get(targetRev);
  checkIfMatch(headerValue(ctx.request.headers, 'if-match'), existing?.etag);
  const source = existing ?? (entry ? entry.revisions.get(entry.current) : undefined);
  const next = desired(source, p);
  checkApiProperties(ctx.service, base, next.properties);
  const created = existing === undefined;
  const revision: Revision = {
    rev: targetRev,
    properties: next.properties,
    operations: next.operations,
    etag: newEtag(),
  };
  const target = entry ?? { name: base, revisions: new Map<string, Revision>(), current: targetRev };
  const name = targetRev === target.current ? target.name : `${target.name};rev=${targetRev}`;
  if (!ctx.pollFault) {
    target.revisions.set(targetRev, revision);
    ctx.service.apis.set(base.toLowerCase(), target);
  }
  return longRunning(ctx, created ? 201 : 200, contract(ctx, name, target, revision), revision.etag);
}

function longRunning(ctx: HandlerContext, status: number, body: unknown, etag: string): ArmAnswer {
  const error = ctx.pollFault
    ? { ...codeFor(ctx.pollFault.status, ctx.pollFault.options), details: ctx.pollFault.options.details ?? [] }
    : undefined;
  const done: ArmAnswer = { status, body, headers: { etag } };
  if (ctx.lroSettings.mode === 'sync' && !error) return done;
  const mode = ctx.lroSettings.mode === 'sync' ? 'async-operation' : ctx.lroSettings.mode;
  const headers = ctx.lro.start(ctx.serviceUrl, ctx.apiVersion, done, error);
  if (mode === 'location') return { status: 202, headers };
  const inProgress = {
    ...(body as Record<string, unknown>),
    properties: { ...(body as { properties: object }).properties, provisioningState: 'InProgress' },
  };
  return { status, body: inProgress, headers: { ...headers, etag } };
}

export function deleteApi(ctx: HandlerContext, apiId: string): ArmAnswer {
  const ifMatch = headerValue(ctx.request.headers, 'if-match');
  if (ifMatch === undefined)
    throw validation('The If-Match header is required to delete an API.', [
      { code: 'ValidationError', target: 'If-Match', message: 'Missing If-Match header.' },
    ]);
  const { rev } = parseApiId(apiId);
  const { entry, revision } = requireRevision(ctx.service, apiId);
  checkIfMatch(ifMatch, revision.etag);
  if (rev !== undefined && rev === entry.current && entry.revisions.size > 1)
    throw validation('The current revision of an API cannot be deleted.');
  if (!ctx.pollFault) {
    if (rev !== undefined && entry.revisions.size > 1) {
      entry.revisions.delete(rev);
      ctx.service.policies.delete(`${entry.name};rev=${rev}`.toLowerCase());
    } else {
      ctx.service.apis.delete(entry.name.toLowerCase());
      for (const key of [...ctx.service.policies.keys()])
        if (key.startsWith(`${entry.name.toLowerCase()};rev=`)) ctx.service.policies.delete(key);
      for (const product of ctx.service.products.values()) product.apis.delete(entry.name.toLowerCase());
      // Assumed from real APIM: a subscription scoped to an API does not outlive the API.
      const scopeTail = `/apis/${entry.name}`.toLowerCase();
      for (const [sid, sub] of [...ctx.service.subscriptions])
        if (sub.scope.toLowerCase().endsWith(scopeTail)) ctx.service.subscriptions.delete(sid);
    }
  }
  const error = ctx.pollFault
    ? { ...codeFor(ctx.pollFault.status, ctx.pollFault.options), details: ctx.pollFault.options.details ?? [] }
    : undefined;
  if (ctx.lroSettings.mode === 'sync' && !error) return { status: 200 };
  return { status: 202, headers: ctx.lro.start(ctx.serviceUrl, ctx.apiVersion, { status: 200 }, error) };
}

/** `PUT apis/{id}/releases/{releaseId}` with `properties.apiId` naming a revision: that revision becomes current. */
export function putRelease(ctx: HandlerContext, apiId: string, releaseId: string): ArmAnswer {
  const { entry } = requireRevision(ctx.service, apiId);
  const p = propertiesOf(ctx.request.body);
  const rev = /;rev=(\d+)$/.exec(typeof p.apiId === 'string' ? p.apiId : '')?.[1];
  if (rev === undefined || !entry.revisions.has(rev))
    throw validation(`Release must name an existing revision of API '${entry.name}'.`, [
      { code: 'ValidationError', target: 'apiId', message: 'Unknown revision.' },
    ]);
  entry.current = rev;
  const notes = typeof p.notes === 'string' ? p.notes : '';
  const created = !ctx.service.releases.has(releaseId.toLowerCase());
  ctx.service.releases.set(releaseId.toLowerCase(), { apiId: `${entry.name};rev=${rev}`, notes });
  const now = new Date().toISOString();
  return {
    status: created ? 201 : 200,
    body: {
      id: `${ctx.serviceId}/apis/${entry.name}/releases/${releaseId}`,
      type: 'Microsoft.ApiManagement/service/apis/releases',
      name: releaseId,
      properties: { apiId: `/apis/${entry.name}`, notes, createdDateTime: now, updatedDateTime: now },
    },
    headers: { etag: newEtag() },
  };
}

export { notFound };
