/**
 * Collection answers as APIM pages them: `$top` (default 100) and `$skip`,
 * with `count` the total and a `nextLink` (an absolute URL keeping every
 * other query parameter, api-version included) while more remain; `$filter`
 * as far as the operator uses it: `startswith(name,'…')`.
 */
import type { HandlerContext } from './context.ts';
import { validation, type ArmAnswer } from './http.ts';

const DEFAULT_TOP = 100;

function count(ctx: HandlerContext, name: string, fallback: number): number {
  const raw = ctx.request.query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (name === '$top' ? 1 : 0))
    throw validation(`Invalid ${name} value '${raw}'.`, [{ code: 'ValidationError', target: name, message: raw }]);
  return n;
}

/** The `$filter` as a predicate on the entity's name; only `startswith(name,'prefix')` is understood. */
export function nameFilter(ctx: HandlerContext): (name: string) => boolean {
  const filter = ctx.request.query.get('$filter');
  if (filter === null) return () => true;
  const m = /^startswith\(name,\s*'([^']*)'\)$/.exec(filter.trim());
  if (!m)
    throw validation(`Invalid filter clause '${filter}'.`, [
      { code: 'ValidationError', target: '$filter', message: 'Only startswith(name,...) is supported here.' },
    ]);
  const prefix = m[1]!.toLowerCase();
  return (name) => name.toLowerCase().startsWith(prefix);
}

export function page(ctx: HandlerContext, all: readonly unknown[]): ArmAnswer {
  const top = count(ctx, '$top', DEFAULT_TOP);
  const skip = count(ctx, '$skip', 0);
  const value = all.slice(skip, skip + top);
  const body: Record<string, unknown> = { value, count: all.length };
  if (skip + top < all.length) {
    const next = new URL(`${ctx.serviceUrl}/${ctx.request.subPath}`);
    for (const [k, v] of ctx.request.query) if (k !== '$skip' && k !== '$top') next.searchParams.set(k, v);
    next.searchParams.set('$top', String(top));
    next.searchParams.set('$skip', String(skip + top));
    body.nextLink = next.toString();
  }
  return { status: 200, body };
}
