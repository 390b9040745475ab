/**
 * How a parsed value is shaped where recursion would fail: nested deeper than
 * `max` levels of objects and arrays, or containing itself (a recursive YAML
 * alias). Walked with an explicit stack, so any depth is safe to check;
 * callers check first and only then do recursive work (JSON.stringify,
 * structuredClone, schema validation, deep compares). A value shared by
 * several parents (a YAML alias) is walked once.
 */
export type Shape = { readonly problem: 'too-deep' | 'cycle'; readonly field: string } | undefined;

/** Levels of the path named in the result: `spec.specification`, not the thousand below it. */
const NAMED_LEVELS = 2;

const fieldOf = (keys: readonly string[], arrays: readonly boolean[]): string =>
  keys
    .slice(0, NAMED_LEVELS)
    .reduce((field, key, i) => (arrays[i] ? `${field}[${key}]` : field ? `${field}.${key}` : key), '');

export function shapeOf(root: unknown, max: number): Shape {
  if (typeof root !== 'object' || root === null) return undefined;
  const done = new Set<object>();
  const onPath = new Set<object>([root]);
  const stack: { node: object; children: Iterator<[string, unknown]> }[] = [
    { node: root, children: Object.entries(root)[Symbol.iterator]() },
  ];
  const keys: string[] = [];
  const arrays: boolean[] = [];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as (typeof stack)[number];
    const next = top.children.next();
    if (next.done) {
      stack.pop();
      keys.pop();
      arrays.pop();
      onPath.delete(top.node);
      done.add(top.node);
      continue;
    }
    const [key, child] = next.value;
    if (typeof child !== 'object' || child === null || done.has(child)) continue;
    const problem = onPath.has(child) ? 'cycle' : stack.length >= max ? 'too-deep' : undefined;
    if (problem) return { problem, field: fieldOf([...keys, key], [...arrays, Array.isArray(top.node)]) };
    onPath.add(child);
    keys.push(key);
    arrays.push(Array.isArray(top.node));
    stack.push({ node: child, children: Object.entries(child)[Symbol.iterator]() });
  }
  return undefined;
}
