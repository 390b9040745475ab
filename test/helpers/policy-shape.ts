import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { POLICY_XML_OPTIONS } from '../../reconciler/render/policy-meaning.ts';

/**
 * What a policy document does, as APIM would read it: its element paths (with
 * their attribute names), every value (entities decoded, CDATA and comments
 * kept as nodes of their own, so that smuggled ones show up as elements), the
 * policy expressions in them and the named-value references.
 */
export interface PolicyShape {
  /** Sorted, unique: `policies/inbound/cors[allow-credentials,terminate-unmatched-request]`, `…/origin/#text`. */
  readonly elements: readonly string[];
  /** Every attribute value (`path@name`) and text (`path/#text`), decoded. */
  readonly values: readonly { readonly at: string; readonly value: string }[];
  /** Sorted, unique: `where: span`, each span from an `@(` or `@{` to the end of its value. */
  readonly expressions: readonly string[];
  /** Where a `{{named-value}}` reference stands (APIM substitutes it before anything else). */
  readonly namedValues: readonly string[];
}

type OrderedNode = Record<string, unknown>;

// The product's reading, but declarations, processing instructions, comments and CDATA kept as nodes.
const parser = new XMLParser({
  ...POLICY_XML_OPTIONS,
  ignoreDeclaration: false,
  ignorePiTags: false,
  commentPropName: '#comment',
  cdataPropName: '#cdata',
});

function walk(
  nodes: readonly OrderedNode[],
  parent: string,
  out: { elements: Set<string>; values: PolicyShape['values'][number][] },
): void {
  for (const node of nodes) {
    if ('#text' in node) {
      const value = String(node['#text']);
      // Indentation between elements is not text APIM acts on.
      if (value.trim() === '') continue;
      out.elements.add(`${parent}/#text`);
      out.values.push({ at: `${parent}/#text`, value });
      continue;
    }
    const name = Object.keys(node).find((k) => k !== ':@') ?? '';
    const attrs = (node[':@'] ?? {}) as Record<string, string>;
    const path = parent === '' ? name : `${parent}/${name}`;
    out.elements.add(`${path}[${Object.keys(attrs).sort().join(',')}]`);
    for (const [attr, value] of Object.entries(attrs)) out.values.push({ at: `${path}@${attr}`, value: String(value) });
    walk((node[name] ?? []) as OrderedNode[], path, out);
  }
}

const expressionSpans = (value: string): string[] => [...value.matchAll(/@[({]/g)].map((m) => value.slice(m.index));

/** The shape of a policy document; throws, saying why, when it is not well-formed XML or declares a DOCTYPE. */
export function policyShape(xml: string): PolicyShape {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  if (/<!DOCTYPE/i.test(xml)) throw new Error('the document declares a DOCTYPE');
  const out = { elements: new Set<string>(), values: [] as PolicyShape['values'][number][] };
  walk(parser.parse(xml) as OrderedNode[], '', out);
  return {
    elements: [...out.elements].sort(),
    values: out.values,
    expressions: [...new Set(out.values.flatMap((v) => expressionSpans(v.value).map((s) => `${v.at}: ${s}`)))].sort(),
    namedValues: out.values.filter((v) => v.value.includes('{{')).map((v) => v.at),
  };
}
