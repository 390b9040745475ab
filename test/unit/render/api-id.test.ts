import t from 'tap';
import {
  apiIdFor,
  displayNameFor,
  isOwnedBy,
  MAX_API_ID_LENGTH,
  ownershipMarker,
} from '../../../reconciler/render/api-id.ts';

const VALID_ID = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;

t.test('ids are readable when they can be, hashed otherwise', async (t) => {
  const cases: [string, string, string, string | RegExp][] = [
    ['plain', 'components', 'r1-productcatalog', 'components--r1-productcatalog'],
    ['dots in the name', 'components', 'r1.catalog', /^components-r1-catalog---[0-9a-f]{8}$/],
    ['namespace starts with a digit', '1team', 'api', /^team-api---[0-9a-f]{8}$/],
    ['double hyphen in the name', 'ns', 'a--b', /^ns-a-b---[0-9a-f]{8}$/],
    ['too long', 'n'.repeat(40), 'x'.repeat(60), new RegExp(`^n{40}-x{28}---[0-9a-f]{8}$`)],
    ['nothing usable', '9', '9', /^api---[0-9a-f]{8}$/],
  ];
  for (const [label, ns, name, expected] of cases) {
    const id = apiIdFor(ns, name);
    if (typeof expected === 'string') t.equal(id, expected, label);
    else t.match(id, expected, label);
    t.ok(id.length <= MAX_API_ID_LENGTH, `${label}: length`);
  }
});

t.test('keys that join the same way get different ids', async (t) => {
  const pairs: [[string, string], [string, string]][] = [
    [
      ['a-b', 'c'],
      ['a', 'b-c'],
    ],
    [
      ['a', 'b.c'],
      ['a-b', 'c'],
    ],
    [
      ['a', 'b.c'],
      ['a', 'b-c'],
    ],
    [
      ['x', 'y--z'],
      ['x-y', 'z'],
    ],
    [
      ['n'.repeat(40), 'x'.repeat(60)],
      ['n'.repeat(40), 'x'.repeat(61)],
    ],
  ];
  for (const [[ns1, n1], [ns2, n2]] of pairs)
    t.not(apiIdFor(ns1, n1), apiIdFor(ns2, n2), `${ns1}/${n1} vs ${ns2}/${n2}`);
});

t.test('property: random keys give valid, unique, stable ids', async (t) => {
  let seed = 42;
  const random = (): number => {
    // mulberry32: a small seeded generator, so a failure reproduces.
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const word = (alphabet: string, max: number): string => {
    const length = 1 + Math.floor(random() * max);
    return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  };
  const ids = new Map<string, string>();
  let failures = 0;
  for (let i = 0; i < 20000; i++) {
    // Short words over a tiny alphabet make near-collisions (a-b/c vs a/b-c) likely.
    const short = random() < 0.7;
    const ns = short ? word('ab-', 4) : word('abcdefghijklmnopqrstuvwxyz0123456789-', 63);
    const name = short ? word('ab-.', 4) : word('abcdefghijklmnopqrstuvwxyz0123456789-.', 253);
    const key = `${ns}/${name}`;
    const id = apiIdFor(ns, name);
    const ok = VALID_ID.test(id) && id.length <= MAX_API_ID_LENGTH && apiIdFor(ns, name) === id;
    const other = ids.get(id);
    if (!ok || (other !== undefined && other !== key)) {
      failures++;
      if (failures < 5) t.fail(`${key} -> ${id} (also ${other})`);
    }
    ids.set(id, key);
  }
  t.equal(failures, 0, 'every id is valid, unique and stable');
  t.ok(ids.size > 1000, 'many distinct keys were tried');
});

t.test('display names carry the key and stay within 300 characters', async (t) => {
  t.equal(
    displayNameFor({ name: 'productcatalog', key: { namespace: 'components', name: 'r1-pc' } }),
    'productcatalog (components/r1-pc)',
  );
  const long1 = displayNameFor({ name: 'p'.repeat(300), key: { namespace: 'a', name: 'x' } });
  const long2 = displayNameFor({ name: 'p'.repeat(300), key: { namespace: 'b', name: 'x' } });
  t.ok(long1.length <= 300 && long2.length <= 300);
  t.not(long1, long2, 'the hash keeps truncated names apart');
});

t.test('ownership is one whole marker line', async (t) => {
  const key = { namespace: 'ns', name: 'a' };
  const description = `Product catalog\n${ownershipMarker(key)}\nspec-sha256: abc`;
  const cases: [string, string | undefined, boolean][] = [
    ['marked', description, true],
    ['marked with CRLF', description.replace(/\n/g, '\r\n'), true],
    ['another name that starts the same', `x\n${ownershipMarker({ namespace: 'ns', name: 'ab' })}`, false],
    ['another namespace', ownershipMarker({ namespace: 'other', name: 'a' }), false],
    ['marker inside a line', `see ${ownershipMarker(key)} here`, false],
    ['no description', undefined, false],
  ];
  for (const [label, text, expected] of cases) t.equal(isOwnedBy(text, key), expected, label);
});
