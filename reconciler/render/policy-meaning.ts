import { createHash } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { LRUCache } from 'lru-cache';
import { escapeXml } from './policy.ts';

/**
 * Far above any policy document this operator writes or APIM stores; a
 * larger one is not parsed, and so never equals the operator's policy.
 */
export const MAX_POLICY_MEANING_BYTES = 1024 * 1024;

/** A node of fast-xml-parser's `preserveOrder` output: `{name: children, ':@': attributes}` or `{'#text': text}`. */
type OrderedNode = Record<string, unknown>;

/** Elements in document order, attributes and text as written, entities decoded: what any reading of a policy starts from. */
export const POLICY_XML_OPTIONS = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  // Needed for numeric character references (`&#34;`); the HTML names it adds never occur in APIM's XML.
  htmlEntities: true,
} as const;

const parser = new XMLParser({
  ...POLICY_XML_OPTIONS,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Comments are dropped (no commentPropName); CDATA joins the text (no cdataPropName).
});

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();
const unparsed = (xml: string): string => `unparsed:${collapse(xml)}`;
const byName = ([a]: readonly [string, string], [b]: readonly [string, string]): number => (a < b ? -1 : a > b ? 1 : 0);

function canonical(nodes: readonly OrderedNode[]): string {
  const out: string[] = [];
  let text = '';
  const flush = (): void => {
    const collapsed = collapse(text);
    if (collapsed !== '') out.push(escapeXml(collapsed));
    text = '';
  };
  for (const node of nodes) {
    if ('#text' in node) {
      text += String(node['#text']);
      continue;
    }
    flush();
    const name = Object.keys(node).find((k) => k !== ':@') ?? '';
    // XML normalises tabs and line breaks in attribute values to spaces; APIM's reformatting may write either.
    const attrs = Object.entries((node[':@'] ?? {}) as Record<string, string>)
      .map(([k, v]) => [k, v.replace(/[\t\r\n]/g, ' ')] as const)
      .sort(byName);
    const children = (node[name] ?? []) as OrderedNode[];
    out.push(`<${name}${attrs.map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('')}>${canonical(children)}</${name}>`);
  }
  flush();
  return out.join('');
}

/**
 * A canonical form of a policy document for comparing by meaning: what APIM
 * returns is reformatted (indentation, line endings, `<a />` vs `<a></a>`,
 * attribute order, entities, CDATA). Comments, declarations and whitespace
 * between elements are dropped, attributes sorted, entities decoded and
 * re-escaped, text (CDATA included) joined, trimmed, and inner whitespace runs
 * collapsed. Text that is not well-formed XML, is too large or has a DOCTYPE
 * (whose entities could expand without bound; APIM never writes one) is
 * returned whitespace-collapsed, so it compares unequal rather than throwing.
 */
export function policyMeaning(xml: string): string {
  if (
    Buffer.byteLength(xml) > MAX_POLICY_MEANING_BYTES ||
    /<!DOCTYPE/i.test(xml) ||
    XMLValidator.validate(xml) !== true
  )
    return unparsed(xml);
  return canonical(parser.parse(xml) as OrderedNode[]);
}

/**
 * Pairs (live text, rendered text) already found to mean the same. A resync
 * compares every API's live policy with the one it renders, and both are the
 * same texts as last time unless something changed: parsing them again was a
 * third of a resync's CPU. Keyed by a hash of the pair, so an entry is about
 * a hundred bytes; sized above the number of APIs one operator publishes, as
 * a resync visits every one of them in turn (an LRU smaller than that cycle
 * would never hit).
 */
const samePairs = new LRUCache<string, true>({ max: 20_000 });

const pairKey = (live: string, rendered: string): string =>
  createHash('sha256').update(live).update('\0').update(rendered).digest('base64url');

/** Whether a live policy means what the rendered one does (policyMeaning of both), remembered per pair of texts. */
export function samePolicy(live: string, rendered: string): boolean {
  const key = pairKey(live, rendered);
  if (samePairs.has(key)) return true;
  const same = policyMeaning(live) === policyMeaning(rendered);
  if (same) samePairs.set(key, true);
  return same;
}

/**
 * Remembers, without parsing, that the text APIM answered a policy write with
 * means the rendered text that was written: it is APIM's own reformatting of
 * it. The next resync then finds the pair known; otherwise the first resync
 * after every publish parsed every API's policy twice.
 */
export function rememberStoredPolicy(stored: string, rendered: string): void {
  samePairs.set(pairKey(stored, rendered), true);
}
