import type { ExposedApi } from '../../shared/exposed-api/model.ts';
import { GROUP } from '../../shared/exposed-api/schema.ts';
import { keyHash } from './api-id.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGER = 'oda-apim-operator';
export const EXPOSED_API_LABEL = 'oda.tmforum.org/exposedapi';
export const COMPONENT_LABEL = 'oda.tmforum.org/componentName';
export const DEFAULT_INGRESS_CLASS = 'istio';

export interface IngressSettings {
  /** Default `istio`. */
  readonly ingressClass?: string;
  /** The ExposedAPI's own labels; only `oda.tmforum.org/componentName` is carried over. */
  readonly labels?: Readonly<Record<string, string>>;
  /** A host for the rule; the backend URL then names it instead of the load balancer address. */
  readonly host?: string;
  /** TLS for the rule's host: the Secret holding the certificate. */
  readonly tls?: { readonly secretName: string };
  /** When set, APIM reaches the backend here (+ path) instead of the Ingress address. */
  readonly gatewayBaseUrl?: string;
}

export interface IngressManifest {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'Ingress';
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences?: {
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller: true;
      blockOwnerDeletion: true;
    }[];
  };
  spec: {
    ingressClassName: string;
    tls?: { hosts?: string[]; secretName: string }[];
    rules: {
      host?: string;
      http: {
        paths: { path: string; pathType: 'Prefix'; backend: { service: { name: string; port: { number: number } } } }[];
      };
    }[];
  };
}

/** A label value is at most 63 characters; longer names keep a prefix and the key hash. */
function labelValue(model: ExposedApi): string {
  const name = model.key.name;
  if (name.length <= 63) return name;
  return `${name.slice(0, 54).replace(/[^a-z0-9]+$/i, '')}-${keyHash(model.key.namespace, name)}`;
}

/**
 * The Ingress that routes the ExposedAPI's path to its Service: named after
 * the ExposedAPI, in its namespace, owned by it (so Kubernetes deletes it with
 * the ExposedAPI). Without a uid (a file rendered by the CLI) there is no
 * owner reference; the reconciler always renders from the live object.
 */
export function renderIngress(model: ExposedApi, settings: IngressSettings = {}): IngressManifest {
  const rule: IngressManifest['spec']['rules'][number] = {
    http: {
      paths: [
        {
          path: model.path,
          pathType: 'Prefix',
          backend: { service: { name: model.implementation, port: { number: model.port } } },
        },
      ],
    },
  };
  if (settings.host) rule.host = settings.host;
  const spec: IngressManifest['spec'] = {
    ingressClassName: settings.ingressClass ?? DEFAULT_INGRESS_CLASS,
    rules: [rule],
  };
  if (settings.tls)
    spec.tls = [{ ...(settings.host ? { hosts: [settings.host] } : {}), secretName: settings.tls.secretName }];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: ownedMetadata(model, model.key.name, settings.labels),
    spec,
  };
}

/**
 * Metadata for an object the operator makes beside an ExposedAPI: its labels,
 * and an owner reference so Kubernetes deletes it with the ExposedAPI (none
 * without a uid: a file rendered by the CLI).
 */
export function ownedMetadata(
  model: ExposedApi,
  name: string,
  exposedApiLabels?: Readonly<Record<string, string>>,
): IngressManifest['metadata'] {
  const labels: Record<string, string> = { [MANAGED_BY_LABEL]: MANAGER, [EXPOSED_API_LABEL]: labelValue(model) };
  const component = exposedApiLabels?.[COMPONENT_LABEL];
  if (component !== undefined) labels[COMPONENT_LABEL] = component;
  const metadata: IngressManifest['metadata'] = { name, namespace: model.key.namespace, labels };
  if (model.uid) {
    metadata.ownerReferences = [
      {
        apiVersion: `${GROUP}/${model.apiVersion}`,
        kind: 'ExposedAPI',
        name: model.key.name,
        uid: model.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
  }
  return metadata;
}

interface IngressLike {
  readonly spec?: {
    readonly tls?: readonly unknown[];
    readonly rules?: readonly {
      readonly host?: string;
      readonly http?: { readonly paths?: readonly { readonly path?: string }[] };
    }[];
  };
  readonly status?: {
    readonly loadBalancer?: { readonly ingress?: readonly { readonly hostname?: string; readonly ip?: string }[] };
  };
}

/**
 * Where APIM sends requests for the API: the configured gateway base URL, or
 * the Ingress address (its rule host when it has one, else the load balancer
 * hostname or IP), https when the Ingress has TLS, plus the path. Undefined
 * while the load balancer has no address yet (not ready: check again later).
 */
export function backendUrlFrom(
  ingress: IngressLike,
  settings: Pick<IngressSettings, 'gatewayBaseUrl'> = {},
): string | undefined {
  const rule = ingress.spec?.rules?.[0];
  const path = rule?.http?.paths?.[0]?.path ?? '';
  if (settings.gatewayBaseUrl) return settings.gatewayBaseUrl.replace(/\/+$/, '') + path;
  const address = ingress.status?.loadBalancer?.ingress?.[0];
  const lb = address?.hostname || (address?.ip?.includes(':') ? `[${address.ip}]` : address?.ip);
  if (!lb) return undefined;
  const scheme = (ingress.spec?.tls?.length ?? 0) > 0 ? 'https' : 'http';
  return `${scheme}://${rule?.host || lb}${path}`;
}
