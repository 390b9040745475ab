/** Reformats a policy document the way APIM's GET does: same meaning, different bytes. */
export function reformatPolicy(xml: string): string {
  const tokens = xml
    .replace(/>\s+</g, '><')
    .trim()
    .split(/(?=<)|(?<=>)/)
    .filter((t) => t.length > 0);
  const lines: string[] = [];
  let depth = 0;
  for (const token of tokens) {
    const closing = token.startsWith('</');
    const opening =
      token.startsWith('<') && !closing && !token.endsWith('/>') && !token.startsWith('<!') && !token.startsWith('<?');
    if (closing) depth = Math.max(0, depth - 1);
    const previous = lines.at(-1);
    // Keep text and its closing tag on the opening tag's line: <value>x</value>.
    if (
      previous !== undefined &&
      (!token.startsWith('<') ||
        (closing && /<[^/!?][^>]*>[^<]*$/.test(previous) && !previous.trimEnd().endsWith('/>')))
    ) {
      lines[lines.length - 1] = previous + token;
    } else {
      lines.push('\t'.repeat(depth) + token);
    }
    if (opening) depth += 1;
  }
  return lines.join('\r\n');
}
