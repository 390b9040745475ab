import { locationOf } from './problems.ts';

/**
 * Checks of `$ref`s made before swagger-parser sees the document.
 *
 * External references are refused outright: following them would let anyone
 * who can create an ExposedAPI make the webhook read files or call internal
 * URLs, and APIM cannot resolve them in an inline import either. Missing
 * internal targets are all reported at once (the library stops at the first).
 */
export function refProblems(document: Record<string, unknown>): string[] {
  const problems: string[] = [];
  walk(document, [], (node, path) => {
    const ref = node.$ref;
    if (typeof ref !== 'string') return;
    const problem = refProblem(document, ref);
    if (problem) problems.push(`${locationOf(path)}: ${problem}`);
  });
  return problems;
}

function refProblem(document: Record<string, unknown>, ref: string): string | undefined {
  const shown = JSON.stringify(ref.length > 120 ? `${ref.slice(0, 120)}…` : ref);
  if (!ref.startsWith('#')) {
    return `$ref ${shown} points outside the document; external references are not followed, inline the definition`;
  }
  const fragment = ref.slice(1);
  // `#name` is a JSON Schema anchor (OpenAPI 3.1), resolved by the library, not a pointer.
  if (fragment !== '' && !fragment.startsWith('/')) return undefined;
  return resolvePointer(document, fragment) === undefined
    ? `$ref ${shown} points to nothing in the document`
    : undefined;
}

export function resolvePointer(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    let token: string;
    try {
      token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, token)) return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return node;
}

/**
 * The number of nodes the document has once every internal `$ref` is replaced
 * by its target, as swagger-parser's dereferencing does. The library's
 * dereferencing and Ajv both take time in proportion to this, and schemas that
 * reference the next level twice, forty levels deep, fit in a few kilobytes yet
 * expand to 2^40 nodes: the library would never return. Counted here in linear
 * time (memoised per object; a `$ref` back into its own ancestry counts as one
 * node, as the library leaves such cycles as they are). Stops at `cap`.
 */
export function expandedSize(document: Record<string, unknown>, cap: number): number {
  const memo = new Map<object, number>();
  const active = new Set<object>();
  const sizeOf = (node: unknown, depth: number): number => {
    if (typeof node !== 'object' || node === null) return 1;
    if (depth > MAX_REF_DEPTH) return cap;
    const target = internalTarget(document, node);
    if (target !== undefined) return active.has(target) ? 1 : Object.keys(node).length - 1 + sizeOf(target, depth + 1);
    const known = memo.get(node);
    if (known !== undefined) return known;
    if (active.has(node)) return 1;
    active.add(node);
    let total = 1;
    for (const child of Object.values(node)) {
      total += sizeOf(child, depth + 1);
      if (total >= cap) break;
    }
    active.delete(node);
    const size = Math.min(total, cap);
    memo.set(node, size);
    return size;
  };
  return sizeOf(document, 0);
}

/** Deeper than any sane chain of nested schemas and `$ref`s, shallow enough for the call stack. */
const MAX_REF_DEPTH = 3000;

function internalTarget(document: Record<string, unknown>, node: object): object | undefined {
  const ref = (node as { $ref?: unknown }).$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
  const target = resolvePointer(document, ref.slice(1));
  return typeof target === 'object' && target !== null ? target : undefined;
}

type Visitor = (node: Record<string, unknown>, path: string[]) => void;

/** Depth-first over objects, each visited once (YAML aliases share objects). */
function walk(root: Record<string, unknown>, rootPath: string[], visit: Visitor): void {
  const seen = new Set<object>();
  const stack: Array<{ node: Record<string, unknown>; path: string[] }> = [{ node: root, path: rootPath }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    visit(node, path);
    const entries = Object.entries(node);
    for (let index = entries.length - 1; index >= 0; index -= 1) {
      const [key, child] = entries[index]!;
      if (typeof child === 'object' && child !== null)
        stack.push({ node: child as Record<string, unknown>, path: [...path, key] });
    }
  }
}
