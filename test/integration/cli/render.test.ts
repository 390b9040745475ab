import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fixturePath } from '../../helpers/resources.ts';

const CLI = fileURLToPath(new URL('../../../bin/apim-operator.ts', import.meta.url));

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, LOG_LEVEL: 'silent', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

t.test('render prints the API id, the policy XML and the Ingress the reconciler writes', async (t) => {
  const result = await run(['render', fixturePath('exposedapi-v1-full-example.yaml')], {
    AAD_TENANT_ID: 'tenant-1',
    AAD_CLIENT_ID: 'client-1',
  });
  t.equal(result.code, 0, result.stderr);
  t.match(
    result.stdout,
    /# ExposedAPI default\/r1-productcatalogmanagement-productcatalogmanagement → APIM API default--r1-productcatalogmanagement-productcatalogmanagement/,
  );
  t.match(result.stdout, /<rate-limit-by-key calls="100" renewal-period="60"/);
  t.match(
    result.stdout,
    /<openid-config url="https:\/\/login\.microsoftonline\.com\/tenant-1\/v2\.0\/\.well-known\/openid-configuration"/,
  );
  t.match(result.stdout, /"ingressClassName": "istio"/);
});

t.test('without Entra settings it says validate-jwt is left out', async (t) => {
  const result = await run(['render', fixturePath('exposedapi-from-cluster-1.json')], {
    AAD_TENANT_ID: '',
    AAD_CLIENT_ID: '',
  });
  t.equal(result.code, 0);
  t.match(result.stderr, /validate-jwt left out/);
  t.notMatch(result.stdout, /validate-jwt/);
});
