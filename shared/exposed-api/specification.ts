import type { SpecificationT } from './schema.ts';

/** Where the OpenAPI document of an ExposedAPI comes from. */
export type SpecSource =
  | { readonly kind: 'url'; readonly url: string; readonly version?: string }
  | { readonly kind: 'inline'; readonly text: string };

/** A string is a URL when it is one line that starts with a scheme; anything else is an inline document. */
function fromString(text: string): SpecSource {
  return /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(text.trim())
    ? { kind: 'url', url: text.trim() }
    : { kind: 'inline', text };
}

/**
 * Every form of `spec.specification` as a list of sources, in the order given:
 * a URL or inline string (v1beta3 seed), a list of URLs (v1beta3), `{url, version}`
 * (v1) or a list of them (v1beta4, and what real v1 objects carry).
 */
export function specSources(spec: SpecificationT | undefined): SpecSource[] {
  if (spec === undefined) return [];
  const items = Array.isArray(spec) ? spec : [spec];
  return items.map((item) =>
    typeof item === 'string'
      ? fromString(item)
      : { kind: 'url', url: item.url.trim(), ...(item.version ? { version: item.version } : {}) },
  );
}
