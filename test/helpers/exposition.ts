/**
 * The series of a Prometheus text exposition, by metric name: each with its
 * label pairs. Hand-written because the tests need only names and labels of
 * prom-client's own output (one sample per line, `name{a="b",...} value`),
 * and the npm parsers of the format are unmaintained.
 */
export type Series = Map<string, Record<string, string>[]>;

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+/;
const PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Series {
  const series: Series = new Map();
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(PAIR))
      labels[name as string] = JSON.parse(`"${value}"`) as string;
    const name = match[1] as string;
    series.set(name, [...(series.get(name) ?? []), labels]);
  }
  return series;
}
