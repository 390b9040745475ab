import t from 'tap';
import {
  authorized,
  challenges,
  readDashboardCredential,
  type DashboardSettings,
} from '../../reconciler/dashboard-auth.ts';
import { loadReconcilerConfig } from '../../reconciler/config.ts';

const SETTINGS: DashboardSettings = {
  username: 'admin',
  passwordFile: undefined,
  tokenFile: undefined,
  readOnly: false,
  localPort: 9091,
};
const files =
  (contents: Record<string, string>) =>
  (path: string): string => {
    const text = contents[path];
    if (text === undefined)
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
    return text;
  };
const basic = (userPassword: string) => `Basic ${Buffer.from(userPassword).toString('base64')}`;

t.test('no file configured: no credential (the loopback-only dashboard)', async (t) => {
  t.equal(readDashboardCredential(SETTINGS, files({})), undefined);
});

t.test(
  'basic auth: the user and the password, compared whole; the trailing newline of the file is not part of it',
  async (t) => {
    const credential = readDashboardCredential({ ...SETTINGS, passwordFile: '/p' }, files({ '/p': 'pa:ss wörd\n' }))!;
    const cases: [string | undefined, boolean][] = [
      [basic('admin:pa:ss wörd'), true],
      [`basic   ${Buffer.from('admin:pa:ss wörd').toString('base64')}`, true],
      [basic('admin:pa:ss wörd\n'), false],
      [basic('admin:pa:ss'), false],
      [basic('Admin:pa:ss wörd'), false],
      [basic('admin:'), false],
      [basic(''), false],
      ['Basic', false],
      ['Basic !!!', false],
      [undefined, false],
      ['', false],
      ['Bearer pa:ss wörd', false],
    ];
    for (const [header, expected] of cases) t.equal(authorized(header, credential), expected, String(header));
    t.same(challenges(credential), ['Basic realm="queue dashboard", charset="UTF-8"']);
  },
);

t.test('a bearer token, alone or beside basic auth', async (t) => {
  const credential = readDashboardCredential({ ...SETTINGS, tokenFile: '/t' }, files({ '/t': 'abc.def-123\r\n' }))!;
  t.ok(authorized('Bearer abc.def-123', credential));
  t.ok(authorized('bearer abc.def-123', credential), 'the scheme is case-insensitive');
  t.notOk(authorized('Bearer abc.def-12', credential), 'a prefix');
  t.notOk(authorized('Bearer abc.def-1234', credential), 'longer');
  t.notOk(authorized(basic('admin:abc.def-123'), credential), 'no basic auth without a password file');
  t.same(challenges(credential), ['Bearer realm="queue dashboard"']);
  const both = readDashboardCredential(
    { ...SETTINGS, passwordFile: '/p', tokenFile: '/t' },
    files({ '/p': 'pw', '/t': 'tok' }),
  )!;
  t.ok(authorized(basic('admin:pw'), both));
  t.ok(authorized('Bearer tok', both));
  t.equal(challenges(both).length, 2);
});

t.test('an unreadable or empty file stops the start with one line naming the variable', async (t) => {
  t.throws(() => readDashboardCredential({ ...SETTINGS, passwordFile: '/missing' }, files({})), {
    name: 'ConfigError',
    message:
      /^DASHBOARD_PASSWORD_FILE: cannot read "\/missing" \(ENOENT[^\n]*\): mount the Secret there or unset DASHBOARD_PASSWORD_FILE$/,
  });
  t.throws(() => readDashboardCredential({ ...SETTINGS, tokenFile: '/empty' }, files({ '/empty': '\n' })), {
    name: 'ConfigError',
    message: /^DASHBOARD_TOKEN_FILE: "\/empty" is empty: put the credential in it or unset DASHBOARD_TOKEN_FILE$/,
  });
  t.throws(
    () => readDashboardCredential({ ...SETTINGS, tokenFile: '/etc' }),
    { name: 'ConfigError', message: /EISDIR/ },
    'the real file reader',
  );
});

t.test('the settings: defaults and refusals', async (t) => {
  const base = {
    APIM_SERVICE_NAME: 'oda-apim',
    APIM_RESOURCE_GROUP: 'rg',
    AZURE_SUBSCRIPTION_ID: '0b3a4c5d-1e2f-4a5b-9c8d-7e6f5a4b3c2d',
    AAD_TENANT_ID: 't',
    AAD_CLIENT_ID: 'c',
  };
  t.same((await loadReconcilerConfig(base)).dashboard, SETTINGS, 'no credential, writable, loopback port 9091');
  t.same(
    (
      await loadReconcilerConfig({
        ...base,
        DASHBOARD_USERNAME: 'ops',
        DASHBOARD_PASSWORD_FILE: '/p',
        DASHBOARD_TOKEN_FILE: '/t',
        DASHBOARD_READ_ONLY: 'true',
        DASHBOARD_LOCAL_PORT: '0',
      })
    ).dashboard,
    { username: 'ops', passwordFile: '/p', tokenFile: '/t', readOnly: true, localPort: 0 },
  );
  const refusals: [Record<string, string>, RegExp][] = [
    [{ DASHBOARD_USERNAME: 'ops' }, /^DASHBOARD_USERNAME: is set but DASHBOARD_PASSWORD_FILE is not/],
    [{ DASHBOARD_USERNAME: 'a:b', DASHBOARD_PASSWORD_FILE: '/p' }, /^DASHBOARD_USERNAME: must not contain ":"/],
    [{ DASHBOARD_READ_ONLY: 'maybe' }, /^DASHBOARD_READ_ONLY: must be true or false, got "maybe"$/],
    [{ DASHBOARD_LOCAL_PORT: '9090' }, /^DASHBOARD_LOCAL_PORT: must differ from ADMIN_PORT \(9090\)/],
    [{ DASHBOARD_LOCAL_PORT: 'x' }, /^DASHBOARD_LOCAL_PORT: must be an integer from 0 to 65535, got "x"$/],
  ];
  for (const [env, message] of refusals)
    await t.rejects(loadReconcilerConfig({ ...base, ...env }), { name: 'ConfigError', message }, JSON.stringify(env));
});
