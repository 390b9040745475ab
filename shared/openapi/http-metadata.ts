import type { IncomingHttpHeaders } from 'node:http';

// What the URL cache needs from response headers: validators and freshness.

/** What a later conditional request sends back. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

/** From Cache-Control: `max-age` (0 for `no-cache`) and `no-store`. */
export interface Freshness {
  maxAgeSeconds?: number;
  noStore: boolean;
}

export function validatorsOf(headers: IncomingHttpHeaders): Validators {
  const validators: Validators = {};
  const etag = header(headers, 'etag');
  const lastModified = header(headers, 'last-modified');
  if (etag) validators.etag = etag;
  if (lastModified) validators.lastModified = lastModified;
  return validators;
}

export function freshnessOf(headers: IncomingHttpHeaders): Freshness {
  const directives = (header(headers, 'cache-control') ?? '')
    .toLowerCase()
    .split(',')
    .map((part) => part.trim());
  const freshness: Freshness = { noStore: directives.includes('no-store') };
  const maxAge = directives
    .map((directive) => /^max-age="?(\d+)"?$/.exec(directive)?.[1])
    .find((value) => value !== undefined);
  if (maxAge !== undefined) freshness.maxAgeSeconds = Number(maxAge);
  if (directives.includes('no-cache')) freshness.maxAgeSeconds = 0;
  return freshness;
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
