// docs/reliability.md lists the production dependencies with their versions
// (the registry's audit endpoint cannot be asked here): the list must be
// package.json's, so that it never describes another tree.
import t from 'tap';
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { dependencies: Record<string, string> };
const doc = readFileSync(new URL('docs/reliability.md', root), 'utf8');
const section = doc.slice(doc.indexOf('## Dependencies'));

t.test('the documented production dependencies are exactly package.json’s', async (t) => {
  const listed = Object.fromEntries(
    [...section.matchAll(/^\| `([^`]+)` \| ([^ |]+) \|$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
  t.same(listed, pkg.dependencies);
});
