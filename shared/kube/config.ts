import { isIPv6 } from 'node:net';
import { delimiter } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { reuseConnections } from './pooled-connections.ts';

/**
 * Kubernetes access from the environment: KUBECONFIG (a path list), else
 * in-cluster, else none; its calls share connections (see reuseConnections).
 */
export function loadKubeConfig(env: Readonly<Record<string, string | undefined>>): KubeConfig | undefined {
  const kubeConfig = fromEnvironment(env);
  return kubeConfig && reuseConnections(kubeConfig);
}

function fromEnvironment(env: Readonly<Record<string, string | undefined>>): KubeConfig | undefined {
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f.trim() !== '');
  const kubeConfig = new KubeConfig();
  if (files.length > 0) {
    files.forEach((file, i) => {
      if (i === 0) return kubeConfig.loadFromFile(file);
      const more = new KubeConfig();
      more.loadFromFile(file);
      kubeConfig.mergeConfig(more, true);
    });
    return kubeConfig;
  }
  if (env.KUBERNETES_SERVICE_HOST)
    return inClusterConfig(kubeConfig, env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT ?? '443');
  return undefined;
}

/** loadFromCluster() reads process.env itself: redo its server URL from the env we were given. */
function inClusterConfig(kubeConfig: KubeConfig, host: string, port: string): KubeConfig {
  kubeConfig.loadFromCluster();
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const { clusters, users, contexts, currentContext } = kubeConfig;
  kubeConfig.loadFromOptions({ clusters: clusters.map((c) => ({ ...c, server })), users, contexts, currentContext });
  return kubeConfig;
}
