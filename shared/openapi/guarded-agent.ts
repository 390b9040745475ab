import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { normaliseHost, type DestinationPolicy } from './address-policy.ts';

/**
 * An undici Agent that checks the address each socket connects to. The check
 * runs inside the socket's own DNS lookup, so the address checked is the
 * address used: a name that resolves to a public address for a pre-flight
 * check and to 169.254.169.254 for the connection (DNS rebinding) gains nothing.
 */

export const BLOCKED_CODE = 'ERR_SPEC_FETCH_BLOCKED';

export class DestinationBlockedError extends Error {
  readonly code = BLOCKED_CODE;
}

/** `dns.lookup` with `all: true`; tests pass a fake to map names to chosen addresses. */
export type ResolveAll = (
  hostname: string,
  callback: (error: Error | null, addresses: LookupAddress[]) => void,
) => void;

export const systemResolveAll: ResolveAll = (hostname, callback) => {
  dnsLookup(hostname, { all: true }, (error, addresses) => callback(error, addresses ?? []));
};

export interface GuardedAgentOptions {
  policy: DestinationPolicy;
  resolveAll?: ResolveAll;
  connectTimeoutMs: number;
}

export function createGuardedAgent(options: GuardedAgentOptions): Agent {
  const lookup = guardedLookup(options.policy, options.resolveAll ?? systemResolveAll);
  const baseConnect = buildConnector({ lookup, timeout: options.connectTimeoutMs });
  return new Agent({
    connect: (connectOptions, callback) => {
      // net.connect skips the lookup for IP literals, so those are checked here.
      const host = normaliseHost(connectOptions.hostname);
      if (isIP(host)) {
        const verdict = options.policy.checkAddress(host, host);
        if (!verdict.allowed) {
          callback(new DestinationBlockedError(verdict.reason), null);
          return;
        }
      }
      baseConnect(connectOptions, callback);
    },
  });
}

/**
 * Resolves every address, keeps those the policy allows and hands only those
 * to the socket. When none is allowed the connection fails with the reason.
 */
export function guardedLookup(policy: DestinationPolicy, resolveAll: ResolveAll): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    resolveAll(hostname, (error, addresses) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const verdicts = addresses.map((entry) => ({ entry, verdict: policy.checkAddress(hostname, entry.address) }));
      const allowed = verdicts
        .filter(({ verdict }) => verdict.allowed)
        .map(({ entry }) => entry)
        .filter(
          (entry) =>
            lookupOptions.family === undefined || lookupOptions.family === 0 || entry.family === lookupOptions.family,
        );
      if (allowed.length === 0) {
        const refusal = verdicts.find(({ verdict }) => !verdict.allowed)?.verdict;
        const failure =
          refusal && !refusal.allowed
            ? new DestinationBlockedError(refusal.reason)
            : Object.assign(new Error(`${hostname} has no address of the requested family`), { code: 'ENOTFOUND' });
        callback(failure, '', 0);
        return;
      }
      if (lookupOptions.all) (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, allowed);
      else callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
