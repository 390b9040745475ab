import { BlockList, isIP } from 'node:net';

/**
 * Where the webhook may fetch specifications from. Pure: the guarded agent
 * applies it to the address each socket actually connects to.
 */

export interface DestinationRules {
  /** CIDRs (`10.0.0.0/8`), addresses, host names (`specs.example.com`) and patterns (`*.example.com`). Non-empty: only these. */
  allow: readonly string[];
  /** Same forms; deny wins over allow. */
  deny: readonly string[];
}

export type Verdict = { allowed: true } | { allowed: false; reason: string };

export interface DestinationPolicy {
  /** Before DNS: refuses names that no address could redeem, and IP literals outright. */
  checkHost(host: string): Verdict;
  /** At connect time, for every address the name resolved to. */
  checkAddress(host: string, address: string): Verdict;
}

/**
 * Link-local and cloud metadata endpoints, refused whatever the rules say:
 * they hand out credentials to anything that can reach them.
 */
const ALWAYS_BLOCKED_V4: ReadonlyArray<[string, number]> = [
  ['169.254.0.0', 16], // link-local: AWS, GCP, Azure IMDS at 169.254.169.254
  ['0.0.0.0', 8], // "this host": connects to local services on Linux
  ['100.100.100.200', 32], // Alibaba Cloud metadata
  ['168.63.129.16', 32], // Azure WireServer
];
const ALWAYS_BLOCKED_V6: ReadonlyArray<[string, number]> = [
  ['fe80::', 10], // link-local
  ['fd00:ec2::254', 128], // AWS IMDS over IPv6
  ['::', 128], // unspecified, the IPv6 0.0.0.0
];
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.com',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
]);

const alwaysBlocked = buildBlockList(ALWAYS_BLOCKED_V4, ALWAYS_BLOCKED_V6);

interface CompiledRules {
  addresses: BlockList;
  names: string[];
  hasAddresses: boolean;
}

/** Throws on a malformed rule, so a bad setting fails at boot and not at the first admission. */
export function createDestinationPolicy(rules: DestinationRules): DestinationPolicy {
  const allow = compileRules(rules.allow, 'allow');
  const deny = compileRules(rules.deny, 'deny');
  const checkAddress = (host: string, address: string): Verdict => {
    const name = normaliseHost(host);
    const forms = addressForms(address);
    if (forms.some(([ip, family]) => alwaysBlocked.check(ip, family))) {
      return blocked(`${address} is a link-local, unspecified or cloud metadata address, which is never fetched from`);
    }
    if (METADATA_NAMES.has(name)) return blocked(`${name} is a cloud metadata host, which is never fetched from`);
    if (matchesName(deny.names, name) || forms.some(([ip, family]) => deny.addresses.check(ip, family))) {
      return blocked(`${name === address ? address : `${name} (${address})`} is in the deny list`);
    }
    if (
      rules.allow.length === 0 ||
      matchesName(allow.names, name) ||
      forms.some(([ip, family]) => allow.addresses.check(ip, family))
    ) {
      return { allowed: true };
    }
    return blocked(`${name === address ? address : `${name} (${address})`} is not in the allow list`);
  };
  const checkHost = (host: string): Verdict => {
    const name = normaliseHost(host);
    if (isIP(name)) return checkAddress(name, name);
    if (METADATA_NAMES.has(name)) return blocked(`${name} is a cloud metadata host, which is never fetched from`);
    if (matchesName(deny.names, name)) return blocked(`${name} is in the deny list`);
    // Only address rules could still admit a name the allow list does not name.
    if (rules.allow.length > 0 && !allow.hasAddresses && !matchesName(allow.names, name))
      return blocked(`${name} is not in the allow list`);
    return { allowed: true };
  };
  return { checkHost, checkAddress };
}

/** Lower case, no IPv6 brackets, no trailing root dot. */
export function normaliseHost(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

function compileRules(entries: readonly string[], list: string): CompiledRules {
  const addresses = new BlockList();
  const names: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    const [address = '', prefixText] = entry.split('/');
    const family = isIP(address);
    if (family !== 0) {
      const bits = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? bits : Number(prefixText);
      if (
        !Number.isInteger(prefix) ||
        prefix < 0 ||
        prefix > bits ||
        (prefixText !== undefined && !/^\d+$/.test(prefixText))
      ) {
        throw new Error(`${list} rule ${JSON.stringify(raw)} has an invalid prefix length`);
      }
      addresses.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    } else if (/^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.?$/.test(entry)) {
      names.push(entry.replace(/\.$/, ''));
    } else {
      throw new Error(
        `${list} rule ${JSON.stringify(raw)} is neither a CIDR, an address, a host name nor a *.domain pattern`,
      );
    }
  }
  return { addresses, names, hasAddresses: names.length < entries.length };
}

/** `*.example.com` matches any name below example.com, not example.com itself. */
function matchesName(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) => (pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) : name === pattern));
}

type Family = 'ipv4' | 'ipv6';

/**
 * The address as written, plus the IPv4 address it embeds when it is an
 * IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) or 6to4 (2002::/16)
 * form: each reaches the same IPv4 host, so each must pass the same rules.
 */
export function addressForms(address: string): Array<[string, Family]> {
  const plain = normaliseHost(address).replace(/%.*$/, '');
  if (isIP(plain) === 4) return [[plain, 'ipv4']];
  const forms: Array<[string, Family]> = [[plain, 'ipv6']];
  const groups = ipv6Groups(plain);
  if (!groups) return forms;
  const zeroes = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  let embedded: [number, number] | undefined;
  if (zeroes(0, 5) && groups[5] === 0xffff) embedded = [groups[6]!, groups[7]!];
  else if (groups[0] === 0x64 && groups[1] === 0xff9b && zeroes(2, 6)) embedded = [groups[6]!, groups[7]!];
  else if (groups[0] === 0x2002) embedded = [groups[1]!, groups[2]!];
  if (embedded)
    forms.push([`${embedded[0] >> 8}.${embedded[0] & 0xff}.${embedded[1] >> 8}.${embedded[1] & 0xff}`, 'ipv4']);
  return forms;
}

/** Eight 16-bit groups of a valid IPv6 address (with `::` and a dotted IPv4 tail). */
function ipv6Groups(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const before = parse(head);
  const after = tail === undefined ? [] : parse(tail);
  const missing = 8 - before.length - after.length;
  return [...before, ...Array.from({ length: Math.max(missing, 0) }, () => 0), ...after];
}

function buildBlockList(v4: ReadonlyArray<[string, number]>, v6: ReadonlyArray<[string, number]>): BlockList {
  const list = new BlockList();
  for (const [address, prefix] of v4) list.addSubnet(address, prefix, 'ipv4');
  for (const [address, prefix] of v6) list.addSubnet(address, prefix, 'ipv6');
  return list;
}

function blocked(reason: string): Verdict {
  return { allowed: false, reason };
}
