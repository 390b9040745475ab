/**
 * What a PromQL expression reads, parsed with Prometheus's own grammar
 * (@prometheus-io/lezer-promql, the parser of the Prometheus UI), so that a
 * typo in an alert, a panel or a scaler query fails a test.
 */
import { parser } from '@prometheus-io/lezer-promql';

export interface Matcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}
export interface Selector {
  readonly metric: string;
  readonly matchers: readonly Matcher[];
}
export interface ParsedQuery {
  /** The text of each part the grammar could not parse; empty when the expression is valid. */
  readonly errors: readonly string[];
  readonly selectors: readonly Selector[];
  /** Labels of `by (...)` / `without (...)` / `on (...)` / `ignoring (...)`. */
  readonly grouping: readonly string[];
}

/** A PromQL string literal's value: "..." with escapes, '...' or `...`. */
function literal(text: string): string {
  if (text.startsWith('"')) return JSON.parse(text) as string;
  return text.slice(1, -1);
}

export function parsePromql(expr: string): ParsedQuery {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const selectors: { metric: string; matchers: Matcher[] }[] = [];
  const grouping: string[] = [];
  const text = (from: number, to: number) => expr.slice(from, to);
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: "${text(node.from, node.to + 1)}"`);
      if (node.name === 'VectorSelector') {
        const metric = node.node.getChild('Identifier');
        selectors.push({ metric: metric ? text(metric.from, metric.to) : '', matchers: [] });
      }
      if (node.name === 'UnquotedLabelMatcher') {
        const label = node.node.getChild('LabelName');
        const op = node.node.getChild('MatchOp');
        const value = node.node.getChild('StringLiteral');
        if (label && op && value)
          selectors.at(-1)?.matchers.push({
            label: text(label.from, label.to),
            op: text(op.from, op.to) as Matcher['op'],
            value: literal(text(value.from, value.to)),
          });
      }
      if (node.name === 'GroupingLabels') {
        for (const label of node.node.getChildren('LabelName')) grouping.push(text(label.from, label.to));
      }
    },
  });
  return { errors, selectors, grouping };
}
