import type { ExposedApi } from '../../shared/exposed-api/model.ts';
import type { KubeClient } from '../clients/kube.ts';
import type { KubeObject } from '../clients/kube-types.ts';
import type { Scrape } from '../render/status.ts';
import {
  isMetricsApi,
  renderServiceMonitor,
  scrapeAnnotations,
  type OpenMetricsImplementation,
} from '../render/scrape.ts';

/** Marks the Pods this operator annotated, so that cleanup removes only its own annotations. */
export const SCRAPED_BY_ANNOTATION = 'oda.tmforum.org/scrape-annotated-by';
const SCRAPED_BY = 'oda-apim-operator';

export interface ScrapeResult {
  /** Undefined for an API that is not a metrics API. */
  readonly scrape?: Scrape;
  readonly written: readonly string[];
}

const keyOf = (o: KubeObject) => ({ namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '' });

/** The Pods behind the implementation Service, or why there are none to annotate. */
async function implementationPods(kube: KubeClient, model: ExposedApi): Promise<KubeObject[] | Scrape> {
  const service = await kube.getService({ namespace: model.key.namespace, name: model.implementation });
  const where = `Service ${model.key.namespace}/${model.implementation}`;
  if (!service) return { done: false, reason: 'ServiceNotFound', message: `${where} does not exist yet` };
  const selector = (service.spec as { selector?: Record<string, string> } | undefined)?.selector;
  if (!selector || Object.keys(selector).length === 0) {
    return { done: false, reason: 'NoPodSelector', message: `${where} selects no Pods: nothing to annotate` };
  }
  return kube.listPods(model.key.namespace, selector);
}

/**
 * Makes a metrics API scrapable the configured way, and undoes the other
 * ways (a mode switched, or an API that stopped being a metrics API). A
 * missing ServiceMonitor CRD is reported, never fatal: the API stays Ready.
 */
export async function ensureScrape(
  kube: KubeClient,
  object: KubeObject,
  model: ExposedApi,
  implementation: OpenMetricsImplementation,
): Promise<ScrapeResult> {
  const written: string[] = [];
  const wantMonitor = isMetricsApi(model) && implementation === 'ServiceMonitor';
  if (!wantMonitor && (await kube.getServiceMonitor(model.key)) && (await kube.deleteServiceMonitor(model.key))) {
    written.push('servicemonitor-removed');
  }
  if (!isMetricsApi(model)) return { written };
  if (implementation === 'ServiceMonitor') {
    if (!(await kube.serviceMonitorsServed())) {
      return {
        written,
        scrape: {
          done: false,
          reason: 'ServiceMonitorCrdMissing',
          message:
            'The ServiceMonitor CRD (monitoring.coreos.com/v1) is not installed, so nothing scrapes this metrics API: install prometheus-operator, or set OPENMETRICS_IMPLEMENTATION to PrometheusAnnotation or DataDogAnnotation',
        },
      };
    }
    const desired = renderServiceMonitor(model, object.metadata.labels ?? {});
    const before = await kube.getServiceMonitor(model.key);
    const after = await kube.applyServiceMonitor(desired);
    if (after.metadata.resourceVersion !== before?.metadata.resourceVersion) written.push('servicemonitor');
    return {
      written,
      scrape: { done: true, reason: 'ServiceMonitorReady', message: `ServiceMonitor ${model.key.name} scrapes it` },
    };
  }
  const pods = await implementationPods(kube, model);
  if (!Array.isArray(pods)) return { written, scrape: pods };
  let annotated = 0;
  for (const pod of pods) {
    const first = (pod.spec as { containers?: { name?: string }[] } | undefined)?.containers?.[0]?.name;
    const wanted = { ...scrapeAnnotations(model, implementation, first), [SCRAPED_BY_ANNOTATION]: SCRAPED_BY };
    const live = pod.metadata.annotations ?? {};
    if (Object.entries(wanted).every(([k, v]) => live[k] === v)) continue;
    await kube.annotatePod(keyOf(pod), wanted);
    annotated++;
  }
  if (annotated > 0) written.push('pod-annotations');
  return {
    written,
    scrape: {
      done: pods.length > 0,
      reason: pods.length > 0 ? implementation : 'NoPods',
      message:
        pods.length > 0
          ? `${pods.length} Pod(s) of Service ${model.implementation} carry the ${implementation} scrape annotations`
          : `Service ${model.implementation} has no Pods yet to annotate`,
    },
  };
}

/** On delete: the ServiceMonitor, and the annotations this operator put on Pods. */
export async function finalizeScrape(kube: KubeClient, model: ExposedApi): Promise<void> {
  if (await kube.getServiceMonitor(model.key)) await kube.deleteServiceMonitor(model.key);
  if (!isMetricsApi(model)) return;
  const pods = await implementationPods(kube, model);
  if (!Array.isArray(pods)) return;
  for (const pod of pods) {
    const live = pod.metadata.annotations ?? {};
    if (live[SCRAPED_BY_ANNOTATION] !== SCRAPED_BY) continue;
    const ours = Object.keys(live).filter(
      (k) => k === SCRAPED_BY_ANNOTATION || k === 'prometheus.io/scrape' || /^ad\.datadoghq\.com\/.+\.checks$/.test(k),
    );
    await kube.annotatePod(keyOf(pod), Object.fromEntries(ours.map((k) => [k, null])));
  }
}
