/**
 * The namespaces the operator serves, as the ODA Canvas operators take them
 * (`monitoredNamespaces: 'components,odacompns-*'`): a comma-separated list
 * of names and globs; a leading `!` excludes. Empty means every namespace.
 * Everywhere else an ExposedAPI is left untouched: not reconciled, not denied.
 */
import picomatch from 'picomatch';
import { ConfigError } from './errors.ts';
import { list, type Env } from './env.ts';

export interface MonitoredNamespaces {
  /** The patterns as given; empty: all namespaces. */
  readonly patterns: readonly string[];
  matches(namespace: string): boolean;
  /**
   * The namespaces by name when the list holds only plain names: then watches
   * run per namespace (and RBAC can be namespaced); undefined when it needs a
   * cluster-wide watch filtered here (globs, exclusions, or all namespaces).
   */
  readonly names: readonly string[] | undefined;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const GLOB = /^[a-z0-9*?[\]-]+$/;

export function monitoredNamespaces(
  patterns: readonly string[],
  setting = 'MONITORED_NAMESPACES',
): MonitoredNamespaces {
  for (const pattern of patterns) {
    const body = pattern.startsWith('!') ? pattern.slice(1) : pattern;
    if (!GLOB.test(body) || body.length > 63) {
      throw new ConfigError(
        `${setting}: ${JSON.stringify(pattern)} is not a namespace name or glob (letters, digits, '-', '*', '?', '[...]'; a leading '!' excludes)`,
      );
    }
  }
  const include = patterns.filter((p) => !p.startsWith('!'));
  const exclude = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  const included = include.length === 0 ? () => true : picomatch(include);
  const excluded = exclude.length === 0 ? () => false : picomatch(exclude);
  const plain = include.length > 0 && exclude.length === 0 && include.every((p) => NAME.test(p));
  return {
    patterns,
    matches: (namespace) => included(namespace) && !excluded(namespace),
    names: plain ? [...new Set(include)].sort() : undefined,
  };
}

/** MONITORED_NAMESPACES from the environment. */
export function monitoredNamespacesFrom(env: Env): MonitoredNamespaces {
  return monitoredNamespaces(list(env, 'MONITORED_NAMESPACES'));
}
