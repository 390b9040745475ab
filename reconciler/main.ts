import { ConfigError, errorMessage } from '../shared/errors.ts';
import { processLogger } from '../shared/log-level.ts';
import { shutdownGraceMsFrom } from './config.ts';
import { startReconciler, type RunningReconciler } from './server.ts';
import { NO_TRACING, startTracing, type Tracing } from '../shared/tracing.ts';

const log = processLogger('reconciler');

// Listen for signals before start-up: a SIGTERM during it (a rollout, a quick scale-down) ends the process cleanly instead of by the default action.
let reconciler: RunningReconciler | undefined;
let stopping: string | undefined;
let graceMs = 45_000;
let tracing: Tracing = NO_TRACING;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = signal;
  if (!reconciler) return; // start-up finishes, then closes at once
  log.info({ signal, graceMs }, 'Shutting down: no new jobs, finishing running ones');
  // The spans of the last reconciles are exported before the process ends.
  reconciler
    .close(graceMs)
    .then(() => tracing.shutdown())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: errorMessage(error) }, 'Shutdown failed');
        process.exit(1);
      },
    );
};
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));

try {
  graceMs = shutdownGraceMsFrom(process.env);
  tracing = await startTracing(process.env, 'oda-apim-operator-reconciler', log);
  reconciler = await startReconciler(process.env, log);
  if (stopping) {
    const signal = stopping;
    stopping = undefined;
    shutdown(signal);
  }
} catch (error) {
  if (error instanceof ConfigError) log.fatal(error.message);
  else log.fatal({ err: errorMessage(error) }, 'Reconciler failed to start');
  process.exit(1);
}
