import t from 'tap';
import SwaggerParser from '@apidevtools/swagger-parser';
import { stringify } from 'yaml';
import { parseDocument, type ParsedDocument } from '../../../shared/openapi/parse-document.ts';
import { validateDocument } from '../../../shared/openapi/validate-document.ts';
import { fixtureText } from '../../helpers/resources.ts';

const TMF620 = fixtureText('TMF620-ProductCatalog-v4.0.0.swagger.json');
const TMF639 = fixtureText('TMF639-Resource_Inventory_Management-v5.0.0.oas.yaml');

const OPENAPI_31 = `openapi: 3.1.0
info: {title: Pets, version: 1.0.0, license: {name: MIT, identifier: MIT}}
jsonSchemaDialect: https://spec.openapis.org/oas/3.1/dialect/base
paths:
  /pets/{petId}:
    parameters: [{name: petId, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getPet
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}
webhooks:
  newPet:
    post:
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}}
      responses: {'200': {description: ok}}
components:
  schemas:
    Pet:
      type: object
      required: [id]
      properties:
        id: {type: [string, 'null'], examples: [a1]}
        parent: {$ref: '#/components/schemas/Pet', description: a sibling of $ref, allowed in 3.1}
`;

function parsed(text: string): ParsedDocument {
  const result = parseDocument(text);
  if (!result.ok) throw new Error(result.message);
  return result;
}

const RECURSIVE_SWAGGER = {
  swagger: '2.0',
  info: { title: 'Tree', version: '1' },
  paths: {
    '/nodes': {
      get: {
        operationId: 'listNodes',
        responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/Node' } } },
      },
    },
  },
  definitions: {
    Node: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/definitions/Node' } } },
    },
    Leaf: { type: 'object', required: ['name'], allOf: [{ $ref: '#/definitions/Node' }] },
  },
};

/** A small valid OpenAPI 3.0 document that each broken case edits. */
function hub(): any {
  return {
    openapi: '3.0.3',
    info: { title: 'Hub', version: '1.0.0' },
    paths: {
      '/hub': {
        post: {
          operationId: 'createHub',
          responses: {
            '201': {
              description: 'created',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Hub' } } },
            },
          },
        },
      },
      '/hub/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        delete: { operationId: 'deleteHub', responses: { '204': { description: 'deleted' } } },
      },
    },
    components: { schemas: { Hub: { type: 'object', properties: { callback: { type: 'string' } } } } },
  };
}

const edited = (edit: (document: any) => void) => {
  const document = hub();
  edit(document);
  return JSON.stringify(document);
};

t.test('accepts the real TMF documents and OpenAPI 3.1', async (t) => {
  const cases = [
    {
      name: 'TMF620 Swagger 2.0 JSON',
      text: TMF620,
      expected: {
        kind: 'swagger2',
        format: 'swagger-json',
        title: 'Product Catalog Management',
        version: '4.0.0',
        operationCount: 50,
      },
    },
    {
      name: 'TMF620 as Swagger 2.0 YAML',
      text: stringify(JSON.parse(TMF620)),
      expected: { kind: 'swagger2', format: 'swagger-json', operationCount: 50 },
    },
    {
      name: 'TMF639 OpenAPI 3.0 YAML',
      text: TMF639,
      expected: {
        kind: 'openapi3.0',
        openapiVersion: '3.0.1',
        format: 'openapi',
        title: 'Resource Inventory Management',
        version: '5.0.0',
        operationCount: 9,
        warnings: [],
      },
    },
    {
      name: 'OpenAPI 3.1 YAML',
      text: OPENAPI_31,
      expected: { kind: 'openapi3.1', format: 'openapi', operationCount: 1, warnings: [/3\.1 with limitations/] },
    },
    {
      name: 'OpenAPI 3.0 JSON',
      text: JSON.stringify(hub()),
      expected: { kind: 'openapi3.0', format: 'openapi+json', operationCount: 2, warnings: [] },
    },
    {
      name: 'Swagger 2.0 with a recursive definition',
      text: JSON.stringify(RECURSIVE_SWAGGER),
      expected: { kind: 'swagger2', operationCount: 1 },
    },
  ];
  for (const { name, text, expected } of cases) {
    t.match(await validateDocument(parsed(text)), { ok: true, ...expected }, name);
  }
});

t.test('refuses broken documents, naming the place', async (t) => {
  const longPath = `/${'a'.repeat(400)}/{id}`;
  const cases = [
    {
      name: 'missing info',
      text: edited((d) => delete d.info),
      message: /^\(document root\): must have required property 'info'$/,
    },
    {
      name: 'a $ref to a missing component',
      text: edited((d) => {
        d.paths['/hub'].post.responses['201'].content['application/json'].schema.$ref = '#/components/schemas/Nope';
      }),
      message:
        /^paths\.\/hub\.post\.responses\.201\.content\.application\/json\.schema: \$ref "#\/components\/schemas\/Nope" points to nothing/,
    },
    {
      name: 'a response without description',
      text: edited((d) => {
        d.paths['/hub'].post.responses['201'] = { content: {} };
      }),
      message: /^paths\.\/hub\.post\.responses\.201: must have required property 'description'$/,
    },
    {
      name: 'an unknown operation field',
      text: edited((d) => {
        d.paths['/hub'].post.summery = 'typo';
      }),
      message: /^paths\.\/hub\.post: must NOT have additional properties \("summery"\)$/,
    },
    {
      name: 'a path parameter not declared',
      text: edited((d) => {
        d.paths['/hub/{id}/{part}'] = d.paths['/hub/{id}'];
        delete d.paths['/hub/{id}'];
      }),
      message: /^paths\.\/hub\/\{id\}\/\{part\}\.delete: path parameter \{part\} is not declared in parameters$/,
    },
    {
      name: 'a declared path parameter missing from the path',
      text: edited((d) => {
        d.paths['/hub'].post.parameters = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
      }),
      message: /paths\.\/hub\.post: parameter "id" is "in: path" but the path has no \{id\}/,
    },
    {
      name: 'a duplicate operationId',
      text: edited((d) => {
        d.paths['/hub/{id}'].delete.operationId = 'createHub';
      }),
      message: /operationId: "createHub" is already used by paths\.\/hub\.post/,
    },
    {
      name: 'OpenAPI 3.1 with neither paths nor webhooks',
      text: "openapi: 3.1.0\ninfo: {title: x, version: '1'}\ncomponents: {}\n",
      message: /must have property 'paths' or 'webhooks'/,
    },
    {
      name: 'Swagger 2.0 requiring a property its recursive parent lacks',
      text: JSON.stringify({
        ...RECURSIVE_SWAGGER,
        definitions: {
          ...RECURSIVE_SWAGGER.definitions,
          Leaf: { type: 'object', required: ['nope'], allOf: [{ $ref: '#/definitions/Node' }] },
        },
      }),
      message: /Property 'nope' listed as required but does not exist/,
    },
    {
      name: 'OpenAPI 3.0 without paths',
      text: edited((d) => delete d.paths),
      message: /must have required property 'paths'/,
    },
    {
      name: 'an unquoted info.version',
      text: 'openapi: 3.0.0\ninfo: {title: x, version: 1.0}\npaths: {}\n',
      message: /^info\.version: must be a string such as "1\.0", not a number \(quote it\)$/,
    },
    {
      name: 'Swagger 2.0 with two body parameters',
      text: JSON.stringify({
        swagger: '2.0',
        info: { title: 'x', version: '1' },
        paths: {
          '/a': {
            post: {
              parameters: [
                { name: 'a', in: 'body', schema: {} },
                { name: 'b', in: 'body', schema: {} },
              ],
              responses: { '200': { description: 'ok' } },
            },
          },
        },
      }),
      message: /^paths\.\/a\.post: has 2 body parameters/,
    },
    {
      name: 'an overlong location is cut',
      text: edited((d) => {
        d.paths[longPath] = { get: { responses: { '200': { description: 'ok' } } } };
      }),
      message: /^paths\.\/a{150,}…$/,
    },
  ];
  for (const { name, text, message } of cases) {
    const result = await validateDocument(parsed(text));
    t.match(result, { ok: false, transient: false }, name);
    if (!result.ok) {
      t.match(result.message, message, name);
      t.ok(result.message.length <= 5 * 202 + 40, `${name}: the message stays short`);
    }
  }
});

t.test('lists at most five problems', async (t) => {
  const text = edited((d) => {
    for (let i = 0; i < 9; i += 1) d.paths[`/p${i}`] = { get: { responses: { '200': {} } } };
  });
  const result = await validateDocument(parsed(text));
  t.equal(result.ok, false);
  if (!result.ok) {
    t.equal(result.message.split('; ').length, 6, 'five problems and a count of the rest');
    t.match(result.message, /; and 4 more problems$/);
  }
});

t.test('external $refs are refused, never followed', async (t) => {
  for (const ref of [
    'file:///etc/passwd',
    '../../../../etc/passwd#/x',
    'other.yaml#/components/schemas/Hub',
    'https://example.invalid/schemas.json#/Hub',
  ]) {
    const result = await validateDocument(
      parsed(
        edited((d) => {
          d.components.schemas.Hub = { $ref: ref };
        }),
      ),
    );
    t.match(
      result,
      {
        ok: false,
        transient: false,
        message:
          /^components\.schemas\.Hub: \$ref ".*" points outside the document; external references are not followed/,
      },
      ref,
    );
    if (!result.ok) t.notMatch(result.message, /root:/, `${ref}: no file content`);
  }
});

t.test('a $ref expansion bomb is refused before the library dereferences it', async (t) => {
  const text = edited((d) => {
    for (let level = 0; level < 40; level += 1) {
      const next = { $ref: `#/components/schemas/L${level + 1}` };
      d.components.schemas[`L${level}`] = { type: 'object', properties: { a: next, b: next } };
    }
    d.components.schemas.L40 = { type: 'string' };
    d.paths['/hub'].post.responses['201'].content['application/json'].schema.$ref = '#/components/schemas/L0';
  });
  t.match(await validateDocument(parsed(text)), { ok: false, message: /\$refs expand to more than 1000000 nodes/ });
});

t.test("leaves the caller's document untouched", async (t) => {
  const input = parsed(TMF639);
  const before = structuredClone(input.document);
  t.match(await validateDocument(input), { ok: true });
  t.same(input.document, before);
});

t.test('warnings', async (t) => {
  const cases = [
    {
      name: 'no operations',
      text: JSON.stringify({ openapi: '3.0.3', info: { title: 'x', version: '1' }, paths: {} }),
      warning: /defines no operations/,
    },
    {
      name: 'missing operationIds',
      text: edited((d) => delete d.paths['/hub'].post.operationId),
      warning: /1 of 2 operations have no operationId/,
    },
    {
      name: 'OpenAPI 3.0.4',
      text: edited((d) => {
        d.openapi = '3.0.4';
      }),
      warning: /supports OpenAPI 3\.0 up to 3\.0\.3/,
    },
  ];
  for (const { name, text, warning } of cases)
    t.match(await validateDocument(parsed(text)), { ok: true, warnings: [warning] }, name);
});

t.test('agrees with SwaggerParser.validate wherever the library has an opinion', async (t) => {
  const cases = [
    TMF620,
    TMF639,
    OPENAPI_31,
    JSON.stringify(hub()),
    edited((d) => delete d.info),
    edited((d) => {
      d.paths['/hub'].post.responses = { '201': { content: 5 } };
    }),
    edited((d) => {
      d.components.schemas.Hub = { type: 'object', required: 'callback' };
    }),
    edited((d) => {
      d.paths['/hub'].post.responses['201'].content['application/json'].schema.$ref = '#/components/schemas/Nope';
    }),
    JSON.stringify({
      swagger: '2.0',
      info: { title: 'x', version: '1' },
      paths: {
        '/a': {
          get: { parameters: [{ name: 'q', in: 'query', type: 'array' }], responses: { '200': { description: 'ok' } } },
        },
      },
    }),
  ];
  for (const [index, text] of cases.entries()) {
    const document = parsed(text).document;
    const library = await SwaggerParser.validate(structuredClone(document) as never, {
      resolve: { external: false },
    }).then(
      () => true,
      () => false,
    );
    t.equal(
      (await validateDocument(parsed(text))).ok,
      library,
      `case ${index}: ${library ? 'accepted' : 'refused'} by both`,
    );
  }
});
