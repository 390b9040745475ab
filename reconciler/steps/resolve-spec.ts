import { createHash } from 'node:crypto';
import type { SpecSource } from '../../shared/exposed-api/specification.ts';
import { PermanentError, RetryableError } from '../../shared/errors.ts';
import type { SpecFetcher, Validators } from '../../shared/openapi/fetch-spec.ts';
import { parseDocument, type ImportFormat } from '../../shared/openapi/parse-document.ts';
import { validateDocument } from '../../shared/openapi/validate-document.ts';
import { boundedCache, type CacheBounds } from '../../shared/openapi/bounded-cache.ts';

/** APIM's limit for an inline import. */
export const MAX_INLINE_IMPORT_BYTES = 4 * 1024 * 1024;

export interface ResolvedSpec {
  readonly format: ImportFormat;
  readonly value: string;
  readonly sha256: string;
}

export interface SpecResolver {
  resolve(source: SpecSource): Promise<ResolvedSpec>;
}

/** Parses and validates a document, and shapes it for an inline APIM import (Swagger 2.0 YAML becomes JSON). */
async function toImport(text: string, where: string): Promise<ResolvedSpec> {
  const parsed = parseDocument(text);
  if (!parsed.ok)
    throw new PermanentError(`spec.specification (${where}): ${parsed.message}`, { reason: 'InvalidOpenApiDocument' });
  const validated = await validateDocument(parsed);
  if (!validated.ok)
    throw new PermanentError(`spec.specification (${where}): ${validated.message}`, {
      reason: 'InvalidOpenApiDocument',
    });
  const value = parsed.needsJsonConversion ? JSON.stringify(parsed.document) : text;
  if (Buffer.byteLength(value) > MAX_INLINE_IMPORT_BYTES)
    throw new PermanentError(
      `spec.specification (${where}): the document is larger than the 4 MiB APIM imports inline`,
      { reason: 'InvalidOpenApiDocument' },
    );
  return { format: parsed.format, value, sha256: createHash('sha256').update(value).digest('hex') };
}

/**
 * The document to import, fetched by the reconciler itself: APIM could not
 * reach a URL inside the cluster, and the import must not depend on whether
 * it can. URLs are revalidated with ETag / Last-Modified, so an unchanged
 * document costs a 304 on resync. A transient fetch failure retries; a
 * definitive one (404, refused address, invalid document) waits for a change.
 */
export function createSpecResolver(fetcher: SpecFetcher, bounds: CacheBounds): SpecResolver {
  // The entries hold whole documents (up to 4 MiB each): the byte bound is what keeps memory in check.
  const byUrl = boundedCache<{ validators: Validators; textSha: string; spec: ResolvedSpec }>(
    bounds,
    (entry, url) => url.length + entry.textSha.length + Buffer.byteLength(entry.spec.value),
  );
  // Many ExposedAPIs often name one document (a burst of a component's APIs): one fetch and one validation serve them all.
  const inFlight = new Map<string, Promise<ResolvedSpec>>();
  const fromUrl = async (url: string): Promise<ResolvedSpec> => {
    const cached = byUrl.get(url);
    const result = await fetcher.fetch(url, cached?.validators);
    if (result.outcome === 'not-modified' && cached) return cached.spec;
    if (result.outcome === 'ok') {
      // A server without ETag or Last-Modified sends the same bytes again: no need to validate them again.
      const textSha = createHash('sha256').update(result.text).digest('hex');
      const spec = cached?.textSha === textSha ? cached.spec : await toImport(result.text, url);
      byUrl.set(url, { validators: result.validators, textSha, spec });
      return spec;
    }
    if (result.outcome === 'not-modified')
      throw new RetryableError(`spec.specification: ${url} answered 304 to a request that was not conditional`);
    if (result.transient) throw new RetryableError(`spec.specification: ${result.message}`);
    throw new PermanentError(`spec.specification: ${result.message}`, { reason: 'OpenApiDocumentUnavailable' });
  };
  // An inline document is parsed and validated once per content, not once per reconcile: a burst of ExposedAPIs
  // carrying one large document would otherwise hold a parsed copy per running reconcile.
  // A space cannot appear in a URL, so these keys never meet a URL's.
  const inlineKey = (textSha: string) => `inline ${textSha}`;
  const fromText = async (text: string, textSha: string): Promise<ResolvedSpec> => {
    const cacheKey = inlineKey(textSha);
    const cached = byUrl.get(cacheKey);
    if (cached) return cached.spec;
    const spec = await toImport(text, 'inline document');
    byUrl.set(cacheKey, { validators: {}, textSha, spec });
    return spec;
  };
  const once = (key: string, resolve: () => Promise<ResolvedSpec>): Promise<ResolvedSpec> => {
    const running = inFlight.get(key);
    if (running) return running;
    const next = resolve().finally(() => inFlight.delete(key));
    inFlight.set(key, next);
    return next;
  };
  return {
    async resolve(source) {
      if (source.kind === 'url') return once(source.url, () => fromUrl(source.url));
      const textSha = createHash('sha256').update(source.text).digest('hex');
      return once(inlineKey(textSha), () => fromText(source.text, textSha));
    },
  };
}
