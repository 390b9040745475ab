import type { CorsT } from './schema.ts';
import { problem, type Problem } from './problems.ts';
import { isHeaderToken, isMethodToken, isOrigin, splitCsv } from './tokens.ts';

/** The CRD's stated defaults for the ODA form of `spec.CORS`. */
export const CORS_DEFAULTS = Object.freeze({
  allowOrigins: '*',
  allowHeaders:
    'Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, Access-Control-Request-Headers',
  allowMethods: 'GET, POST, HEAD, OPTIONS',
  maxAge: 1800,
});

/** The seed's CORS form uses lists and has no `enabled`: its presence turns CORS on. */
export function isSeedCors(cors: CorsT): boolean {
  return (
    Array.isArray(cors.allowOrigins) ||
    cors.allowMethods !== undefined ||
    cors.allowHeaders !== undefined ||
    cors.exposeHeaders !== undefined
  );
}

export function corsIsOn(cors: CorsT): boolean {
  return cors.enabled === true || (cors.enabled === undefined && isSeedCors(cors));
}

/** The CORS settings of either form, defaults applied, as the lists the cors policy needs. */
export function effectiveCors(cors: CorsT): {
  origins: string[];
  methods: string[];
  headers: string[];
  exposeHeaders: string[];
  maxAge: number;
  credentials: boolean;
  preflight: boolean;
} {
  const preflight = cors.handlePreflightRequests ?? {};
  return {
    origins: splitCsv(cors.allowOrigins ?? CORS_DEFAULTS.allowOrigins),
    methods: splitCsv(cors.allowMethods ?? preflight.allowMethods ?? CORS_DEFAULTS.allowMethods),
    headers: splitCsv(cors.allowHeaders ?? preflight.allowHeaders ?? CORS_DEFAULTS.allowHeaders),
    exposeHeaders: splitCsv(cors.exposeHeaders ?? []),
    maxAge: cors.maxAge ?? preflight.maxAge ?? CORS_DEFAULTS.maxAge,
    credentials: cors.allowCredentials === true,
    preflight: preflight.enabled ?? true,
  };
}

const listField = (
  cors: CorsT,
  seedKey: 'allowMethods' | 'allowHeaders',
  odaKey: 'allowMethods' | 'allowHeaders',
): string => (cors[seedKey] !== undefined ? `spec.CORS.${seedKey}` : `spec.CORS.handlePreflightRequests.${odaKey}`);

/**
 * Every CORS value reaches the cors policy XML, so each is checked for what it
 * is: origins are `*` or `scheme://host[:port]`, methods are method tokens,
 * headers are header tokens. A `*` origin with credentials is refused: browsers
 * reject it, and APIM's behaviour with it is not one to rely on.
 */
export function checkCors(cors: CorsT): Problem[] {
  if (!corsIsOn(cors)) return [];
  const problems: Problem[] = [];
  const e = effectiveCors(cors);
  const bad = (items: string[], ok: (s: string) => boolean): string[] => items.filter((s) => s !== '*' && !ok(s));
  const badOrigins = bad(e.origins, isOrigin);
  if (badOrigins.length > 0) {
    problems.push(
      problem(
        'spec.CORS.allowOrigins',
        `each origin must be "*" or scheme://host[:port] (http or https, no path), got ${badOrigins.map((o) => JSON.stringify(o)).join(', ')}`,
      ),
    );
  }
  if (e.origins.includes('*') && e.origins.length > 1)
    problems.push(problem('spec.CORS.allowOrigins', 'use "*" alone or list the origins, not both'));
  if (e.origins.includes('*') && e.credentials) {
    problems.push(
      problem(
        'spec.CORS.allowOrigins',
        'is "*" (the default) while allowCredentials is true: browsers refuse this; list the allowed origins or set allowCredentials: false',
      ),
    );
  }
  const badMethods = bad(e.methods, isMethodToken);
  if (badMethods.length > 0)
    problems.push(
      problem(
        listField(cors, 'allowMethods', 'allowMethods'),
        `each method must be an HTTP method name such as GET, got ${badMethods.map((m) => JSON.stringify(m)).join(', ')}`,
      ),
    );
  const badHeaders = bad(e.headers, isHeaderToken);
  if (badHeaders.length > 0)
    problems.push(
      problem(
        listField(cors, 'allowHeaders', 'allowHeaders'),
        `each header must be an HTTP header name, got ${badHeaders.map((h) => JSON.stringify(h)).join(', ')}`,
      ),
    );
  const badExpose = bad(e.exposeHeaders, isHeaderToken);
  if (badExpose.length > 0)
    problems.push(
      problem(
        'spec.CORS.exposeHeaders',
        `each header must be an HTTP header name, got ${badExpose.map((h) => JSON.stringify(h)).join(', ')}`,
      ),
    );
  return problems;
}
