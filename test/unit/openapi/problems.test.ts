import t from 'tap';
import {
  pointerToLocation,
  schemaProblems,
  specValidatorProblem,
  summarise,
  truncate,
} from '../../../shared/openapi/problems.ts';

t.test('pointerToLocation', async (t) => {
  const cases: Array<[string, string]> = [
    ['', '(document root)'],
    ['#', '(document root)'],
    ['/paths/~1hub/post/responses', 'paths./hub.post.responses'],
    ['#/paths/~1hub~1%7Bid%7D/get', 'paths./hub/{id}.get'],
    ['/components/schemas/a~0b', 'components.schemas.a~b'],
  ];
  for (const [pointer, location] of cases) t.equal(pointerToLocation(pointer), location, pointer);
});

t.test('schemaProblems drops oneOf noise when a specific finding exists', async (t) => {
  const errors = [
    {
      instancePath: '/paths/~1a/get/responses/200',
      keyword: 'required',
      message: "must have required property 'description'",
      params: { missingProperty: 'description' },
    },
    {
      instancePath: '/paths/~1a/get/responses/200',
      keyword: 'required',
      message: "must have required property '$ref'",
      params: { missingProperty: '$ref' },
    },
    {
      instancePath: '/paths/~1a/get/responses/200',
      keyword: 'oneOf',
      message: 'must match exactly one schema in oneOf',
      params: {},
    },
    {
      instancePath: '/info',
      keyword: 'enum',
      message: 'must be equal to one of the allowed values',
      params: { allowedValues: ['a', 'b'] },
    },
  ];
  t.same(schemaProblems(errors), [
    "paths./a.get.responses.200: must have required property 'description'",
    'info: must be equal to one of the allowed values ("a", "b")',
  ]);
  t.same(
    schemaProblems([errors[2]!]),
    ['paths./a.get.responses.200: must match exactly one schema in oneOf'],
    'noise is kept when it is all there is',
  );
});

t.test('summarise', async (t) => {
  t.equal(summarise(['a', 'a', 'b']), 'a; b', 'duplicates dropped');
  t.equal(summarise(['1', '2', '3', '4', '5', '6', '7']), '1; 2; 3; 4; 5; and 2 more problems');
  t.equal(summarise(['1', '2', '3', '4', '5', '6']), '1; 2; 3; 4; 5; and 1 more problem');
  const long = summarise(['x'.repeat(1000)]);
  t.equal(long.length, 200);
  t.ok(long.endsWith('…'));
});

t.test('truncate puts text on one line', async (t) => {
  t.equal(truncate('a\n  b\tc'), 'a b c');
  t.equal(truncate('abcdef', 4), 'abc…');
});

t.test('specValidatorProblem rewrites swagger-parser locations', async (t) => {
  t.equal(
    specValidatorProblem('Validation failed. /paths/pets/{id}/get is missing path parameter(s) for {id}'),
    'paths./pets/{id}.get: is missing path parameter(s) for {id}',
  );
  t.equal(
    specValidatorProblem('Validation failed. /paths/pets/get/responses/200 has an invalid response code (2000)'),
    'paths./pets.get.responses.200: has an invalid response code (2000)',
  );
  t.equal(
    specValidatorProblem("Validation failed. Property 'x' listed as required but does not exist in '/definitions/A'"),
    "Property 'x' listed as required but does not exist in '/definitions/A'",
  );
});
