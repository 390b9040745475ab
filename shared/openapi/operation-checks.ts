import { isPlainObject, type OpenApiKind } from './parse-document.ts';

/**
 * Checks on operations that the JSON schemas cannot express and that
 * swagger-parser makes for Swagger 2.0 only. APIM derives operation names from
 * `operationId` and routes by path template, so both must be sound for every
 * kind. Works on the dereferenced document (parameters may be `$ref`s).
 */

const METHODS_V2 = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];
const METHODS_V3 = [...METHODS_V2, 'trace'];

export interface Operation {
  path: string;
  method: string;
  operation: Record<string, unknown>;
  pathItem: Record<string, unknown>;
}

export function listOperations(document: Record<string, unknown>, kind: OpenApiKind): Operation[] {
  const paths = document.paths;
  if (!isPlainObject(paths)) return [];
  const methods = kind === 'swagger2' ? METHODS_V2 : METHODS_V3;
  const operations: Operation[] = [];
  for (const [path, pathItem] of Object.entries(paths)) {
    if (!isPlainObject(pathItem)) continue;
    for (const method of methods) {
      const operation = pathItem[method];
      if (isPlainObject(operation)) operations.push({ path, method, operation, pathItem });
    }
  }
  return operations;
}

export function operationProblems(operations: readonly Operation[]): string[] {
  return [...operations.flatMap(pathParameterProblems), ...duplicateIdProblems(operations)];
}

export function operationWarnings(operations: readonly Operation[]): string[] {
  if (operations.length === 0) return ['the document defines no operations: the API will have nothing to call'];
  const unnamed = operations.filter(({ operation }) => typeof operation.operationId !== 'string').length;
  if (unnamed === 0) return [];
  return [`${unnamed} of ${operations.length} operations have no operationId: API Management will make up their names`];
}

function pathParameterProblems({ path, method, operation, pathItem }: Operation): string[] {
  const where = `paths.${path}.${method}`;
  const placeholders = [...path.matchAll(/\{([^{}]+)\}/g)].map((match) => match[1]!);
  const declared = new Set(pathParameters(pathItem, operation));
  const problems: string[] = [];
  for (const name of placeholders) {
    if (!declared.has(name)) problems.push(`${where}: path parameter {${name}} is not declared in parameters`);
  }
  for (const name of declared) {
    if (!placeholders.includes(name))
      problems.push(`${where}: parameter "${name}" is "in: path" but the path has no {${name}}`);
  }
  return problems;
}

/** Operation-level parameters override path-level ones with the same name and location. */
function pathParameters(pathItem: Record<string, unknown>, operation: Record<string, unknown>): string[] {
  const all = [...asArray(pathItem.parameters), ...asArray(operation.parameters)];
  return all
    .filter((parameter) => isPlainObject(parameter) && parameter.in === 'path' && typeof parameter.name === 'string')
    .map((parameter) => (parameter as { name: string }).name);
}

function duplicateIdProblems(operations: readonly Operation[]): string[] {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const { path, method, operation } of operations) {
    const id = operation.operationId;
    if (typeof id !== 'string') continue;
    const first = seen.get(id);
    if (first) problems.push(`paths.${path}.${method}.operationId: "${id}" is already used by ${first}`);
    else seen.set(id, `paths.${path}.${method}`);
  }
  return problems;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
