/** Policies, OpenID Connect providers, products and subscriptions of the ARM stand-in. */
import { subscriptionKey } from '../../helpers/test-secrets.ts';
import { requireRevision } from './apis.ts';
import type { HandlerContext } from './context.ts';
import { ArmFailure, checkIfMatch, headerValue, newEtag, propertiesOf, validation, type ArmAnswer } from './http.ts';
import { nameFilter, page } from './paging.ts';
import { reformatPolicy } from './policy-format.ts';
import type { SubscriptionEntry } from './store.ts';

function policyKey(ctx: HandlerContext, apiId: string): { key: string; name: string } {
  const { entry, revision, name } = requireRevision(ctx.service, apiId);
  return { key: `${entry.name};rev=${revision.rev}`.toLowerCase(), name };
}

function policyBody(ctx: HandlerContext, name: string, xml: string, format: string): unknown {
  return {
    id: `${ctx.serviceId}/apis/${name}/policies/policy`,
    type: 'Microsoft.ApiManagement/service/apis/policies',
    name: 'policy',
    properties: { format, value: xml },
  };
}

export function getPolicy(ctx: HandlerContext, apiId: string): ArmAnswer {
  const { key, name } = policyKey(ctx, apiId);
  const stored = ctx.service.policies.get(key);
  if (!stored) throw new ArmFailure(404, 'ResourceNotFound', 'Policy not found.');
  const format = ctx.request.query.get('format') ?? 'xml';
  return { status: 200, body: policyBody(ctx, name, stored.xml, format), headers: { etag: stored.etag } };
}

export function listPolicies(ctx: HandlerContext, apiId: string): ArmAnswer {
  const { key, name } = policyKey(ctx, apiId);
  const stored = ctx.service.policies.get(key);
  const value = stored ? [policyBody(ctx, name, stored.xml, 'xml')] : [];
  return { status: 200, body: { value, count: value.length } };
}

export function putPolicy(ctx: HandlerContext, apiId: string): ArmAnswer {
  const { key, name } = policyKey(ctx, apiId);
  const p = propertiesOf(ctx.request.body);
  const format = typeof p.format === 'string' ? p.format : 'xml';
  if (!['xml', 'rawxml', 'xml-link', 'rawxml-link'].includes(format))
    throw validation(`Policy format '${format}' is not supported.`);
  if (typeof p.value !== 'string' || !/^\s*<policies>[\s\S]*<\/policies>\s*$/.test(p.value)) {
    throw validation("'policies' is the only root element allowed in a policy document.", [
      {
        code: 'ValidationError',
        target: 'representation',
        message: 'The policy document must be a <policies> element.',
      },
    ]);
  }
  const existing = ctx.service.policies.get(key);
  checkIfMatch(headerValue(ctx.request.headers, 'if-match'), existing?.etag);
  const stored = { xml: reformatPolicy(p.value), etag: newEtag(), properties: {} };
  ctx.service.policies.set(key, stored);
  return {
    status: existing ? 200 : 201,
    body: policyBody(ctx, name, stored.xml, format),
    headers: { etag: stored.etag },
  };
}

export function deletePolicy(ctx: HandlerContext, apiId: string): ArmAnswer {
  const { key } = policyKey(ctx, apiId);
  const ifMatch = headerValue(ctx.request.headers, 'if-match');
  if (ifMatch === undefined) throw validation('The If-Match header is required.');
  const existing = ctx.service.policies.get(key);
  if (!existing) return { status: 204 };
  checkIfMatch(ifMatch, existing.etag);
  ctx.service.policies.delete(key);
  return { status: 200 };
}

function oidcBody(ctx: HandlerContext, name: string, properties: Record<string, unknown>): unknown {
  const { clientSecret: _hidden, ...visible } = properties;
  return {
    id: `${ctx.serviceId}/openidConnectProviders/${name}`,
    type: 'Microsoft.ApiManagement/service/openidconnectproviders',
    name,
    properties: visible,
  };
}

export function getOpenIdProvider(ctx: HandlerContext, id: string): ArmAnswer {
  const stored = ctx.service.openidProviders.get(id.toLowerCase());
  if (!stored) throw new ArmFailure(404, 'ResourceNotFound', 'OpenID Connect Provider not found.');
  return { status: 200, body: oidcBody(ctx, stored.name, stored.properties), headers: { etag: stored.etag } };
}

export function putOpenIdProvider(ctx: HandlerContext, id: string): ArmAnswer {
  const p = propertiesOf(ctx.request.body);
  const existing = ctx.service.openidProviders.get(id.toLowerCase());
  checkIfMatch(headerValue(ctx.request.headers, 'if-match'), existing?.etag);
  const properties = { ...existing?.properties, ...p };
  const details = [];
  if (
    typeof properties.displayName !== 'string' ||
    properties.displayName.length < 1 ||
    properties.displayName.length > 50
  )
    details.push({
      code: 'ValidationError',
      target: 'displayName',
      message: 'Display name must be 1 to 50 characters long.',
    });
  if (typeof properties.metadataEndpoint !== 'string' || !URL.canParse(properties.metadataEndpoint))
    details.push({
      code: 'ValidationError',
      target: 'metadataEndpoint',
      message: 'Metadata endpoint must be an absolute URL.',
    });
  if (typeof properties.clientId !== 'string' || properties.clientId.length === 0)
    details.push({ code: 'ValidationError', target: 'clientId', message: 'Client id is required.' });
  if (details.length > 0) throw validation('One or more fields contain incorrect values:', details);
  const stored = { name: existing?.name ?? id, properties, etag: newEtag() };
  ctx.service.openidProviders.set(id.toLowerCase(), stored);
  return { status: existing ? 200 : 201, body: oidcBody(ctx, stored.name, properties), headers: { etag: stored.etag } };
}

export function deleteOpenIdProvider(ctx: HandlerContext, id: string): ArmAnswer {
  if (headerValue(ctx.request.headers, 'if-match') === undefined) throw validation('The If-Match header is required.');
  return { status: ctx.service.openidProviders.delete(id.toLowerCase()) ? 200 : 204 };
}

export function putProduct(ctx: HandlerContext, id: string): ArmAnswer {
  const p = propertiesOf(ctx.request.body);
  const existing = ctx.service.products.get(id.toLowerCase());
  const properties: Record<string, unknown> = {
    state: 'notPublished',
    subscriptionRequired: true,
    ...existing?.properties,
    ...p,
  };
  if (typeof properties.displayName !== 'string' || properties.displayName.length === 0)
    throw validation('One or more fields contain incorrect values:', [
      { code: 'ValidationError', target: 'displayName', message: 'Display name is required.' },
    ]);
  const stored = { name: existing?.name ?? id, properties, etag: newEtag(), apis: existing?.apis ?? new Set<string>() };
  ctx.service.products.set(id.toLowerCase(), stored);
  return {
    status: existing ? 200 : 201,
    body: {
      id: `${ctx.serviceId}/products/${stored.name}`,
      type: 'Microsoft.ApiManagement/service/products',
      name: stored.name,
      properties,
    },
    headers: { etag: stored.etag },
  };
}

export function getProduct(ctx: HandlerContext, id: string): ArmAnswer {
  const stored = ctx.service.products.get(id.toLowerCase());
  if (!stored) throw new ArmFailure(404, 'ResourceNotFound', 'Product not found.');
  return {
    status: 200,
    body: {
      id: `${ctx.serviceId}/products/${stored.name}`,
      type: 'Microsoft.ApiManagement/service/products',
      name: stored.name,
      properties: stored.properties,
    },
    headers: { etag: stored.etag },
  };
}

export function productApi(ctx: HandlerContext, productId: string, apiId: string): ArmAnswer {
  const product = ctx.service.products.get(productId.toLowerCase());
  if (!product) throw new ArmFailure(404, 'ResourceNotFound', 'Product not found.');
  const key = apiId.toLowerCase();
  const method = ctx.request.method;
  if (method === 'HEAD' || method === 'GET') return product.apis.has(key) ? { status: 204 } : { status: 404 };
  if (method === 'DELETE') return { status: product.apis.delete(key) ? 200 : 204 };
  const { entry, revision } = requireRevision(ctx.service, apiId);
  const created = !product.apis.has(key);
  product.apis.add(key);
  return {
    status: created ? 201 : 200,
    body: {
      id: `${ctx.serviceId}/products/${product.name}/apis/${entry.name}`,
      name: entry.name,
      properties: { ...revision.properties },
    },
  };
}

export function listSubscriptionSecrets(ctx: HandlerContext, sid: string): ArmAnswer {
  const stored = ctx.service.subscriptions.get(sid.toLowerCase());
  if (!stored) throw new ArmFailure(404, 'ResourceNotFound', 'Subscription not found.');
  return {
    status: 200,
    body: { primaryKey: stored.primaryKey, secondaryKey: stored.secondaryKey },
    headers: { etag: newEtag() },
  };
}

/** Subscriptions, paged, optionally by name prefix (`$filter=startswith(name,'…')`); keys are never listed. */
export function listSubscriptions(ctx: HandlerContext): ArmAnswer {
  const wanted = nameFilter(ctx);
  const value = [...ctx.service.subscriptions.values()]
    .filter((stored) => wanted(stored.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((stored) => subscriptionBody(ctx, stored));
  return page(ctx, value);
}

export function getSubscription(ctx: HandlerContext, sid: string): ArmAnswer {
  const stored = ctx.service.subscriptions.get(sid.toLowerCase());
  if (!stored) throw new ArmFailure(404, 'ResourceNotFound', 'Subscription not found.');
  stored.etag ??= newEtag();
  return { status: 200, body: subscriptionBody(ctx, stored), headers: { etag: stored.etag } };
}

function subscriptionBody(ctx: HandlerContext, stored: SubscriptionEntry): unknown {
  // Keys are not part of a GET answer (api-version 2019-12-01 on): they come from listSecrets only.
  return {
    id: `${ctx.serviceId}/subscriptions/${stored.name}`,
    type: 'Microsoft.ApiManagement/service/subscriptions',
    name: stored.name,
    properties: {
      scope: stored.scope,
      state: stored.state ?? 'active',
      displayName: stored.displayName ?? stored.name,
      allowTracing: false,
    },
  };
}

/**
 * The scope as APIM stores and returns it (a full ARM id), from the short form
 * (`/apis`, `/apis/{id}`, `/products/{id}`) or a full id of this service.
 */
function subscriptionScope(ctx: HandlerContext, scope: unknown): string {
  const refuse = (message: string) =>
    validation('One or more fields contain incorrect values:', [{ code: 'ValidationError', target: 'scope', message }]);
  if (typeof scope !== 'string' || scope.length === 0) throw refuse('Scope is required.');
  const prefix = ctx.serviceId.toLowerCase();
  const short = scope.toLowerCase().startsWith(prefix) ? scope.slice(prefix.length) : scope;
  if (short === '/apis') return `${ctx.serviceId}/apis`;
  const api = /^\/apis\/([^/]+)$/.exec(short);
  if (api) {
    const entry = ctx.service.apis.get(api[1]!.toLowerCase());
    if (!entry) throw refuse(`Api '${api[1]}' not found.`);
    return `${ctx.serviceId}/apis/${entry.name}`;
  }
  const product = /^\/products\/([^/]+)$/.exec(short);
  if (product) {
    const entry = ctx.service.products.get(product[1]!.toLowerCase());
    if (!entry) throw refuse(`Product '${product[1]}' not found.`);
    return `${ctx.serviceId}/products/${entry.name}`;
  }
  throw refuse(`Scope '${scope}' is not valid: use /apis, /apis/{apiId} or /products/{productId}.`);
}

const SUBSCRIPTION_STATES = new Set(['suspended', 'active', 'expired', 'submitted', 'rejected', 'cancelled']);

export function putSubscription(ctx: HandlerContext, sid: string): ArmAnswer {
  if (!/^[^*#&+:<>?]{1,256}$/.test(sid)) throw validation(`Subscription id '${sid}' is not valid.`);
  const p = propertiesOf(ctx.request.body);
  const existing = ctx.service.subscriptions.get(sid.toLowerCase());
  if (existing) existing.etag ??= newEtag();
  checkIfMatch(headerValue(ctx.request.headers, 'if-match'), existing?.etag);
  const displayName = p.displayName ?? existing?.displayName;
  if (typeof displayName !== 'string' || displayName.length < 1 || displayName.length > 100) {
    throw validation('One or more fields contain incorrect values:', [
      {
        code: 'ValidationError',
        target: 'displayName',
        message: 'Subscription name length must be 1 to 100 characters.',
      },
    ]);
  }
  const scope = p.scope === undefined && existing ? existing.scope : subscriptionScope(ctx, p.scope);
  const state = typeof p.state === 'string' ? p.state : (existing?.state ?? 'submitted');
  if (!SUBSCRIPTION_STATES.has(state)) throw validation(`Subscription state '${state}' is not valid.`);
  const stored: SubscriptionEntry = {
    name: existing?.name ?? sid,
    scope,
    displayName,
    state,
    etag: newEtag(),
    primaryKey: typeof p.primaryKey === 'string' ? p.primaryKey : (existing?.primaryKey ?? subscriptionKey()),
    secondaryKey: typeof p.secondaryKey === 'string' ? p.secondaryKey : (existing?.secondaryKey ?? subscriptionKey()),
  };
  ctx.service.subscriptions.set(sid.toLowerCase(), stored);
  return { status: existing ? 200 : 201, body: subscriptionBody(ctx, stored), headers: { etag: stored.etag! } };
}

export function deleteSubscription(ctx: HandlerContext, sid: string): ArmAnswer {
  const ifMatch = headerValue(ctx.request.headers, 'if-match');
  if (ifMatch === undefined) throw validation('The If-Match header is required.');
  const existing = ctx.service.subscriptions.get(sid.toLowerCase());
  if (!existing) return { status: 204 };
  existing.etag ??= newEtag();
  checkIfMatch(ifMatch, existing.etag);
  ctx.service.subscriptions.delete(sid.toLowerCase());
  return { status: 200 };
}

/** `POST subscriptions/{sid}/regeneratePrimaryKey` (or Secondary): 204, a fresh key. */
export function regenerateSubscriptionKey(ctx: HandlerContext, sid: string, which: string): ArmAnswer {
  const stored = ctx.service.subscriptions.get(sid.toLowerCase());
  if (!stored) throw new ArmFailure(404, 'ResourceNotFound', 'Subscription not found.');
  if (which === 'Primary') stored.primaryKey = subscriptionKey();
  else stored.secondaryKey = subscriptionKey();
  stored.etag = newEtag();
  return { status: 204 };
}
