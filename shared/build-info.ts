import { Gauge, type Registry } from 'prom-client';
import pkg from '../package.json' with { type: 'json' };

/** What `apim_operator_build_info` says about the running process. */
export interface BuildInfo {
  readonly version: string;
  readonly node_version: string;
  readonly component: 'webhook' | 'reconciler';
}

export function buildInfo(component: BuildInfo['component']): BuildInfo {
  return { version: pkg.version, node_version: process.version, component };
}

/**
 * `apim_operator_build_info{version,node_version,component} 1`, the usual
 * info-metric form: a dashboard or alert joins on it to show which release
 * runs, and a rollout shows as two versions side by side.
 */
export function registerBuildInfo(registry: Registry, component: BuildInfo['component']): Gauge<keyof BuildInfo> {
  const gauge = new Gauge({
    name: 'apim_operator_build_info',
    help: 'Always 1; the labels say which release, Node.js and part of the operator this process is.',
    labelNames: ['version', 'node_version', 'component'],
    registers: [registry],
  });
  gauge.set({ ...buildInfo(component) }, 1);
  return gauge;
}
