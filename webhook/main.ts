import { ConfigError, errorMessage } from '../shared/errors.ts';
import { loadWebhookConfig } from './config.ts';
import { processLogger } from '../shared/log-level.ts';
import { startWebhook } from './server.ts';
import { startTracing } from '../shared/tracing.ts';

const log = processLogger('webhook');

try {
  const config = loadWebhookConfig(process.env);
  const tracing = await startTracing(process.env, 'oda-apim-operator-webhook', log);
  const webhook = await startWebhook(config, process.env, log, { tracing });
  const shutdown = (signal: string): void => {
    log.info({ signal }, 'Shutting down: finishing requests in flight');
    // The spans of the last requests are exported before the process ends.
    webhook
      .close()
      .then(() => tracing.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: errorMessage(error) }, 'Shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (error) {
  // A setting that cannot work is said in one line, without a stack trace.
  if (error instanceof ConfigError) log.fatal(error.message);
  else log.fatal({ err: error }, 'Webhook failed to start');
  process.exit(1);
}
