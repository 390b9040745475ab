import t from 'tap';
import { importFormat, parseDocument, YAML_MAX_ALIAS_COUNT } from '../../../shared/openapi/parse-document.ts';

const info = { title: 'x', version: '1' };

t.test('recognises the kind and chooses the APIM import format', async (t) => {
  const cases = [
    {
      name: 'Swagger 2.0 JSON',
      text: JSON.stringify({ swagger: '2.0', info, paths: {} }),
      kind: 'swagger2',
      format: 'swagger-json',
      syntax: 'json',
      convert: false,
    },
    {
      name: 'Swagger 2.0 YAML must become JSON',
      text: 'swagger: "2.0"\ninfo: {title: x, version: "1"}\npaths: {}\n',
      kind: 'swagger2',
      format: 'swagger-json',
      syntax: 'yaml',
      convert: true,
    },
    {
      name: 'OpenAPI 3.0 JSON',
      text: JSON.stringify({ openapi: '3.0.3', info, paths: {} }),
      kind: 'openapi3.0',
      format: 'openapi+json',
      syntax: 'json',
      convert: false,
    },
    {
      name: 'OpenAPI 3.0 YAML',
      text: 'openapi: 3.0.1\ninfo: {title: x, version: "1"}\npaths: {}\n',
      kind: 'openapi3.0',
      format: 'openapi',
      syntax: 'yaml',
      convert: false,
    },
    {
      name: 'OpenAPI 3.1 YAML',
      text: "openapi: '3.1.0'\ninfo: {title: x, version: '1'}\nwebhooks: {}\n",
      kind: 'openapi3.1',
      format: 'openapi',
      syntax: 'yaml',
      convert: false,
    },
    {
      name: 'YAML flow mapping that is not JSON',
      text: "{openapi: '3.0.0', info: {title: x, version: '1'}, paths: {}}",
      kind: 'openapi3.0',
      format: 'openapi',
      syntax: 'yaml',
      convert: false,
    },
    {
      name: 'JSON with a byte order mark',
      text: `\uFEFF${JSON.stringify({ openapi: '3.0.0', info, paths: {} })}`,
      kind: 'openapi3.0',
      format: 'openapi+json',
      syntax: 'json',
      convert: false,
    },
  ];
  for (const { name, text, kind, format, syntax, convert } of cases) {
    t.match(parseDocument(text), { ok: true, kind, format, syntax, needsJsonConversion: convert }, name);
  }
});

t.test('refuses what is not an OpenAPI document, saying why', async (t) => {
  const aliasBomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let level = 1; level < 8; level += 1)
    aliasBomb.push(
      `l${level}: &l${level} [${Array(10)
        .fill(level === 1 ? '*a' : `*l${level - 1}`)
        .join(', ')}]`,
    );
  const cases = [
    { name: 'empty', text: '  \n', message: /is empty/ },
    {
      name: 'neither JSON nor YAML',
      text: 'openapi: [3.0\n  : }',
      message: /neither valid JSON nor valid YAML: .*line/,
    },
    {
      name: 'plain prose',
      text: 'this is a sentence, not an API',
      message: /is not an OpenAPI document: it has neither `openapi: 3.x` nor `swagger: "2.0"` \(it is not a mapping\)/,
    },
    { name: 'a JSON array', text: '[1, 2]', message: /not a mapping/ },
    {
      name: 'JSON that is not OpenAPI',
      text: '{"apiVersion": "v1", "kind": "ConfigMap"}',
      message: /^the specification is not an OpenAPI document: it has neither `openapi: 3.x` nor `swagger: "2.0"`$/,
    },
    { name: 'an unquoted Swagger version', text: 'swagger: 2.0\n', message: /must be the string "2.0", not a number/ },
    {
      name: 'an unquoted OpenAPI version',
      text: 'openapi: 3.0\n',
      message: /must be a string such as "3.0.3", not a number/,
    },
    { name: 'Swagger 1.2', text: '{"swagger": "1.2"}', message: /version "1.2" is not supported/ },
    { name: 'OpenAPI 4', text: '{"openapi": "4.0.0"}', message: /version "4.0.0" is not supported/ },
    { name: 'duplicate keys', text: 'openapi: 3.0.0\nopenapi: 3.1.0\n', message: /must be unique/ },
    { name: 'several YAML documents', text: 'openapi: 3.0.0\n---\nopenapi: 3.1.0\n', message: /multiple documents/ },
    {
      name: 'alias expansion bomb',
      text: `${aliasBomb.join('\n')}\n`,
      message: new RegExp(`too many YAML aliases \\(more than ${YAML_MAX_ALIAS_COUNT}`),
    },
    { name: 'a recursive alias', text: 'openapi: 3.0.0\ninfo: &i\n  self: *i\n', message: /recursive YAML alias/ },
    {
      name: 'absurd nesting',
      text: `{"openapi": "3.0.0", "x": ${'['.repeat(600)}${']'.repeat(600)}}`,
      message: /nested more than 500 levels/,
    },
  ];
  for (const { name, text, message } of cases) {
    const result = parseDocument(text);
    t.match(result, { ok: false, transient: false }, name);
    if (!result.ok) t.match(result.message, message, name);
  }
});

t.test('YAML aliases within the limit are expanded', async (t) => {
  const text =
    "openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths:\n  /a: &p {get: {responses: {'200': {description: ok}}}}\n  /b: *p\n";
  const result = parseDocument(text);
  t.ok(result.ok);
  if (result.ok)
    t.same(
      (result.document.paths as Record<string, unknown>)['/b'],
      (result.document.paths as Record<string, unknown>)['/a'],
    );
});

t.test('importFormat', async (t) => {
  t.same(importFormat('swagger2', 'json'), { format: 'swagger-json', needsJsonConversion: false });
  t.same(importFormat('openapi3.1', 'json'), { format: 'openapi+json', needsJsonConversion: false });
});
