import { readFileSync } from 'node:fs';
import { fastify } from 'fastify';

/**
 * The ceiling: fastify over TLS answering a fixed AdmissionReview, with the
 * same certificate, body size and JSON parsing as the webhook, and nothing else.
 */
const app = fastify({
  https: {
    cert: readFileSync(process.env.WEBHOOK_TLS_CERT ?? ''),
    key: readFileSync(process.env.WEBHOOK_TLS_KEY ?? ''),
  },
  bodyLimit: 8 * 1024 * 1024,
});
app.post('/validate', async (request) => {
  const uid = (request.body as { request?: { uid?: string } }).request?.uid ?? '';
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } };
});
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.WEBHOOK_PORT ?? 0) });
process.stdout.write('listening\n');
// An orderly exit on SIGTERM, so that a --cpu-prof profile is written.
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
