import { shapeOf } from '../nesting.ts';
import { problem, type Problem } from './problems.ts';

/**
 * Deeper than any real ExposedAPI needs (an inline OpenAPI document is a
 * string, checked on its own), and far from where the recursion in
 * JSON.stringify, structuredClone, the schema validator or a deep compare runs
 * out of stack.
 */
export const MAX_NESTING = 100;

/** The problem with an object nested deeper than `max` levels, or undefined; safe at any depth. */
export function tooDeeplyNested(value: unknown, max = MAX_NESTING): Problem | undefined {
  const shape = shapeOf(value, max);
  if (!shape) return undefined;
  return problem(
    shape.field,
    shape.problem === 'cycle'
      ? 'contains itself: write it out without a recursive alias'
      : `is nested more than ${max} levels deep, more than any ExposedAPI needs: flatten it`,
  );
}
