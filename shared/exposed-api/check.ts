import { checkSchema } from './check-schema.ts';
import { checkRules, type CheckOptions } from './rules.ts';
import { normalise } from './normalise.ts';
import { withoutBlanks } from './blanks.ts';
import { tooDeeplyNested } from './nesting.ts';
import type { ExposedApiObjectT } from './schema.ts';
import type { ExposedApi } from './model.ts';
import type { Findings, Problem } from './problems.ts';

export interface CheckResult extends Findings {
  /** The object as every later step reads it: without its blank optional values (see blanks.ts). */
  readonly checked: unknown;
}

/** One problem per field: the schema's, which comes first, says what the value must be; a rule's on the same field would only repeat it. */
function oncePerField(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(p.field) && seen.add(p.field));
}

/**
 * Every local check of one ExposedAPI object: the schema and the rules, all
 * problems at once. No I/O: the OpenAPI document and path uniqueness are
 * checked by the callers that have the means to, on `checked`.
 */
export function checkExposedApi(object: unknown, options: CheckOptions = {}): CheckResult {
  const deep = tooDeeplyNested(object);
  if (deep) return { problems: [deep], warnings: [], checked: object };
  const read = withoutBlanks(object);
  const schemaProblems = checkSchema(read.object);
  const broken = (field: string): boolean =>
    schemaProblems.some((p) => p.field === field || p.field.startsWith(`${field}.`) || p.field.startsWith(`${field}[`));
  const rules = checkRules(read.object, broken, options);
  const problems = oncePerField([...schemaProblems, ...rules.problems]).sort((a, b) => a.field.localeCompare(b.field));
  return { problems, warnings: [...read.warnings, ...rules.warnings], checked: read.object };
}

/** The checked object in the one internal shape, or the problems that keep it from having one. */
export function checkAndNormalise(
  object: unknown,
  options: CheckOptions = {},
): { model: ExposedApi; warnings: readonly string[] } | Findings {
  const findings = checkExposedApi(object, options);
  return findings.problems.length > 0
    ? { problems: findings.problems, warnings: findings.warnings }
    : { model: normalise(findings.checked as ExposedApiObjectT), warnings: findings.warnings };
}
