/** One thing wrong with a resource: where (`spec.rateLimit.limit`) and what to do. */
export interface Problem {
  readonly field: string;
  readonly message: string;
}

/** The outcome of a check: everything wrong, and what is accepted but doubtful. */
export interface Findings {
  readonly problems: readonly Problem[];
  readonly warnings: readonly string[];
}

export const NO_FINDINGS: Findings = Object.freeze({ problems: [], warnings: [] });

export function problem(field: string, message: string): Problem {
  return { field, message };
}

export function formatProblem(p: Problem): string {
  return p.field ? `${p.field}: ${p.message}` : p.message;
}

export function mergeFindings(all: readonly Findings[]): Findings {
  return { problems: all.flatMap((f) => f.problems), warnings: all.flatMap((f) => f.warnings) };
}

/** A short, single-line rendering of a user's value for an error message. */
export function excerpt(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** `/spec/specification/0/url` → `spec.specification[0].url` */
export function fieldFromPointer(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}
