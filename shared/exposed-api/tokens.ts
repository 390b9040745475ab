/**
 * What values that reach APIM policy XML or Kubernetes names may look like.
 * XML escaping alone cannot stop APIM from evaluating `@(...)` or `@{...}` as
 * C# policy expressions, so every such value is checked for what it is here,
 * at admission, and nothing else gets through.
 */

/** RFC 9110 token: the characters of an HTTP method or header name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header name that is also safe inside a C# string literal in a counter-key expression. */
const PLAIN_HEADER = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const METHOD = /^[A-Za-z][A-Za-z0-9-]*$/;
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)$/;
/** Kubernetes Service names are DNS-1035 labels. */
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** APIM policy fragment ids (like named values: letters, digits, `-`, `.`, `_`). */
const FRAGMENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
/** URL path characters we publish: unreserved plus `/`; no dot segments, no `//`. */
const PATH_SEGMENT = /^[A-Za-z0-9._~-]+$/;

export const MAX_PATH_LENGTH = 400;

export function splitCsv(value: string | readonly string[]): string[] {
  const items = typeof value === 'string' ? value.split(',') : value;
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

export const isHeaderToken = (s: string): boolean => TOKEN.test(s) && s.length <= 256;
export const isPlainHeaderName = (s: string): boolean => PLAIN_HEADER.test(s) && s.length <= 256;
export const isMethodToken = (s: string): boolean => METHOD.test(s) && s.length <= 32;
export const isServiceName = (s: string): boolean => DNS_1035.test(s) && s.length <= 63;
export const isFragmentId = (s: string): boolean => FRAGMENT_ID.test(s);

/** A CORS origin: `scheme://host[:port]`, http or https, nothing after. */
export function isOrigin(s: string): boolean {
  const m = /^(https?):\/\/([^/?#]+)$/.exec(s);
  if (!m) return false;
  const authority = m[2] ?? '';
  const port = /:(\d{1,5})$/.exec(authority);
  const host = port ? authority.slice(0, -port[0].length) : authority;
  if (port && Number(port[1]) > 65535) return false;
  return HOST.test(host);
}

/** Why a path cannot be published, or undefined when it can. */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must start with "/"';
  if (path.length > MAX_PATH_LENGTH) return `must be at most ${MAX_PATH_LENGTH} characters (the APIM limit)`;
  const segments = path.replace(/\/$/, '').split('/').slice(1);
  if (segments.length === 0 || segments[0] === '')
    return 'must not be the root path "/": give the API a path of its own, e.g. "/my-component/my-api/v1"';
  for (const segment of segments) {
    if (segment === '') return 'must not contain "//"';
    if (segment === '.' || segment === '..') return 'must not contain "." or ".." segments';
    if (!PATH_SEGMENT.test(segment))
      return `may contain only letters, digits, "-", ".", "_", "~" and "/", got segment ${JSON.stringify(segment)}`;
  }
  return undefined;
}

/** True for text that APIM would evaluate as a policy expression, wherever it stands. */
export function looksLikePolicyExpression(s: string): boolean {
  return /@[({]/.test(s);
}

export function isHttpUrl(s: string): boolean {
  try {
    const url = new URL(s);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}
