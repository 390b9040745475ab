import * as real from 'fast-xml-parser';

/**
 * fast-xml-parser with its XMLParser counting parses, as a module mock for
 * `t.mockImport`: how a test sees whether a policy text was parsed at all.
 */
export function countingXmlParser(): { mocks: Record<string, unknown>; parses(): number } {
  let parses = 0;
  class CountingParser extends real.XMLParser {
    override parse(xml: string) {
      parses += 1;
      return super.parse(xml);
    }
  }
  return { mocks: { 'fast-xml-parser': { ...real, XMLParser: CountingParser } }, parses: () => parses };
}
