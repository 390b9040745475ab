import { shapeOf } from '../nesting.ts';
import { problem, type Problem } from './problems.ts';

/**
 * Deeper than any real ExposedAPI needs (an inline OpenAPI document is a
 * string, checked on its own), and far from where the recursion in
 * JSON.stringify, structuredClone, the schema validator or a deep compare runs
 * out of stack.
 */
export const MAX_NESTING = 100;

/**
 * Objects already walked and found within MAX_NESTING: the webhook checks the
 * request's object before its comparisons and again inside checkExposedApi,
 * and the walk was 3 % of an admission's CPU. Weak, so it holds nothing the
 * request does not.
 */
const withinDefault = new WeakSet<object>();

/** The problem with an object nested deeper than `max` levels, or undefined; safe at any depth. */
export function tooDeeplyNested(value: unknown, max = MAX_NESTING): Problem | undefined {
  const remembered = max === MAX_NESTING && typeof value === 'object' && value !== null;
  if (remembered && withinDefault.has(value)) return undefined;
  const shape = shapeOf(value, max);
  if (!shape) {
    if (remembered) withinDefault.add(value);
    return undefined;
  }
  return problem(
    shape.field,
    shape.problem === 'cycle'
      ? 'contains itself: write it out without a recursive alias'
      : `is nested more than ${max} levels deep, more than any ExposedAPI needs: flatten it`,
  );
}
