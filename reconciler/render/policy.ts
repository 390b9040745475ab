import type { Counter, ExposedApi } from '../../shared/exposed-api/model.ts';
import { isFragmentId, isPlainHeaderName, looksLikePolicyExpression } from '../../shared/exposed-api/tokens.ts';
import { apiIdFor } from './api-id.ts';

export interface PolicySettings {
  readonly jwt?: {
    readonly openIdConfigUrl: string;
    readonly audiences: readonly string[];
    readonly issuers?: readonly string[];
  };
  /** `renewal-period` of quota-by-key (APIM documents at least 300; 0 means never renewed). */
  readonly quotaPeriodSeconds: number;
  /** `max-size` of validate-content in bytes; APIM allows at most 102400. */
  readonly validationMaxSize?: number;
}

export const MAX_VALIDATION_SIZE = 102400;

// ---------------------------------------------------------------- XML builder

/** A policy expression the operator wrote itself; the only text allowed to start with `@(`. */
interface Expression {
  readonly expression: string;
}
type AttrValue = string | number | boolean | Expression;
interface Element {
  readonly name: string;
  readonly attrs: Readonly<Record<string, AttrValue>>;
  readonly children: readonly Element[];
  readonly text?: string;
}

const el = (name: string, attrs: Record<string, AttrValue> = {}, children: readonly Element[] = []): Element => ({
  name,
  attrs,
  children,
});
const textEl = (name: string, text: string): Element => ({ name, attrs: {}, children: [], text });
const expr = (expression: string): Expression => ({ expression });

/**
 * A value from the ExposedAPI or the settings. XML escaping cannot stop APIM
 * from evaluating `@(...)`/`@{...}` or substituting `{{named-value}}`, so such
 * a value is refused here too, although admission already refuses it.
 */
function plain(value: string): string {
  if (looksLikePolicyExpression(value) || value.includes('{{')) {
    throw new Error(
      `policy: refused ${JSON.stringify(value)}: it would be evaluated by APIM as a policy expression or named value`,
    );
  }
  return value;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
export const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** A count, period or size in decimal: `String(1e21)` is `1e+21`, which APIM does not read as one. */
function wholeNumber(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(
      `policy: refused ${value}: counts, periods and sizes must be whole numbers from 0 to ${Number.MAX_SAFE_INTEGER}`,
    );
  return String(value);
}

function attrText(value: AttrValue): string {
  if (typeof value === 'object') return escapeXml(value.expression);
  if (typeof value === 'number') return wholeNumber(value);
  return escapeXml(typeof value === 'string' ? plain(value) : String(value));
}

function serialise(node: Element, depth: number): string {
  const pad = '  '.repeat(depth);
  const attrs = Object.entries(node.attrs)
    .map(([k, v]) => ` ${k}="${attrText(v)}"`)
    .join('');
  if (node.text !== undefined) return `${pad}<${node.name}${attrs}>${escapeXml(plain(node.text))}</${node.name}>\n`;
  if (node.children.length === 0) return `${pad}<${node.name}${attrs} />\n`;
  return `${pad}<${node.name}${attrs}>\n${node.children.map((c) => serialise(c, depth + 1)).join('')}${pad}</${node.name}>\n`;
}

// ---------------------------------------------------------------- policies

const sorted = (items: readonly string[]): string[] => [...new Set(items)].sort();
const list = (
  wrapper: string,
  item: string,
  items: readonly string[],
  attrs: Record<string, AttrValue> = {},
): Element =>
  el(
    wrapper,
    attrs,
    sorted(items).map((i) => textEl(item, i)),
  );

/**
 * CORS is rendered whenever it is on. APIM's cors policy always answers a
 * preflight that matches it and cannot add CORS headers to actual requests
 * without doing so, so `handlePreflight: false` cannot hand matching
 * preflights to the backend; `terminate-unmatched-request="false"` sends every
 * request that does not match on to the backend instead of answering it.
 */
function cors(c: NonNullable<ExposedApi['cors']>): Element {
  const children = [
    list('allowed-origins', 'origin', c.allowedOrigins),
    list('allowed-methods', 'method', c.allowedMethods, { 'preflight-result-max-age': c.preflightMaxAgeSeconds }),
    list('allowed-headers', 'header', c.allowedHeaders),
  ];
  if (c.exposeHeaders.length > 0) children.push(list('expose-headers', 'header', c.exposeHeaders));
  return el('cors', { 'allow-credentials': c.allowCredentials, 'terminate-unmatched-request': false }, children);
}

function validateJwt(jwt: NonNullable<PolicySettings['jwt']>): Element {
  const children = [el('openid-config', { url: jwt.openIdConfigUrl }), list('audiences', 'audience', jwt.audiences)];
  if (jwt.issuers && jwt.issuers.length > 0) children.push(list('issuers', 'issuer', jwt.issuers));
  const attrs = {
    'header-name': 'Authorization',
    'failed-validation-httpcode': 401,
    'failed-validation-error-message': 'Unauthorized',
    'require-scheme': 'Bearer',
  };
  return el('validate-jwt', attrs, children);
}

/**
 * The counter-key expression: the operator writes it; the user only names a
 * plain header. APIM keeps one counter per key value across every policy that
 * uses it, so the key starts with the API id: two APIs limited by client IP
 * must not share one count.
 */
export function counterKey(counter: Counter, apiId: string): Expression {
  if (!/^[a-z][a-z0-9-]*$/.test(apiId))
    throw new Error(`policy: refused API id ${JSON.stringify(apiId)} in a counter key`);
  if (counter.kind === 'ip') return expr(`@("${apiId}:" + context.Request.IpAddress)`);
  if (!isPlainHeaderName(counter.name))
    throw new Error(
      `policy: refused counter header name ${JSON.stringify(counter.name)}: letters, digits, "-", "_" and "." only`,
    );
  return expr(`@("${apiId}:" + context.Request.Headers.GetValueOrDefault("${counter.name}",""))`);
}

const action = (allowUnspecified: boolean): string => (allowUnspecified ? 'ignore' : 'prevent');

function validateContent(maxSize: number): Element {
  return el(
    'validate-content',
    { 'unspecified-content-type-action': 'prevent', 'max-size': maxSize, 'size-exceeded-action': 'prevent' },
    [el('content', { type: 'application/json', 'validate-as': 'json', action: 'prevent' })],
  );
}

/** Request parameters: specified ones must match the OpenAPI document; unspecified ones pass only when allowed. */
function validateParameters(v: NonNullable<ExposedApi['oasValidation']>): Element {
  return el(
    'validate-parameters',
    { 'specified-parameter-action': 'prevent', 'unspecified-parameter-action': 'prevent' },
    [
      el('headers', {
        'specified-parameter-action': 'prevent',
        'unspecified-parameter-action': action(v.allowUnspecifiedHeaders),
      }),
      el('query', {
        'specified-parameter-action': 'prevent',
        'unspecified-parameter-action': action(v.allowUnspecifiedQueryParams),
      }),
      el('path', { 'specified-parameter-action': 'prevent' }),
    ],
  );
}

function inbound(model: ExposedApi, settings: PolicySettings, maxSize: number): Element[] {
  const items: Element[] = [el('base')];
  const apiId = apiIdFor(model.key.namespace, model.key.name);
  if (model.cors) items.push(cors(model.cors));
  if (settings.jwt) items.push(validateJwt(settings.jwt));
  if (model.rateLimit) {
    const r = model.rateLimit;
    items.push(
      el('rate-limit-by-key', {
        calls: r.calls,
        'renewal-period': r.renewalPeriodSeconds,
        'counter-key': counterKey(r.counter, apiId),
      }),
    );
  }
  if (model.quota) {
    items.push(
      el('quota-by-key', {
        calls: model.quota.calls,
        'renewal-period': settings.quotaPeriodSeconds,
        'counter-key': counterKey(model.quota.counter, apiId),
      }),
    );
  }
  if (model.oasValidation?.request) items.push(validateContent(maxSize), validateParameters(model.oasValidation));
  if (model.template !== undefined) {
    if (!isFragmentId(model.template))
      throw new Error(`policy: refused policy fragment id ${JSON.stringify(model.template)}`);
    items.push(el('include-fragment', { 'fragment-id': model.template }));
  }
  return items;
}

function outbound(model: ExposedApi, maxSize: number): Element[] {
  const items: Element[] = [el('base')];
  if (model.oasValidation?.response) {
    // Backends and APIM add headers no document lists (Date, Content-Length, ...): only listed ones are checked.
    items.push(
      validateContent(maxSize),
      el('validate-headers', { 'specified-header-action': 'prevent', 'unspecified-header-action': 'ignore' }),
    );
  }
  return items;
}

/** The API-scope policy document of an ExposedAPI: the same bytes for the same input. */
export function renderPolicy(model: ExposedApi, settings: PolicySettings): string {
  const maxSize = settings.validationMaxSize ?? MAX_VALIDATION_SIZE;
  if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > MAX_VALIDATION_SIZE)
    throw new Error(`policy: validationMaxSize must be 1 to ${MAX_VALIDATION_SIZE}`);
  const document = el('policies', {}, [
    el('inbound', {}, inbound(model, settings, maxSize)),
    el('backend', {}, [el('base')]),
    el('outbound', {}, outbound(model, maxSize)),
    el('on-error', {}, [el('base')]),
  ]);
  return serialise(document, 0);
}
