/**
 * Turning validator findings into the short, located messages a `kubectl apply`
 * user reads: `paths./hub.post.responses.201: must have required property 'description'`.
 */

export const MAX_PROBLEMS = 5;
export const MAX_PROBLEM_LENGTH = 200;

/** The subset of an Ajv error this module reads. */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

const ROOT = '(document root)';

/** `#/paths/~1hub/post` or `/paths/~1hub/post` → `paths./hub.post`. */
export function pointerToLocation(pointer: string): string {
  const path = pointer.replace(/^#/, '');
  if (path === '' || path === '/') return ROOT;
  return locationOf(path.slice(1).split('/').map(unescapeToken));
}

export function locationOf(segments: readonly string[]): string {
  return segments.length === 0 ? ROOT : segments.join('.');
}

function unescapeToken(token: string): string {
  let decoded = token;
  try {
    decoded = decodeURIComponent(token);
  } catch {
    // A malformed escape stays as written: the location is for humans only.
  }
  return decoded.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** One line per problem, truncated, duplicates dropped, at most MAX_PROBLEMS. */
export function summarise(problems: readonly string[]): string {
  const unique = [...new Set(problems.map((problem) => truncate(problem)))];
  const shown = unique.slice(0, MAX_PROBLEMS);
  const more = unique.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : '');
}

export function truncate(text: string, max = MAX_PROBLEM_LENGTH): string {
  const single = text.replace(/\s+/g, ' ').trim();
  return single.length <= max ? single : `${single.slice(0, max - 1)}…`;
}

/**
 * Ajv reports every branch of a failed `oneOf`: the Reference Object branch
 * ("must have required property '$ref'") and the summary line are noise next
 * to the specific finding, so they are shown only when nothing better exists.
 */
export function schemaProblems(errors: readonly SchemaError[]): string[] {
  const specific = errors.filter((error) => !isNoise(error));
  return (specific.length > 0 ? specific : errors).map(describe);
}

function isNoise(error: SchemaError): boolean {
  if (['oneOf', 'anyOf', 'not', 'if', 'then', 'else', '$dynamicRef'].includes(error.keyword)) return true;
  return error.keyword === 'required' && error.params.missingProperty === '$ref';
}

function describe(error: SchemaError): string {
  const message = error.message ?? `fails ${error.keyword}`;
  return `${pointerToLocation(error.instancePath)}: ${message}${detail(error)}`;
}

function detail(error: SchemaError): string {
  const { additionalProperty, allowedValues, unevaluatedProperty } = error.params;
  const extra = additionalProperty ?? unevaluatedProperty;
  if (typeof extra === 'string') return ` (${JSON.stringify(extra)})`;
  if (Array.isArray(allowedValues)) return ` (${allowedValues.map((value) => JSON.stringify(value)).join(', ')})`;
  return '';
}

/**
 * swagger-parser's Swagger 2.0 checks name places as `/paths/pets/{id}/get`;
 * rewritten to the same `paths./pets/{id}.get` form as every other message.
 */
export function specValidatorProblem(message: string): string {
  const text = message.replace(/^Validation failed\.\s*/, '');
  const located = /^(\/paths\/?.*?)\/(get|put|post|delete|options|head|patch)((?:\/[^\s]*)?) (.*)$/s.exec(text);
  if (located) {
    const [, pathPart = '', method = '', rest = '', description = ''] = located;
    const tail = rest ? `.${rest.slice(1).split('/').join('.')}` : '';
    return `paths.${pathPart.slice('/paths'.length) || '/'}.${method}${tail}: ${description}`;
  }
  return text;
}
