import { parse as parseYaml } from 'yaml';
import { shapeOf } from '../nesting.ts';

export type OpenApiKind = 'swagger2' | 'openapi3.0' | 'openapi3.1';
/** The APIM import formats for inline content (the reconciler derives the `-link` forms). */
export type ImportFormat = 'swagger-json' | 'openapi' | 'openapi+json';
export type SourceSyntax = 'json' | 'yaml';

export interface ParsedDocument {
  ok: true;
  document: Record<string, unknown>;
  kind: OpenApiKind;
  /** `swagger` or `openapi` as written, e.g. "2.0", "3.0.1". */
  openapiVersion: string;
  syntax: SourceSyntax;
  format: ImportFormat;
  /** APIM takes Swagger 2.0 as JSON only: YAML text must be converted before import. */
  needsJsonConversion: boolean;
}

export interface ParseFailed {
  ok: false;
  message: string;
  transient: false;
}

/**
 * YAML aliases can expand exponentially ("billion laughs"); real OpenAPI
 * documents use a handful at most.
 */
export const YAML_MAX_ALIAS_COUNT = 100;

const NOT_OPENAPI = 'is not an OpenAPI document: it has neither `openapi: 3.x` nor `swagger: "2.0"`';

/** Parses JSON or YAML 1.2 text and recognises Swagger 2.0, OpenAPI 3.0 and 3.1. */
export function parseDocument(text: string): ParsedDocument | ParseFailed {
  const source = text.replace(/^\uFEFF/, '');
  if (source.trim() === '') return failed('the specification is empty');
  const parsed = parseText(source);
  if (!parsed.ok) return parsed;
  const { value, syntax } = parsed;
  if (!isPlainObject(value)) return failed(`the specification ${NOT_OPENAPI} (it is not a mapping)`);
  const shapeProblem = checkShape(value);
  if (shapeProblem) return failed(shapeProblem);
  const version = recogniseVersion(value);
  if (!version.ok) return version;
  return {
    ok: true,
    document: value,
    kind: version.kind,
    openapiVersion: version.openapiVersion,
    syntax,
    ...importFormat(version.kind, syntax),
  };
}

/** The inline import format APIM needs for a document of this kind written in this syntax. */
export function importFormat(
  kind: OpenApiKind,
  syntax: SourceSyntax,
): { format: ImportFormat; needsJsonConversion: boolean } {
  if (kind === 'swagger2') return { format: 'swagger-json', needsJsonConversion: syntax === 'yaml' };
  return { format: syntax === 'json' ? 'openapi+json' : 'openapi', needsJsonConversion: false };
}

type Parsed = { ok: true; value: unknown; syntax: SourceSyntax } | ParseFailed;

function parseText(source: string): Parsed {
  // JSON.parse is two orders of magnitude faster than the YAML parser on large documents.
  if (/^\s*[{[]/.test(source)) {
    try {
      return { ok: true, value: JSON.parse(source), syntax: 'json' };
    } catch {
      // YAML flow style also starts with a brace: let the YAML parser decide and report.
    }
  }
  try {
    return {
      ok: true,
      value: parseYaml(source, { maxAliasCount: YAML_MAX_ALIAS_COUNT, prettyErrors: true }),
      syntax: 'yaml',
    };
  } catch (error) {
    return failed(`the specification is neither valid JSON nor valid YAML: ${yamlMessage(error)}`);
  }
}

function yamlMessage(error: unknown): string {
  if (error instanceof ReferenceError && /alias/i.test(error.message)) {
    return `it uses too many YAML aliases (more than ${YAML_MAX_ALIAS_COUNT} expansions)`;
  }
  const message = error instanceof Error ? error.message : String(error);
  // yaml's pretty errors append a source excerpt after the first line; the position is enough.
  return (message.split('\n')[0] ?? '').replace(/:\s*$/, '').slice(0, 200);
}

type Version = { ok: true; kind: OpenApiKind; openapiVersion: string } | ParseFailed;

function recogniseVersion(document: Record<string, unknown>): Version {
  const { swagger, openapi } = document;
  if (swagger !== undefined) {
    if (swagger === '2.0') return { ok: true, kind: 'swagger2', openapiVersion: '2.0' };
    if (typeof swagger === 'number')
      return failed('swagger: the version must be the string "2.0", not a number (quote it)');
    return failed(`swagger: version ${JSON.stringify(swagger)} is not supported, only "2.0" is`);
  }
  if (openapi !== undefined) {
    if (typeof openapi === 'number')
      return failed('openapi: the version must be a string such as "3.0.3", not a number (quote it)');
    if (typeof openapi === 'string' && /^3\.0\.\d+$/.test(openapi))
      return { ok: true, kind: 'openapi3.0', openapiVersion: openapi };
    if (typeof openapi === 'string' && /^3\.1\.\d+$/.test(openapi))
      return { ok: true, kind: 'openapi3.1', openapiVersion: openapi };
    return failed(`openapi: version ${JSON.stringify(openapi).slice(0, 40)} is not supported (3.0.x and 3.1.x are)`);
  }
  return failed(`the specification ${NOT_OPENAPI}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Real documents nest a few dozen levels; the limit keeps every later walk off the stack limit. */
export const MAX_NESTING_DEPTH = 500;

/**
 * Recursive YAML aliases make a cyclic graph that neither JSON nor APIM can
 * represent, and absurd nesting would overflow recursive walkers later on.
 */
function checkShape(root: object): string | undefined {
  const shape = shapeOf(root, MAX_NESTING_DEPTH);
  if (!shape) return undefined;
  const at = shape.field ? ` at ${shape.field}` : '';
  return shape.problem === 'cycle'
    ? `the specification contains a recursive YAML alias${at}`
    : `the specification is nested more than ${MAX_NESTING_DEPTH} levels deep${at}`;
}

function failed(message: string): ParseFailed {
  return { ok: false, message, transient: false };
}
