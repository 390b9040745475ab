import { createHash } from 'node:crypto';
import type { Logger } from '../log.ts';
import { createSpecFetcher } from './fetch-spec.ts';
import type { ResolveAll } from './guarded-agent.ts';
import { boundedCache, SPEC_CACHE_MAX_BYTES } from './bounded-cache.ts';
import { parseDocument } from './parse-document.ts';
import { compileAllSchemaChecks } from './schema-validators.ts';
import { createUrlChecker } from './url-checks.ts';
import { validateDocument } from './validate-document.ts';

export interface SpecCheckOk {
  ok: true;
  kind: 'swagger2' | 'openapi3.0' | 'openapi3.1';
  format: 'swagger-json' | 'openapi' | 'openapi+json';
  /** `swagger` or `openapi` as written. */
  openapiVersion: string;
  /** Swagger 2.0 written in YAML: the reconciler converts it to JSON before import. */
  needsJsonConversion: boolean;
  title?: string;
  version?: string;
  operationCount: number;
  warnings: string[];
  /** No validation ran (inline) or no request was made (URL). */
  cached: boolean;
}

export interface SpecCheckFailed {
  ok: false;
  message: string;
  /** Deny when false; when true the cause may pass (timeout, network, 5xx): warn and admit. */
  transient: boolean;
}

export type SpecCheckResult = SpecCheckOk | SpecCheckFailed;

export interface SpecChecker {
  checkInline(text: string): Promise<SpecCheckResult>;
  checkUrl(url: string): Promise<SpecCheckResult>;
  close(): Promise<void>;
}

export interface SpecCheckerOptions {
  fetchTimeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  allow: readonly string[];
  deny: readonly string[];
  cacheEntries: number;
  /** Bytes each result cache may hold (by URL, by document hash). */
  cacheMaxBytes: number;
  freshForMs: number;
  log: Logger;
  /** Called once per network fetch with its outcome (a FetchOutcome label). */
  onFetch?: (outcome: string) => void;
  /** Name resolution for fetches; the system resolver by default. */
  resolveAll?: ResolveAll;
  /** Clock for cache freshness, in milliseconds. */
  now?: () => number;
}

const PENDING_RESULT_BYTES = 1024;

export const SPEC_CHECK_DEFAULTS = Object.freeze({
  fetchTimeoutMs: 3000,
  /** The size limit of an inline APIM import. */
  maxBytes: 4 * 1024 * 1024,
  maxRedirects: 3,
  allow: Object.freeze([]) as readonly string[],
  deny: Object.freeze([]) as readonly string[],
  cacheEntries: 500,
  cacheMaxBytes: SPEC_CACHE_MAX_BYTES,
  freshForMs: 5 * 60 * 1000,
});

/** Compiles the OpenAPI schemas ahead of the first admission; call before reporting ready. */
export function warmUpSpecValidation(): void {
  compileAllSchemaChecks();
}

export function createSpecChecker(options: SpecCheckerOptions): SpecChecker {
  checkOptions(options);
  const fetcher = createSpecFetcher({
    timeoutMs: options.fetchTimeoutMs,
    maxBytes: options.maxBytes,
    maxRedirects: options.maxRedirects,
    allow: options.allow,
    deny: options.deny,
    resolveAll: options.resolveAll,
  });
  // Promises, so that identical documents admitted at once are validated once.
  const bounds = { maxEntries: options.cacheEntries, maxBytes: options.cacheMaxBytes };
  // The size of a result is known only once it settles: count a pending one at an estimate, then at its JSON size.
  const byText = boundedCache<Promise<SpecCheckResult>>(bounds, (_pending, key) => key.length + PENDING_RESULT_BYTES);
  const validateText = async (text: string): Promise<{ result: SpecCheckResult; cached: boolean }> => {
    const key = createHash('sha256').update(text).digest('hex');
    const known = byText.get(key);
    if (known) return { result: await known, cached: true };
    const pending = checkText(text);
    byText.set(key, pending);
    void pending.then(
      (result) => {
        if (byText.peek(key) === pending)
          byText.set(key, pending, { size: key.length + JSON.stringify(result).length });
      },
      () => undefined,
    );
    return { result: await pending, cached: false };
  };
  const urls = createUrlChecker({
    fetcher,
    checkText: async (text) => (await validateText(text)).result,
    cache: bounds,
    freshForMs: options.freshForMs,
    now: options.now ?? Date.now,
    log: options.log,
    onFetch: options.onFetch,
  });
  return {
    checkInline: async (text) => {
      if (Buffer.byteLength(text) > options.maxBytes) {
        return {
          ok: false,
          message: `the specification is larger than ${options.maxBytes} bytes, the limit of an inline API Management import`,
          transient: false,
        };
      }
      const { result, cached } = await validateText(text);
      return result.ok ? { ...result, cached } : result;
    },
    checkUrl: urls.checkUrl,
    close: async () => {
      byText.clear();
      urls.clear();
      await fetcher.close();
    },
  };
}

async function checkText(text: string): Promise<SpecCheckResult> {
  const parsed = parseDocument(text);
  if (!parsed.ok) return parsed;
  const validated = await validateDocument(parsed);
  if (!validated.ok) return validated;
  return { ...validated, needsJsonConversion: parsed.needsJsonConversion, cached: false };
}

function checkOptions(options: SpecCheckerOptions): void {
  for (const name of ['fetchTimeoutMs', 'maxBytes', 'cacheEntries', 'cacheMaxBytes'] as const) {
    if (!Number.isFinite(options[name]) || options[name] <= 0)
      throw new Error(`spec checker option ${name} must be a positive number, not ${options[name]}`);
  }
  for (const name of ['maxRedirects', 'freshForMs'] as const) {
    if (!Number.isFinite(options[name]) || options[name] < 0)
      throw new Error(`spec checker option ${name} must be zero or more, not ${options[name]}`);
  }
}
