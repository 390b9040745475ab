import t from 'tap';
import {
  addressForms,
  createDestinationPolicy,
  type DestinationRules,
} from '../../../shared/openapi/address-policy.ts';

const open: DestinationRules = { allow: [], deny: [] };

t.test('metadata, link-local and unspecified addresses are refused whatever the rules', async (t) => {
  const everything: DestinationRules = { allow: ['0.0.0.0/0', '::/0'], deny: [] };
  const addresses = [
    '169.254.169.254',
    '169.254.0.1',
    '0.0.0.0',
    '0.1.2.3',
    '100.100.100.200',
    '168.63.129.16',
    'fe80::1',
    'FE80::abcd:1',
    'fd00:ec2::254',
    '::',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '[::ffff:a9fe:a9fe]',
    '::ffff:100.100.100.200',
    '64:ff9b::a9fe:a9fe',
    '2002:a9fe:a9fe::',
    'fe80::1%eth0',
  ];
  for (const rules of [open, everything]) {
    const policy = createDestinationPolicy(rules);
    for (const address of addresses) {
      t.match(
        policy.checkAddress(address, address),
        { allowed: false, reason: /link-local, unspecified or cloud metadata/ },
        `${address} with allow [${rules.allow.join(', ')}]`,
      );
      t.equal(policy.checkHost(address).allowed, false, `${address} refused before any connection`);
    }
  }
});

t.test('metadata host names are refused by name', async (t) => {
  const policy = createDestinationPolicy(open);
  for (const name of ['metadata.google.internal', 'METADATA.google.internal.', 'metadata.azure.com', 'instance-data']) {
    t.match(policy.checkHost(name), { allowed: false, reason: /cloud metadata host/ }, name);
  }
});

t.test('neighbours of the blocked ranges stay open by default', async (t) => {
  const policy = createDestinationPolicy(open);
  for (const address of [
    '169.253.255.255',
    '169.255.0.0',
    '1.0.0.0',
    '100.100.100.201',
    '168.63.129.17',
    '127.0.0.1',
    '::1',
    'fec0::1',
    'fd00:ec2::253',
    '10.0.0.1',
  ]) {
    t.same(policy.checkAddress(address, address), { allowed: true }, address);
  }
});

t.test('allow and deny rules', async (t) => {
  const cases: Array<{ rules: DestinationRules; host: string; address: string; allowed: boolean }> = [
    { rules: { allow: [], deny: ['10.0.0.0/8'] }, host: 'svc.internal', address: '10.2.3.4', allowed: false },
    { rules: { allow: [], deny: ['10.0.0.0/8'] }, host: 'svc.internal', address: '::ffff:10.2.3.4', allowed: false },
    { rules: { allow: [], deny: ['10.0.0.0/8'] }, host: 'svc.internal', address: '11.0.0.1', allowed: true },
    { rules: { allow: [], deny: ['*.corp.example'] }, host: 'a.b.corp.example', address: '8.8.8.8', allowed: false },
    { rules: { allow: [], deny: ['*.corp.example'] }, host: 'corp.example', address: '8.8.8.8', allowed: true },
    { rules: { allow: ['specs.example.com'], deny: [] }, host: 'SPECS.example.com', address: '8.8.8.8', allowed: true },
    {
      rules: { allow: ['specs.example.com'], deny: [] },
      host: 'other.example.com',
      address: '8.8.8.8',
      allowed: false,
    },
    { rules: { allow: ['192.168.0.0/16'], deny: [] }, host: 'anything', address: '192.168.4.4', allowed: true },
    { rules: { allow: ['192.168.0.0/16'], deny: [] }, host: 'anything', address: '192.169.0.1', allowed: false },
    { rules: { allow: ['2001:db8::/32'], deny: [] }, host: 'v6', address: '2001:db8::1', allowed: true },
    {
      rules: { allow: ['*.example.com'], deny: ['evil.example.com'] },
      host: 'evil.example.com',
      address: '8.8.8.8',
      allowed: false,
    },
    { rules: { allow: ['8.8.8.8'], deny: ['8.8.8.8/32'] }, host: 'dns', address: '8.8.8.8', allowed: false },
  ];
  for (const { rules, host, address, allowed } of cases) {
    const verdict = createDestinationPolicy(rules).checkAddress(host, address);
    t.equal(verdict.allowed, allowed, `${host} (${address}) with ${JSON.stringify(rules)}`);
  }
});

t.test('checkHost decides early only what no address could change', async (t) => {
  t.equal(
    createDestinationPolicy({ allow: ['*.example.com'], deny: [] }).checkHost('other.org').allowed,
    false,
    'names only: outside is final',
  );
  t.equal(
    createDestinationPolicy({ allow: ['10.0.0.0/8'], deny: [] }).checkHost('other.org').allowed,
    true,
    'an address rule may still admit it',
  );
  t.equal(
    createDestinationPolicy({ allow: [], deny: ['other.org'] }).checkHost('other.org.').allowed,
    false,
    'trailing dot',
  );
  t.equal(
    createDestinationPolicy({ allow: ['10.0.0.0/8'], deny: [] }).checkHost('11.0.0.1').allowed,
    false,
    'literals are checked in full',
  );
});

t.test('malformed rules fail at creation', async (t) => {
  for (const rule of ['10.0.0.0/33', '10.0.0.0/x', 'http://example.com', 'exa mple.com', '*', '::/129']) {
    t.throws(() => createDestinationPolicy({ allow: [rule], deny: [] }), { message: /rule/ }, rule);
  }
});

t.test('addressForms finds the IPv4 address inside IPv6 forms', async (t) => {
  t.same(addressForms('::ffff:127.0.0.1'), [
    ['::ffff:127.0.0.1', 'ipv6'],
    ['127.0.0.1', 'ipv4'],
  ]);
  t.same(addressForms('64:ff9b::0a00:0001'), [
    ['64:ff9b::0a00:0001', 'ipv6'],
    ['10.0.0.1', 'ipv4'],
  ]);
  t.same(addressForms('2001:db8::1'), [['2001:db8::1', 'ipv6']]);
  t.same(addressForms('10.0.0.1'), [['10.0.0.1', 'ipv4']]);
});
