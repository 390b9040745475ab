import * as coreTracing from '@azure/core-tracing';
import { AzureSdkInstrumentation } from '@azure/opentelemetry-instrumentation-azure-sdk';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { FastifyPluginCallback } from 'fastify';
import { optionalText, type Env } from './env.ts';

/**
 * Loaded only when tracing is on (shared/tracing.ts). The NodeSDK reads the
 * standard OTEL_* variables (exporter endpoint and protocol, sampler,
 * resource attributes, batch sizes); we add the instrumentations.
 *
 * - undici publishes diagnostics channels, which the undici instrumentation
 *   subscribes to without patching modules: so it works under ESM and covers
 *   every Kubernetes API call (@kubernetes/client-node 2 sends through undici)
 *   and the OpenAPI document fetches.
 * - The Azure SDK (ARM, Key Vault, Entra ID) traces through @azure/core-tracing.
 *   Its instrumentation patches that module through a require hook, which an
 *   ESM import never passes; so we hand it the module we import ourselves
 *   (Node loads one instance of it for every Azure package).
 * - fastify's own instrumentation, registered as a plugin of the admission
 *   app (no module patching either): a server span per request, a child per
 *   handler. Probes and /metrics are left out.
 */
export async function startSdk(
  env: Env,
  service: string,
): Promise<{ shutdown(): Promise<void>; fastifyPlugin: FastifyPluginCallback }> {
  const azure = new AzureSdkInstrumentation();
  for (const definition of [azure.getModuleDefinitions()].flat()) definition.patch?.(coreTracing);
  const fastify = new FastifyOtelInstrumentation({
    registerOnInitialization: false,
    ignorePaths: ({ url }) => !['/validate', '/mutate'].includes(url),
  });
  const sdk = new NodeSDK({
    ...(optionalText(env, 'OTEL_SERVICE_NAME') ? {} : { serviceName: service }),
    instrumentations: [new UndiciInstrumentation(), azure, fastify],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown(), fastifyPlugin: fastify.plugin() as FastifyPluginCallback };
}
