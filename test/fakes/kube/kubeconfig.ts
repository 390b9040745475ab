/** Kubeconfigs that point the real client at the stand-in, in memory and as file text. */
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export interface KubeConfigTarget {
  readonly url: string;
  /** PEM of the CA that signed the stand-in's serving certificate, for https. */
  readonly caPem?: string | Buffer;
  readonly token: string;
  readonly namespace: string;
}

export function buildKubeConfig(target: KubeConfigTarget): KubeConfig {
  const https = target.url.startsWith('https:');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    // client-node 2.0 refuses plain http unless TLS verification is marked skipped.
    clusters: [
      {
        name: 'stand-in',
        server: target.url,
        skipTLSVerify: !https,
        ...(https && target.caPem ? { caData: Buffer.from(target.caPem).toString('base64') } : {}),
      },
    ],
    // There must be a user: client-node applies the cluster CA only when one is set.
    users: [{ name: 'stand-in', token: target.token }],
    contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'stand-in', namespace: target.namespace }],
    currentContext: 'stand-in',
  });
  return kubeConfig;
}

/** The same configuration as YAML, to write to a file for a child process's KUBECONFIG. */
export function kubeConfigYaml(kubeConfig: KubeConfig): string {
  return stringify(JSON.parse(kubeConfig.exportConfig()));
}
