import { Ajv, type ErrorObject } from 'ajv';
import { ExposedApiObject } from './schema.ts';
import { excerpt, fieldFromPointer, problem, type Problem } from './problems.ts';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
ajv.addKeyword({ keyword: 'x-message', schemaType: 'string' });
const validateObject = ajv.compile(ExposedApiObject);

/**
 * Structural check of a whole ExposedAPI object against the schema, with each
 * error turned into `field: what is expected, got <value>`.
 */
export function checkSchema(object: unknown): Problem[] {
  if (validateObject(object)) return [];
  const errors = validateObject.errors ?? [];
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const error of errors) {
    // Errors inside a union's branches restate the union's own error, which says it better.
    if (error.schemaPath.includes('/anyOf/')) continue;
    const p = translate(error);
    const id = `${p.field}\u0000${p.message}`;
    if (!seen.has(id)) {
      seen.add(id);
      problems.push(p);
    }
  }
  return problems;
}

function translate(error: ErrorObject): Problem {
  const field = fieldFromPointer(error.instancePath);
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return problem(field ? `${field}.${missing}` : missing, 'is required');
  }
  const hint = (error.parentSchema as Record<string, unknown> | undefined)?.['x-message'];
  const message = typeof hint === 'string' ? hint : (error.message ?? 'is not valid');
  return problem(field, `${message}, got ${excerpt(error.data)}`);
}
