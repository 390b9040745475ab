import { createLogger } from '../shared/log.ts';
import { ConfigError, errorMessage } from '../shared/errors.ts';
import { integer } from '../shared/env.ts';
import { startReconciler } from './server.ts';

const log = createLogger('reconciler');

try {
  // Kubernetes waits terminationGracePeriodSeconds (60 in k8s/) before SIGKILL: finish or hand back running jobs well before.
  const graceMs = integer(process.env, 'SHUTDOWN_GRACE_SECONDS', 45, 0, 3600) * 1000;
  const reconciler = await startReconciler(process.env, log);
  const shutdown = (signal: string): void => {
    log.info({ signal, graceMs }, 'Shutting down: no new jobs, finishing running ones');
    reconciler.close(graceMs).then(
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
  if (error instanceof ConfigError) log.fatal(error.message);
  else log.fatal({ err: errorMessage(error) }, 'Reconciler failed to start');
  process.exit(1);
}
