import SwaggerParser from '@apidevtools/swagger-parser';
import { isPlainObject, type ImportFormat, type OpenApiKind, type ParsedDocument } from './parse-document.ts';
import { listOperations, operationProblems, operationWarnings } from './operation-checks.ts';
import { pointerToLocation, schemaProblems, specValidatorProblem, summarise, truncate } from './problems.ts';
import { expandedSize, refProblems } from './ref-checks.ts';
import { schemaCheckFor, swagger2SpecCheck } from './schema-validators.ts';

export interface ValidationOk {
  ok: true;
  kind: OpenApiKind;
  openapiVersion: string;
  title?: string;
  version?: string;
  format: ImportFormat;
  operationCount: number;
  warnings: string[];
}

export interface ValidationFailed {
  ok: false;
  message: string;
  transient: false;
}

export type ValidationResult = ValidationOk | ValidationFailed;

/**
 * About 20 times what TMF620 expands to (52 thousand nodes). swagger-parser
 * dereferences about a million nodes a second, so this bounds a hostile
 * document to about a second of the admission budget.
 */
export const MAX_EXPANDED_NODES = 1_000_000;

/**
 * Hundreds of times a real API's path templates (TMF620 has 20). Each is an
 * APIM operation set to route; validating 100,000 would hold the webhook for
 * seconds, so the count is checked before any validator runs.
 */
export const MAX_PATHS = 10_000;

/**
 * No resolver may run: external `$ref`s are refused before the library sees
 * the document, and these options make sure nothing could read a file or URL
 * even if one slipped through.
 */
const NO_EXTERNAL_RESOLUTION = { resolve: { external: false, file: false, http: false } } as const;

/**
 * Validates a parsed document the way `SwaggerParser.validate` does (schema and
 * spec checks, internal `$ref`s resolved), plus operation checks for every
 * kind. The caller's object is left untouched: the library dereferences in place.
 */
export async function validateDocument(parsed: ParsedDocument): Promise<ValidationResult> {
  try {
    const early = [...structureProblems(parsed), ...refProblems(parsed.document)];
    if (early.length > 0) return failed(early);
    if (expandedSize(parsed.document, MAX_EXPANDED_NODES) >= MAX_EXPANDED_NODES) {
      return failed([
        `(document root): its $refs expand to more than ${MAX_EXPANDED_NODES} nodes; such a document is refused to protect the webhook`,
      ]);
    }
    const dereferenced = await dereference(parsed.document);
    if (!dereferenced.ok) return dereferenced;
    const schemaCheck = schemaCheckFor(parsed.kind);
    if (!schemaCheck(dereferenced.api)) return failed(schemaProblems(schemaCheck.errors ?? []));
    const operations = listOperations(dereferenced.api, parsed.kind);
    const problems = operationProblems(operations);
    if (problems.length > 0) return failed(problems);
    if (parsed.kind === 'swagger2') {
      const specProblem = await swagger2Problem(parsed.document, dereferenced);
      if (specProblem) return failed([specProblem]);
    }
    return succeeded(parsed, operations.length, [...operationWarnings(operations), ...versionWarnings(parsed)]);
  } catch (error) {
    // A defect or resource limit inside a validator must deny, not crash admission.
    return failed([`the document could not be validated: ${error instanceof Error ? error.message : String(error)}`]);
  }
}

/** What swagger-parser's own parse step would reject with a less helpful message. */
function structureProblems({ document, kind }: ParsedDocument): string[] {
  const problems: string[] = [];
  const paths = isPlainObject(document.paths) ? Object.keys(document.paths).length : 0;
  if (paths > MAX_PATHS)
    return [
      `paths: has ${paths} path templates, more than the ${MAX_PATHS} one API may have: split it into several APIs`,
    ];
  const info = document.info;
  if (isPlainObject(info) && typeof info.version === 'number') {
    problems.push(`info.version: must be a string such as "${info.version}.0", not a number (quote it)`);
  }
  if (kind === 'openapi3.0' && document.paths === undefined)
    problems.push("(document root): must have required property 'paths'");
  if (kind === 'openapi3.1' && document.paths === undefined && document.webhooks === undefined) {
    problems.push("(document root): must have property 'paths' or 'webhooks'");
  }
  return problems;
}

type Dereferenced = { ok: true; api: Record<string, unknown>; circular: boolean } | ValidationFailed;

async function dereference(document: Record<string, unknown>): Promise<Dereferenced> {
  const parser = new SwaggerParser();
  try {
    // Circular $refs stay as $ref objects: Ajv cannot walk a cyclic graph.
    const options = { ...NO_EXTERNAL_RESOLUTION, dereference: { circular: 'ignore' as const } };
    const api = await parser.dereference(structuredClone(document) as never, options);
    return { ok: true, api: api as unknown as Record<string, unknown>, circular: parser.$refs.circular };
  } catch (error) {
    return failed([dereferenceProblem(error)]);
  }
}

function dereferenceProblem(error: unknown): string {
  const details = error as { parentPath?: unknown; targetRef?: unknown; message?: unknown };
  if (typeof details.parentPath === 'string' && typeof details.targetRef === 'string') {
    return `${pointerToLocation(details.parentPath)}: $ref ${JSON.stringify(details.targetRef)} cannot be resolved`;
  }
  return `$ref resolution failed: ${String(details.message ?? error)}`;
}

/**
 * The library's Swagger 2.0 checks follow `allOf` parents; where those are
 * circular they are still `$ref` objects here, so such documents are fully
 * dereferenced again first, as `SwaggerParser.validate` does.
 */
async function swagger2Problem(
  document: Record<string, unknown>,
  dereferenced: { api: object; circular: boolean },
): Promise<string | undefined> {
  let api: object = dereferenced.api;
  if (dereferenced.circular)
    api = await new SwaggerParser().dereference(structuredClone(document) as never, NO_EXTERNAL_RESOLUTION);
  try {
    swagger2SpecCheck()(api);
    return undefined;
  } catch (error) {
    return specValidatorProblem(error instanceof Error ? error.message : String(error));
  }
}

function versionWarnings({ kind, openapiVersion }: ParsedDocument): string[] {
  if (kind === 'openapi3.1')
    return [
      `OpenAPI ${openapiVersion}: API Management imports OpenAPI 3.1 with limitations; check the imported operations`,
    ];
  if (kind === 'openapi3.0' && !/^3\.0\.[0-3]$/.test(openapiVersion)) {
    return [`OpenAPI ${openapiVersion}: API Management supports OpenAPI 3.0 up to 3.0.3`];
  }
  return [];
}

function succeeded(parsed: ParsedDocument, operationCount: number, warnings: string[]): ValidationOk {
  const info = isPlainObject(parsed.document.info) ? parsed.document.info : {};
  const result: ValidationOk = {
    ok: true,
    kind: parsed.kind,
    openapiVersion: parsed.openapiVersion,
    format: parsed.format,
    operationCount,
    warnings: warnings.map((warning) => truncate(warning)),
  };
  if (typeof info.title === 'string') result.title = truncate(info.title);
  if (typeof info.version === 'string') result.version = truncate(info.version);
  return result;
}

function failed(problems: readonly string[]): ValidationFailed {
  return { ok: false, message: summarise(problems), transient: false };
}
