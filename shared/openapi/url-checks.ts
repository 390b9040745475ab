import type { Logger } from '../log.ts';
import { describeUrl, type FetchNotModified, type FetchOk, type SpecFetcher } from './fetch-spec.ts';
import type { Validators } from './http-metadata.ts';
import { boundedCache, type CacheBounds } from './bounded-cache.ts';
import type { SpecCheckResult } from './spec-checker.ts';

/**
 * Checks of specifications by URL, with an HTTP-style cache of the results:
 * fresh entries make no request, stale ones revalidate with the stored ETag /
 * Last-Modified, a 304 reuses the stored result, and a transient failure
 * falls back to it (stale-if-error). Concurrent checks of one URL share one fetch.
 */

export interface UrlCheckDeps {
  fetcher: SpecFetcher;
  /** Validates fetched text; shares the inline cache, so identical content is validated once. */
  checkText: (text: string) => Promise<SpecCheckResult>;
  cache: CacheBounds;
  freshForMs: number;
  now: () => number;
  log: Logger;
  onFetch?: (outcome: string) => void;
}

interface UrlEntry {
  result: SpecCheckResult;
  validators: Validators;
  freshUntil: number;
  /** When the result was last confirmed by the server. */
  confirmedAt: number;
}

export function createUrlChecker(deps: UrlCheckDeps): {
  checkUrl(url: string): Promise<SpecCheckResult>;
  clear(): void;
} {
  // An entry holds the check's result, not the document: its JSON is a fair measure.
  const entries = boundedCache<UrlEntry>(deps.cache, (entry, url) => url.length + JSON.stringify(entry).length);
  const inFlight = new Map<string, Promise<SpecCheckResult>>();

  const freshUntil = (result: SpecCheckResult, maxAgeSeconds: number | undefined): number => {
    // A refused document is revalidated on every check: once fixed, it must pass at once.
    if (!result.ok) return deps.now();
    const serverMs = maxAgeSeconds === undefined ? Infinity : maxAgeSeconds * 1000;
    return deps.now() + Math.min(deps.freshForMs, serverMs);
  };

  const store = async (url: string, fetched: FetchOk): Promise<SpecCheckResult> => {
    const checked = await deps.checkText(fetched.text);
    const result: SpecCheckResult = checked.ok
      ? { ...checked, cached: false }
      : { ...checked, message: `the specification at ${describeUrl(url)}: ${checked.message}` };
    if (fetched.noStore) entries.delete(url);
    else
      entries.set(url, {
        result,
        validators: fetched.validators,
        freshUntil: freshUntil(result, fetched.maxAgeSeconds),
        confirmedAt: deps.now(),
      });
    return result;
  };

  const reuse = (url: string, fetched: FetchNotModified, stored: UrlEntry | undefined): SpecCheckResult => {
    if (!stored)
      return {
        ok: false,
        message: `${describeUrl(url)} answered 304 Not Modified to an unconditional request`,
        transient: true,
      };
    const validators = { ...stored.validators, ...fetched.validators };
    entries.set(url, {
      ...stored,
      validators,
      freshUntil: freshUntil(stored.result, fetched.maxAgeSeconds),
      confirmedAt: deps.now(),
    });
    return markCached(stored.result);
  };

  const fetchAndCheck = async (url: string, stored: UrlEntry | undefined): Promise<SpecCheckResult> => {
    const started = performance.now();
    const fetched = await deps.fetcher.fetch(url, stored?.validators);
    deps.onFetch?.(fetched.outcome);
    deps.log.debug(
      { url: describeUrl(url), outcome: fetched.outcome, ms: Math.round(performance.now() - started) },
      'Fetched OpenAPI specification',
    );
    if (fetched.outcome === 'ok') return store(url, fetched);
    if (fetched.outcome === 'not-modified') return reuse(url, fetched, stored);
    if (fetched.transient && stored) {
      deps.log.warn(
        { url: describeUrl(url), outcome: fetched.outcome },
        'Reused the stored specification result after a failed revalidation',
      );
      return staleResult(stored.result, fetched.message, deps.now() - stored.confirmedAt);
    }
    // Transient failures are not cached; a definitive one also drops what the URL used to serve.
    entries.delete(url);
    return { ok: false, message: fetched.message, transient: fetched.transient };
  };

  const checkUrl = (url: string): Promise<SpecCheckResult> => {
    const stored = entries.get(url);
    if (stored && deps.now() < stored.freshUntil) return Promise.resolve(markCached(stored.result));
    const running = inFlight.get(url);
    if (running) return running;
    const pending = fetchAndCheck(url, stored).finally(() => inFlight.delete(url));
    inFlight.set(url, pending);
    return pending;
  };

  return { checkUrl, clear: () => entries.clear() };
}

function markCached(result: SpecCheckResult): SpecCheckResult {
  return result.ok ? { ...result, cached: true } : result;
}

function staleResult(result: SpecCheckResult, why: string, ageMs: number): SpecCheckResult {
  if (!result.ok) return result;
  const warning = `could not revalidate the specification (${why}); used the result checked ${Math.round(ageMs / 1000)} s ago`;
  return { ...result, cached: true, warnings: [...result.warnings, warning.slice(0, 300)] };
}
