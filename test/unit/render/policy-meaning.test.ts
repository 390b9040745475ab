import t from 'tap';
import {
  MAX_POLICY_MEANING_BYTES,
  policyMeaning,
  type rememberStoredPolicy as RememberStoredPolicy,
  type samePolicy as SamePolicy,
} from '../../../reconciler/render/policy-meaning.ts';
import { countingXmlParser } from '../../helpers/counting-xml-parser.ts';

const doc = (inbound: string): string =>
  `<policies>\n  <inbound>\n    <base />\n    ${inbound}\n  </inbound>\n</policies>\n`;

t.test('the same meaning, whatever APIM does to the bytes', async (t) => {
  const cases: [string, string, string][] = [
    ['a comment inside text', '<origin>a <!-- note --> b</origin>', '<origin>a b</origin>'],
    ['CDATA beside text', '<origin>x <![CDATA[y]]></origin>', '<origin>x y</origin>'],
    ['CDATA holding markup characters', '<value><![CDATA[a < b & "c"]]></value>', '<value>a &lt; b &amp; "c"</value>'],
    ['quotes: entity, numeric, hex, literal', `<a x="&quot;a&#34;&#x22;" />`, `<a x='"a""'/>`],
    [
      'an expression with > and quotes',
      `<set-variable value='@(a > "b")' />`,
      '<set-variable value="@(a &gt; &quot;b&quot;)"></set-variable>',
    ],
    ['self-closing, empty, whitespace only', '<x /><y></y><z>\n  </z>', '<x></x><y/><z/>'],
    [
      'attribute order',
      `<r calls="1" counter-key="@(k)" renewal-period="2" />`,
      `<r renewal-period='2' counter-key='@(k)' calls='1'/>`,
    ],
    ['a line break in an attribute value', '<a x="1\n2" />', '<a x="1 2" />'],
    ['a declaration and a comment before the root', '', ''],
  ];
  for (const [label, a, b] of cases) {
    const variant = label.startsWith('a declaration')
      ? `<?xml version="1.0" encoding="utf-8"?>\n<!-- managed -->\n${doc(b)}`
      : doc(b);
    t.not(doc(a), variant, `${label}: the bytes differ`);
    t.equal(policyMeaning(doc(a)), policyMeaning(variant), `${label}: same meaning`);
    t.notMatch(policyMeaning(doc(a)), /^unparsed:/, `${label}: parsed`);
  }
});

t.test('a different meaning', async (t) => {
  const cases: [string, string, string][] = [
    ['an escaped entity is text, not an entity', '<a x="&amp;quot;" />', '<a x="&quot;" />'],
    ['CDATA that looks like a comment is text', '<value><![CDATA[<!-- x -->]]></value>', '<value><!-- x --></value>'],
    ['text split by an element', '<v>a<b/>c</v>', '<v>ac<b/></v>'],
    ['an expression changed', `<set-variable value='@(a > "b")' />`, `<set-variable value='@(a < "b")' />`],
  ];
  for (const [label, a, b] of cases) t.not(policyMeaning(doc(a)), policyMeaning(doc(b)), label);
});

t.test('what is not well-formed XML is not parsed, and equals nothing well-formed', async (t) => {
  const cases: [string, string][] = [
    ['a repeated attribute', doc('<a x="1" x="2" />')],
    ['text after the root', `${doc('')}junk`],
    ['a closing tag that does not match', doc('<a></b>')],
    ['an unclosed CDATA section', doc('<a><![CDATA[x</a>')],
  ];
  for (const [label, xml] of cases) t.match(policyMeaning(xml), /^unparsed:/, label);
});

t.test('entities are never expanded beyond the predefined ones, and input is bounded', async (t) => {
  const laughs = `<!DOCTYPE p [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>`;
  const withDoctype = `${laughs}${doc('<origin>&c;</origin>')}`;
  t.match(policyMeaning(withDoctype), /^unparsed:/, 'a DOCTYPE is refused');
  t.notMatch(policyMeaning(withDoctype), /haha/, 'its entities were not expanded');
  t.not(policyMeaning(`<!DOCTYPE p [<!ENTITY e "x">]><p>&e;</p>`), policyMeaning('<p>x</p>'));
  const huge = doc(`<value>${'x'.repeat(MAX_POLICY_MEANING_BYTES)}</value>`);
  t.match(policyMeaning(huge), /^unparsed:/, 'a document over the bound is not parsed');
});

t.test('samePolicy: the verdict of policyMeaning, and a pair found equal is not parsed again', async (t) => {
  const parser = countingXmlParser();
  const { samePolicy } = await t.mockImport<{ samePolicy: typeof SamePolicy }>(
    '../../../reconciler/render/policy-meaning.ts',
    parser.mocks,
  );
  const live = doc('<x a="1" b="2" />');
  const rendered = doc("<x b='2' a='1'></x>");
  t.ok(samePolicy(live, rendered), 'the same meaning in other bytes');
  t.equal(parser.parses(), 2, 'both parsed the first time');
  t.ok(samePolicy(live, rendered), 'still the same');
  t.equal(parser.parses(), 2, 'the second time, not parsed at all');
  const edited = doc('<x a="1" b="3" />');
  t.notOk(samePolicy(edited, rendered), 'a changed live policy differs');
  t.notOk(samePolicy(edited, rendered), 'and still differs when asked again');
  t.equal(parser.parses(), 6, 'an unequal pair is parsed each time it is asked');
});

t.test('a pair remembered from a policy write is known without parsing; any other text still is parsed', async (t) => {
  const parser = countingXmlParser();
  const { samePolicy, rememberStoredPolicy } = await t.mockImport<{
    samePolicy: typeof SamePolicy;
    rememberStoredPolicy: typeof RememberStoredPolicy;
  }>('../../../reconciler/render/policy-meaning.ts', parser.mocks);
  const rendered = '<policies><inbound><base /><x a="1" /></inbound></policies>';
  const stored = doc('<x a="1" />');
  rememberStoredPolicy(stored, rendered);
  t.ok(samePolicy(stored, rendered), 'what APIM stored of the rendered text means it');
  t.equal(parser.parses(), 0, 'without a parse');
  t.notOk(samePolicy(doc('<x a="2" />'), rendered), 'a policy edited since is found changed');
  t.equal(parser.parses(), 2, 'by parsing both');
});
