import { Readable } from 'node:stream';
import {
  createConfiguration,
  ResponseContext,
  ServerConfiguration,
  setHeaderMiddleware,
  wrapHttpLibrary,
  type Configuration,
  type KubeConfig,
  type PromiseHttpLibrary,
  type RequestContext,
} from '@kubernetes/client-node';
import { request } from 'undici';
import pkg from '../../package.json' with { type: 'json' };

/**
 * client-node's requests over undici's `request` instead of its `fetch`.
 * The WHATWG layer of `fetch` (Request, Headers and stream objects for every
 * call) was most of the Kubernetes calls' CPU in a publish profile: 7 % of
 * the worker's CPU for six writes per API. The generated clients take any
 * HTTP library through their configuration; this one keeps everything else
 * of a call as client-node sets it up: URL, headers, authentication, TLS
 * through the request's dispatcher (shared/kube/pooled-connections.ts), and
 * the abort signal. Unlike `fetch`, `request` follows no redirect, and needs
 * none: the API server answers API calls itself.
 */
export const undiciHttpLibrary: PromiseHttpLibrary = {
  async send(context: RequestContext): Promise<ResponseContext> {
    const body = context.getBody();
    if (body !== undefined && typeof body !== 'string')
      throw new Error(`Kubernetes request body of an unexpected kind (${body.constructor.name}): only JSON is sent`);
    const signal = context.getSignal();
    const dispatcher = context.getDispatcher();
    const answer = await request(context.getUrl(), {
      method: context.getHttpMethod() as unknown as 'GET',
      headers: context.getHeaders(),
      ...(body !== undefined ? { body } : {}),
      ...(signal ? { signal } : {}),
      ...(dispatcher ? { dispatcher } : {}),
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    return new ResponseContext(answer.statusCode, headers, {
      text: () => answer.body.text(),
      binary: async () => Buffer.from(await answer.body.arrayBuffer()),
      stream: () => Readable.toWeb(answer.body) as ReadableStream<Uint8Array>,
    });
  },
};

/**
 * An API client for the kubeconfig's current cluster, as `makeApiClient`
 * makes one, with the HTTP library above; the API server's audit log names
 * the operator and its version as the user agent.
 */
export function apiClient<T>(kubeConfig: KubeConfig, type: new (configuration: Configuration) => T): T {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig names no current cluster');
  return new type(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
      httpApi: wrapHttpLibrary(undiciHttpLibrary),
      middleware: [setHeaderMiddleware('User-Agent', `apim-operator/${pkg.version}`)],
    }),
  );
}
