import { context, propagation, trace, type Link, type SpanContext } from '@opentelemetry/api';
import { flag, optionalText, url, type Env } from './env.ts';
import type { FastifyPluginCallback } from 'fastify';
import type { Logger } from './log.ts';

/**
 * OpenTelemetry for both processes. Off unless an OTLP endpoint is set: then
 * no SDK module is even loaded, and everything else here works on the
 * OpenTelemetry API alone, whose no-op implementation costs next to nothing.
 */
export interface TracingSettings {
  readonly enabled: boolean;
}

/** Reads the switch: an endpoint on, OTEL_SDK_DISABLED=true off. The SDK reads the other standard OTEL_* variables itself. */
export function tracingSettings(env: Env): TracingSettings {
  if (flag(env, 'OTEL_SDK_DISABLED', false)) return { enabled: false };
  const endpoints = ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'].filter((name) =>
    optionalText(env, name),
  );
  // Refused at start with one line, instead of an exporter that fails quietly on every batch.
  for (const name of endpoints) url(env, name, '', ['http:', 'https:']);
  return { enabled: endpoints.length > 0 };
}

export interface Tracing {
  readonly enabled: boolean;
  /** Exports what is still buffered; part of the SIGTERM path. */
  shutdown(): Promise<void>;
  /** The fastify plugin that makes a span per admission request; undefined when tracing is off. */
  readonly fastifyPlugin?: FastifyPluginCallback;
}

/** Tracing off: what tests and library callers get by default. */
export const NO_TRACING: Tracing = { enabled: false, shutdown: async () => undefined };

/** Starts the SDK when the settings switch it on; `service` names the process unless OTEL_SERVICE_NAME does. */
export async function startTracing(env: Env, service: string, log: Logger): Promise<Tracing> {
  if (!tracingSettings(env).enabled) return NO_TRACING;
  const { startSdk } = await import('./tracing-sdk.ts');
  const sdk = await startSdk(env, service);
  log.info({ service: optionalText(env, 'OTEL_SERVICE_NAME') ?? service }, 'OpenTelemetry tracing on');
  return {
    enabled: true,
    fastifyPlugin: sdk.fastifyPlugin,
    async shutdown() {
      await sdk.shutdown().catch((error: unknown) => log.warn({ err: String(error) }, 'Could not flush traces'));
    },
  };
}

export const tracer = () => trace.getTracer('oda-apim-operator');

/** The attribute every operator span carries: the ExposedAPI's `namespace/name`. */
export const RESOURCE_KEY_ATTRIBUTE = 'oda.exposedapi.key';

/** The W3C `traceparent` of the active span, or undefined when there is none (tracing off). */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The span context a `traceparent` names, or undefined when it names none. */
export function spanContextOf(traceparent: string | undefined): SpanContext | undefined {
  if (!traceparent) return undefined;
  const extracted = propagation.extract(context.active(), { traceparent });
  return trace.getSpanContext(extracted);
}

/** Links to the span contexts these `traceparent`s name, each once, without `except` (the parent). */
export function linksTo(traceparents: readonly string[], except?: SpanContext): Link[] {
  const seen = new Set<string>(except ? [except.spanId] : []);
  const links: Link[] = [];
  for (const traceparent of traceparents) {
    const spanContext = spanContextOf(traceparent);
    if (!spanContext || seen.has(spanContext.spanId)) continue;
    seen.add(spanContext.spanId);
    links.push({ context: spanContext });
  }
  return links;
}

/** `trace_id` and `span_id` of the active span, for log lines; nothing when no span is active. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}
