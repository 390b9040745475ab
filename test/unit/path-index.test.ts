import t from 'tap';
import { createPathIndex, normalisePath } from '../../webhook/path-index.ts';

t.test('normalisePath', async (t) => {
  const cases: [string, string][] = [
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b'],
    ['/a/b///', '/a/b'],
    ['a/b', '/a/b'],
    ['//a//b', '/a/b'],
    ['/A/Tmf-Api/ProductCatalogManagement/v4', '/a/tmf-api/productcatalogmanagement/v4'],
    ['  /a/b  ', '/a/b'],
    ['/', '/'],
  ];
  for (const [input, expected] of cases) t.equal(normalisePath(input), expected, JSON.stringify(input));
});

type Step =
  | ['upsert', string, string | undefined]
  | ['remove', string]
  | ['replaceAll', [string, string | undefined][]];
interface Case {
  name: string;
  steps: Step[];
  /** [path asked, exceptKey, expected claimant] */
  expect: [string, string, string | undefined][];
  size: number;
}

const cases: Case[] = [
  {
    name: 'a claim matches however the path is written',
    steps: [['upsert', 'ns/one', '/Shop/API/v1/']],
    expect: [
      ['/shop/api/v1', 'ns/other', 'ns/one'],
      ['shop//api/v1', 'ns/other', 'ns/one'],
      ['/SHOP/API/V1///', 'x/y', 'ns/one'],
      ['/shop/api', 'x/y', undefined],
    ],
    size: 1,
  },
  {
    name: 'an object never conflicts with itself (exceptKey)',
    steps: [['upsert', 'ns/one', '/a']],
    expect: [
      ['/a', 'ns/one', undefined],
      ['/a', 'ns/two', 'ns/one'],
    ],
    size: 1,
  },
  {
    name: 'the same name in another namespace is another object',
    steps: [['upsert', 'ns1/api', '/a']],
    expect: [['/a', 'ns2/api', 'ns1/api']],
    size: 1,
  },
  {
    name: 'an upsert moves the claim',
    steps: [
      ['upsert', 'ns/one', '/a'],
      ['upsert', 'ns/one', '/b'],
    ],
    expect: [
      ['/a', 'ns/two', undefined],
      ['/b', 'ns/two', 'ns/one'],
    ],
    size: 1,
  },
  {
    name: 'an upsert with no path drops the claim',
    steps: [
      ['upsert', 'ns/one', '/a'],
      ['upsert', 'ns/one', undefined],
    ],
    expect: [['/a', 'ns/two', undefined]],
    size: 0,
  },
  {
    name: 'remove drops the claim; removing an unknown key is harmless',
    steps: [
      ['upsert', 'ns/one', '/a'],
      ['remove', 'ns/one'],
      ['remove', 'ns/never'],
    ],
    expect: [['/a', 'ns/two', undefined]],
    size: 0,
  },
  {
    name: 'two claimants (a past race): the other one answers, the smallest key first',
    steps: [
      ['upsert', 'ns/b', '/a'],
      ['upsert', 'ns/a', '/A/'],
    ],
    expect: [
      ['/a', 'ns/x', 'ns/a'],
      ['/a', 'ns/a', 'ns/b'],
      ['/a', 'ns/b', 'ns/a'],
    ],
    size: 2,
  },
  {
    name: 'replaceAll forgets what the new list does not hold',
    steps: [
      ['upsert', 'ns/old', '/old'],
      ['upsert', 'ns/kept', '/kept'],
      [
        'replaceAll',
        [
          ['ns/kept', '/moved'],
          ['ns/new', '/new'],
          ['ns/none', undefined],
        ],
      ],
    ],
    expect: [
      ['/old', 'x/y', undefined],
      ['/kept', 'x/y', undefined],
      ['/moved', 'x/y', 'ns/kept'],
      ['/new', 'x/y', 'ns/new'],
    ],
    size: 2,
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const index = createPathIndex();
    for (const step of c.steps) {
      if (step[0] === 'upsert') index.upsert(step[1], step[2]);
      else if (step[0] === 'remove') index.remove(step[1]);
      else index.replaceAll(step[1]);
    }
    for (const [path, exceptKey, expected] of c.expect)
      t.equal(index.claimant(path, exceptKey), expected, `claimant(${path}, ${exceptKey})`);
    t.equal(index.size(), c.size, 'size');
  });
}
