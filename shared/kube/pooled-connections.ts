import { createHash } from 'node:crypto';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import type { AgentOptions } from 'node:https';

/** What client-node's KubeConfig uses, unexported, to make each request's undici dispatcher. */
interface DispatcherFactory {
  createDispatcher(cluster: Cluster | null, agentOptions: AgentOptions): Closable | undefined;
}
interface Closable {
  close(): Promise<void>;
}

/** The dispatcher settings as one short string: certificates and keys are hashed, never kept. */
function fingerprint(kubeConfig: KubeConfig, cluster: Cluster | null, agentOptions: AgentOptions): string {
  const options = kubeConfig.createDispatcherOptions(cluster, agentOptions);
  return createHash('sha256').update(JSON.stringify(options)).digest('base64url');
}

/**
 * client-node 2.x builds a new undici Agent for every API call and every
 * watch, so each one opened its own connection: a TCP and TLS handshake per
 * request to the API server, and as many sockets as requests in flight. This
 * keeps one dispatcher for as long as the TLS settings stay the same, which
 * is what client-go's transport cache does. When they change (a rotated
 * client certificate or CA file, read again on every call) the new settings
 * get a new dispatcher and the old one is closed once its requests, watches
 * included, have ended.
 *
 * It replaces an unexported method, so a client-node upgrade that renames it
 * fails here at start-up instead of silently going back to one connection per
 * request; the connection-count test covers the behaviour.
 */
export function reuseConnections(kubeConfig: KubeConfig): KubeConfig {
  const factory = kubeConfig as unknown as DispatcherFactory;
  if (typeof factory.createDispatcher !== 'function')
    throw new Error(
      '@kubernetes/client-node no longer has KubeConfig.createDispatcher: update shared/kube/pooled-connections.ts for this version',
    );
  const create = factory.createDispatcher.bind(kubeConfig);
  let current: { key: string; dispatcher: Closable | undefined } | undefined;
  factory.createDispatcher = (cluster, agentOptions) => {
    const key = fingerprint(kubeConfig, cluster, agentOptions);
    if (current?.key === key) return current.dispatcher;
    const previous = current?.dispatcher;
    current = { key, dispatcher: create(cluster, agentOptions) };
    // close() lets requests in flight finish; a failure there concerns connections nobody will use again.
    previous?.close().catch(() => undefined);
    return current.dispatcher;
  };
  return kubeConfig;
}
