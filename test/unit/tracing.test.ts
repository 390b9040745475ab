import t from 'tap';
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ConfigError } from '../../shared/errors.ts';
import { silentLogger } from '../../shared/log.ts';
import { activeTraceparent, linksTo, startTracing, traceFields, tracingSettings } from '../../shared/tracing.ts';

const ENDPOINT = 'http://otel-collector.monitoring.svc:4318';

t.test('tracing is on only with an OTLP endpoint, and OTEL_SDK_DISABLED wins', async (t) => {
  const cases: [string, Record<string, string>, boolean][] = [
    ['nothing set', {}, false],
    ['base endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }, true],
    ['traces endpoint', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${ENDPOINT}/v1/traces` }, true],
    ['blank endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }, false],
    ['disabled', { OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SDK_DISABLED: 'true' }, false],
    ['service name alone', { OTEL_SERVICE_NAME: 'x' }, false],
  ];
  for (const [what, env, enabled] of cases) t.equal(tracingSettings(env).enabled, enabled, what);
});

t.test('a setting that cannot work is refused in one line naming the variable', async (t) => {
  t.throws(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), ConfigError);
  t.throws(
    () => tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://collector/v1/traces' }),
    /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: must be a http: or https: URL/,
  );
  t.throws(
    () => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SDK_DISABLED: 'maybe' }),
    /OTEL_SDK_DISABLED: must be true or false/,
  );
});

t.test('off: no SDK, no trace context to carry, no log fields', async (t) => {
  const tracing = await startTracing({}, 'test', silentLogger());
  t.equal(tracing.enabled, false);
  t.equal(tracing.fastifyPlugin, undefined, 'no admission plugin');
  t.equal(activeTraceparent(), undefined, 'a job gets no traceparent, and no link is recorded');
  t.same(traceFields(), {}, 'log lines get no trace fields');
  await tracing.shutdown();
});

t.test('links: one per distinct span, without the parent, ignoring what is not a traceparent', async (t) => {
  const a = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const b = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const parent = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
  t.same(linksTo([a, b], parent), [], 'nothing without the SDK: links are made only with tracing on');
  // The propagator the SDK registers.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  t.teardown(() => propagation.disable());
  const links = linksTo([a, b, b, 'garbage'], parent);
  t.same(
    links.map((l) => `${l.context.traceId}/${l.context.spanId}`),
    ['4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7'],
  );
  t.equal(links[0]?.context.isRemote, true, 'a span of another process');
});
