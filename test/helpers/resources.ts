import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * Public ODA resources and TM Forum documents live beside the repository, in
 * ../shared/fixtures (oda/ and specs/), which CI and every developer have; the
 * repository carries no copies. ODA_FIXTURES points elsewhere.
 */
const SHARED_FIXTURES =
  process.env.ODA_FIXTURES ?? fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));

/** The path of a shared fixture by file name, found in oda/ or specs/. */
export function fixturePath(name: string): string {
  for (const folder of ['oda', 'specs', '.']) {
    const path = join(SHARED_FIXTURES, folder, name);
    if (existsSync(path)) return path;
  }
  throw new Error(
    `fixture ${name} not found under ${SHARED_FIXTURES} (oda/ or specs/): the shared fixtures sit beside the repository, or set ODA_FIXTURES`,
  );
}

export function fixtureText(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

/** A fixture ExposedAPI, with a namespace (the cluster ones have one; the example does not). */
export function fixtureObject(name: string): Record<string, any> {
  const object = parse(fixtureText(name));
  object.metadata.namespace ??= 'components';
  return object;
}

/** A minimal valid ExposedAPI of the given version, with spec fields overridden. */
export function exposedApi(
  spec: Record<string, unknown> = {},
  options: { version?: string; name?: string; namespace?: string; metadata?: Record<string, unknown> } = {},
): Record<string, any> {
  const version = options.version ?? 'v1';
  return {
    apiVersion: `oda.tmforum.org/${version}`,
    kind: 'ExposedAPI',
    metadata: {
      name: options.name ?? 'r1-productcatalog',
      namespace: options.namespace ?? 'components',
      ...options.metadata,
    },
    spec: {
      name: 'productcatalog',
      apiType: 'openapi',
      implementation: 'r1-prodcatapi',
      path: '/r1/tmf-api/productCatalogManagement/v4',
      port: 8080,
      ...spec,
    },
  };
}

/** The seed operator's v1beta3 form: inline OpenAPI text, rateLimit {limit, period}, CORS lists. */
export function seedExposedApi(spec: Record<string, unknown> = {}): Record<string, any> {
  return {
    apiVersion: 'oda.tmforum.org/v1beta3',
    kind: 'ExposedAPI',
    metadata: { name: 'seed-api', namespace: 'default' },
    spec: {
      path: '/product-catalog',
      implementation: 'product-catalog',
      port: 8080,
      specification: 'openapi: 3.0.3\ninfo:\n  title: Seed\n  version: "1"\npaths: {}\n',
      rateLimit: { limit: 100, period: 60 },
      CORS: {
        allowOrigins: ['https://app.example.com'],
        allowMethods: ['GET', 'POST'],
        allowHeaders: ['Content-Type'],
        exposeHeaders: ['X-Total-Count'],
        maxAge: 600,
        allowCredentials: true,
      },
      ...spec,
    },
  };
}
