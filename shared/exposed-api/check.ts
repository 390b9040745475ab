import { checkSchema } from './check-schema.ts';
import { checkRules, type CheckOptions } from './rules.ts';
import { normalise } from './normalise.ts';
import type { ExposedApiObjectT } from './schema.ts';
import type { ExposedApi } from './model.ts';
import type { Findings } from './problems.ts';

export type CheckResult = Findings;

/**
 * Every local check of one ExposedAPI object: the schema and the rules, all
 * problems at once. No I/O: the OpenAPI document and path uniqueness are
 * checked by the callers that have the means to.
 */
export function checkExposedApi(object: unknown, options: CheckOptions = {}): CheckResult {
  const schemaProblems = checkSchema(object);
  const broken = (field: string): boolean =>
    schemaProblems.some((p) => p.field === field || p.field.startsWith(`${field}.`) || p.field.startsWith(`${field}[`));
  const rules = checkRules(object, broken, options);
  const problems = [...schemaProblems, ...rules.problems].sort((a, b) => a.field.localeCompare(b.field));
  return { problems, warnings: rules.warnings };
}

/** The checked object in the one internal shape, or the problems that keep it from having one. */
export function checkAndNormalise(
  object: unknown,
  options: CheckOptions = {},
): { model: ExposedApi; warnings: readonly string[] } | Findings {
  const findings = checkExposedApi(object, options);
  return findings.problems.length > 0
    ? findings
    : { model: normalise(object as ExposedApiObjectT), warnings: findings.warnings };
}
