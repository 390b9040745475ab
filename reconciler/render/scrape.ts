/**
 * How a metrics API (apiType prometheus or openmetrics) is made scrapable, in
 * the three ways the ODA Canvas's Istio API operator offers
 * (OPENMETRICS_IMPLEMENTATION): a prometheus-operator ServiceMonitor owned by
 * the ExposedAPI; or annotations on the implementation's Pods, for
 * Prometheus's own discovery or for Datadog's. Pure.
 */
import type { ExposedApi } from '../../shared/exposed-api/model.ts';
import { ownedMetadata, type IngressManifest } from './ingress.ts';

export const OPENMETRICS_IMPLEMENTATIONS = ['ServiceMonitor', 'PrometheusAnnotation', 'DataDogAnnotation'] as const;
export type OpenMetricsImplementation = (typeof OPENMETRICS_IMPLEMENTATIONS)[number];

export const PROMETHEUS_SCRAPE_ANNOTATION = 'prometheus.io/scrape';

export function isMetricsApi(model: ExposedApi): boolean {
  return model.apiType === 'prometheus' || model.apiType === 'openmetrics';
}

export interface ServiceMonitorManifest {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'ServiceMonitor';
  metadata: IngressManifest['metadata'];
  spec: {
    selector: { matchLabels: Record<string, string> };
    endpoints: { path: string; interval: string; scheme: 'http'; targetPort: number }[];
  };
}

/**
 * The ServiceMonitor the Canvas's Istio operator makes: named after the
 * ExposedAPI, with its labels, selecting Services labelled `name:
 * <implementation>` (the Canvas's convention for metrics Services), scraping
 * the API's path on its port every 15 s.
 */
export function renderServiceMonitor(
  model: ExposedApi,
  exposedApiLabels: Readonly<Record<string, string>>,
): ServiceMonitorManifest {
  const metadata = ownedMetadata(model, model.key.name, exposedApiLabels);
  metadata.labels = { ...exposedApiLabels, ...metadata.labels };
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata,
    spec: {
      selector: { matchLabels: { name: model.implementation } },
      endpoints: [{ path: model.path, interval: '15s', scheme: 'http', targetPort: model.port }],
    },
  };
}

/** The Datadog autodiscovery annotation key for a container. */
export function dataDogAnnotationKey(containerName: string): string {
  return `ad.datadoghq.com/${containerName}.checks`;
}

/**
 * The annotations a Pod of the implementation gets. Prometheus: scrape it.
 * Datadog: an OpenMetrics check against the Service, on its first container,
 * as the Canvas writes it.
 */
export function scrapeAnnotations(
  model: ExposedApi,
  implementation: Exclude<OpenMetricsImplementation, 'ServiceMonitor'>,
  firstContainer: string | undefined,
): Record<string, string> {
  if (implementation === 'PrometheusAnnotation') return { [PROMETHEUS_SCRAPE_ANNOTATION]: 'true' };
  if (!firstContainer) return {};
  const endpoint = `http://${model.implementation}.${model.key.namespace}.svc.cluster.local:${model.port}${model.path}`;
  const check = {
    openmetrics: { instances: [{ openmetrics_endpoint: endpoint, namespace: 'components', metrics: ['.*'] }] },
  };
  return { [dataDogAnnotationKey(firstContainer)]: JSON.stringify(check) };
}
