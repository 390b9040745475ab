// The README's install guide, followed as written: every `helm install` it
// gives renders with the real helm and the chart's schema, the ServiceAccounts
// its federated credentials name are the ones the chart makes and annotates,
// the objects it tells you to look at exist, and its sample ExposedAPI is
// admitted.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as shellParse } from 'shell-quote';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { checkExposedApi } from '../../../shared/exposed-api/check.ts';
import { CHART, helm, RELEASE, type Rendered } from '../../helpers/helm.ts';

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const GUIDE = README.slice(
  README.indexOf('## Install on AKS'),
  README.indexOf('\n## ', README.indexOf('## Install on AKS') + 1),
);

/** What the guide's shell variables hold on a real subscription, as the az commands would print them. */
const SHELL: Record<string, string> = {
  RG: 'my-rg',
  ACR: 'myacr',
  KV: 'my-apim-kv',
  APIM: 'my-apim',
  CLIENT_ID: '11111111-2222-3333-4444-555555555555',
  PRINCIPAL_ID: '66666666-7777-8888-9999-000000000000',
};

/** The guide's shell commands, continuation lines joined. */
const commands = [...GUIDE.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((m) => (m[1] ?? '').replace(/\\\n\s*/g, ' ').split('\n'))
  .map((line) => line.replace(/\s+#.*$/, '').trim())
  .filter((line) => line && !line.startsWith('#'));

const redisSet = (() => {
  const line = GUIDE.match(/REDIS_SET="([^"]+)"/);
  if (!line?.[1]) throw new Error('the guide no longer sets REDIS_SET');
  return line[1];
})();

function words(command: string, redis: string): string[] {
  const tokens = shellParse(command.replace('$REDIS_SET', redis), SHELL);
  return tokens.map((token) => {
    if (typeof token !== 'string') throw new Error(`unexpected shell syntax in ${command}: ${JSON.stringify(token)}`);
    return token;
  });
}

/** The word after `flag` in a command. */
function option(command: string, flag: string, redis = ''): string {
  const w = words(command, redis);
  const value = w[w.indexOf(flag) + 1];
  if (w.indexOf(flag) < 0 || value === undefined) throw new Error(`${command}: no ${flag}`);
  return value;
}

function renderInstall(command: string, redis: string): { ok: boolean; out: string; objects: Rendered[] } {
  // helm install <release> <chart> ...: the same arguments to helm template.
  const [, , release = '', chart = '', ...rest] = words(command, redis);
  const { ok, out } = helm(['template', release, chart === 'k8s/chart' ? CHART : chart, ...rest]);
  const objects = ok
    ? parseAllDocuments(out)
        .map((d) => d.toJS() as Rendered)
        .filter((o) => o && typeof o === 'object')
    : [];
  return { ok, out, objects };
}

const installs = commands.filter((c) => c.startsWith('helm install apim-operator k8s/chart'));

t.test('the guide gives a plain and a Canvas install', async (t) => {
  t.equal(installs.length, 2, 'two helm installs');
  t.ok(installs.some((c) => c.includes('monitoredNamespaces')));
});

for (const command of installs) {
  for (const [redis, name] of [
    [redisSet, 'Entra ID Redis'],
    ['', 'bundled Redis'],
  ] as const) {
    t.test(`${command.includes('monitoredNamespaces') ? 'Canvas' : 'AKS'} install with ${name} renders`, async (t) => {
      const { ok, out, objects } = renderInstall(command, redis);
      t.ok(ok, ok ? 'helm template succeeds' : out);
      const deployments = objects.filter((o) => o.kind === 'Deployment');
      for (const d of deployments) {
        const image = d.spec.template.spec.containers[0].image as string;
        t.match(image, /^myacr\.azurecr\.io\/oda-apim-operator:/, `${d.metadata.name} runs the image built in step 2`);
      }
      const accounts = new Map(
        objects
          .filter((o) => o.kind === 'ServiceAccount')
          .map((o) => [`${o.metadata.namespace}:${o.metadata.name}`, o]),
      );
      // Every federated credential's subject is a ServiceAccount the chart makes,
      // annotated with the identity whenever that process signs in to Azure.
      const subjects = commands
        .filter((c) => c.startsWith('az identity federated-credential create'))
        .map((c) => option(c, '--subject'));
      t.ok(subjects.length >= 2, 'a federated credential for each ServiceAccount');
      for (const subject of subjects) {
        const account = accounts.get(subject.replace('system:serviceaccount:', ''));
        t.ok(account, `${subject} is rendered`);
        const needsIdentity = subject.endsWith('-reconciler') || redis !== '';
        t.equal(
          account?.metadata.annotations?.['azure.workload.identity/client-id'],
          needsIdentity ? SHELL.CLIENT_ID : undefined,
          `${subject} ${needsIdentity ? 'carries the' : 'has no'} client id`,
        );
      }
      const service = GUIDE.match(/port-forward svc\/(\S+) (\d+)/);
      const target = objects.find((o) => o.kind === 'Service' && o.metadata.name === service?.[1]);
      t.ok(
        target?.spec.ports.some((p: Rendered) => String(p.port) === service?.[2]),
        'the dashboard port-forward names a rendered Service and port',
      );
    });
  }
}

t.test('the release and namespace the guide installs are those its commands name', async (t) => {
  for (const command of installs) {
    const w = words(command, redisSet);
    t.equal(w[2], RELEASE.name, 'release name');
    t.equal(option(command, '-n', redisSet), RELEASE.namespace, 'release namespace');
  }
  t.match(GUIDE, /system:serviceaccount:apim-operator:apim-operator-reconciler/);
});

t.test('the guide sample ExposedAPI is admitted', async (t) => {
  const sample = GUIDE.match(/<<'YAML'\n([\s\S]*?)\nYAML/);
  t.ok(sample, 'the guide has a sample ExposedAPI');
  const result = checkExposedApi(parseYaml(sample?.[1] ?? ''));
  t.same(result.problems, [], 'no problems');
  t.same(result.warnings, [], 'no warnings either');
});
