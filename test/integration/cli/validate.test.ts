import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { exposedApi, fixturePath, seedExposedApi } from '../../helpers/resources.ts';

const CLI = fileURLToPath(new URL('../../../bin/apim-operator.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'apim-cli-'));

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, LOG_LEVEL: 'silent' } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const file = (name: string, ...objects: object[]): string => {
  const path = join(dir, name);
  writeFileSync(path, objects.map((o) => stringify(o)).join('---\n'));
  return path;
};

t.test('valid files pass with exit code 0', async (t) => {
  const result = await run(
    'validate',
    fixturePath('exposedapi-from-cluster-2.json'),
    file('seed.yaml', seedExposedApi()),
  );
  t.equal(result.code, 0, result.stdout);
  t.match(result.stdout, /ExposedAPI components\/prdcat3-productcatalogmanagement-metrics: valid/);
  t.match(result.stdout, /ExposedAPI default\/seed-api: valid/);
  t.match(result.stdout, /warning: oda\.tmforum\.org\/v1beta3 is deprecated/);
});

t.test('a multi-document file with an invalid resource fails with the webhook messages', async (t) => {
  const path = file(
    'multi.yaml',
    exposedApi({}, { name: 'good' }),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
    exposedApi({ path: 'bad', rateLimit: { enabled: true, limit: 'abc' } }, { name: 'bad' }),
  );
  const result = await run('validate', path);
  t.equal(result.code, 1);
  t.match(result.stdout, /multi\.yaml#1 ExposedAPI components\/good: valid/);
  t.match(result.stdout, /multi\.yaml#3 ExposedAPI components\/bad: invalid/);
  t.match(result.stdout, /- spec\.path: must start with "\/"/);
  t.match(result.stdout, /- spec\.rateLimit\.limit: must be a positive whole number of at most 10 digits, got "abc"/);
  t.notMatch(result.stdout, /ConfigMap/, 'other kinds are left out');
});

t.test('two resources on one path in the same run', async (t) => {
  const path = file(
    'twins.yaml',
    exposedApi({ path: '/same' }, { name: 'a' }),
    exposedApi({ path: '/same/' }, { name: 'b' }),
  );
  const result = await run('validate', path);
  t.equal(result.code, 1);
  t.match(result.stdout, /spec\.path: "\/same\/?" is already claimed by ExposedAPI components\/(a|b)/);
});

t.test('unreadable input and usage errors exit 2 without a stack trace', async (t) => {
  const missing = await run('validate', join(dir, 'nope.yaml'));
  t.equal(missing.code, 2);
  t.match(missing.stdout, /nope\.yaml: cannot be read/);
  const notYaml = await run('validate', file('broken.yaml', {}).replace(/$/, ''));
  t.equal(notYaml.code, 0, 'an empty object is no ExposedAPI');
  writeFileSync(join(dir, 'garbage.yaml'), 'a: [1, 2\nb: }');
  const garbage = await run('validate', join(dir, 'garbage.yaml'));
  t.equal(garbage.code, 2);
  t.match(garbage.stdout, /garbage\.yaml#1: is not valid YAML or JSON/);
  const usage = await run();
  t.equal(usage.code, 2);
  t.match(usage.stderr, /usage: apim-operator validate FILE/);
  t.notMatch(garbage.stdout + garbage.stderr + usage.stderr, /\n\s+at /);
});
