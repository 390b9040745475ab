import t from 'tap';
import { copyFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { makeCerts } from '../../helpers/certs.ts';
import { createLogger } from '../../../shared/log.ts';
import { startTestWebhook } from '../../helpers/webhook.ts';
import { recorded } from '../../helpers/scan-recording.ts';
import { get } from '../../helpers/admission.ts';

/** The fingerprint of the certificate a fresh TLS connection is served. */
async function servedFingerprint(url: string, ca: Buffer): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

t.test('a rotated certificate is served to new connections without a restart', async (t) => {
  const webhook = await startTestWebhook({ WEBHOOK_TLS_RELOAD_SECONDS: '1' });
  t.teardown(() => webhook.close());
  const before = await servedFingerprint(webhook.url, webhook.certs.ca);

  // cert-manager style: a new pair from a new CA lands in the same files.
  const rotated = makeCerts();
  copyFileSync(rotated.keyFile, webhook.certs.keyFile);
  copyFileSync(rotated.certFile, webhook.certs.certFile);

  let after = before;
  for (let i = 0; i < 100 && after === before; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await servedFingerprint(webhook.url, rotated.ca).catch(() => before);
  }
  t.not(after, before, 'the new certificate is served');
  const { trustingAgent } = await import('../../helpers/admission.ts');
  const agent = trustingAgent(rotated.ca);
  t.equal((await get(agent, `${webhook.url}/healthz`)).status, 200, 'clients trusting the new CA connect');
  await agent.close();
});

t.test('a half-written rotation keeps the old pair', async (t) => {
  const lines: string[] = [];
  const log = createLogger('test', 'warn', recorded({ write: (line: string) => void lines.push(line) }, 'tls-reload'));
  const webhook = await startTestWebhook({ WEBHOOK_TLS_RELOAD_SECONDS: '1' }, { log });
  t.teardown(() => webhook.close());
  const before = await servedFingerprint(webhook.url, webhook.certs.ca);
  const rotated = makeCerts();
  copyFileSync(rotated.certFile, webhook.certs.certFile); // the key has not arrived yet
  // Wait for the reload attempt that found the pair mismatched, not for a fixed time.
  for (let i = 0; i < 200 && !lines.some((l) => l.includes('not reloaded')); i++)
    await new Promise((r) => setTimeout(r, 50));
  t.ok(
    lines.some((l) => l.includes('Serving certificate not reloaded')),
    'the mismatched pair was seen and refused',
  );
  t.equal(await servedFingerprint(webhook.url, webhook.certs.ca), before, 'still the old certificate, still serving');
});
