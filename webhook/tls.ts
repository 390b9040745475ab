import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../shared/log.ts';
import { ConfigError, errorMessage } from '../shared/errors.ts';

/**
 * TLS 1.2 and 1.3 only, with forward-secret AEAD suites (Mozilla's
 * "intermediate" list, which every Kubernetes API server speaks): Node's
 * defaults also accept CBC suites on TLS 1.2. Set on the first context and on
 * every reloaded one.
 */
export const TLS_PROTOCOLS = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
} as const;

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Reads and checks a certificate and key pair: a mismatched pair fails here, not on the first handshake. */
export async function readTls(files: TlsFiles): Promise<TlsMaterial> {
  let material: TlsMaterial;
  try {
    material = { cert: await readFile(files.certFile), key: await readFile(files.keyFile) };
  } catch (error) {
    throw new ConfigError(
      `cannot read the serving certificate (WEBHOOK_TLS_CERT=${files.certFile}, WEBHOOK_TLS_KEY=${files.keyFile}): ${errorMessage(error)}; run "npm run certs" for local ones`,
    );
  }
  try {
    createSecureContext(material);
  } catch (error) {
    throw new ConfigError(`the serving certificate and key do not form a usable pair: ${errorMessage(error)}`);
  }
  return material;
}

const fingerprint = (m: TlsMaterial): string => createHash('sha256').update(m.cert).update(m.key).digest('hex');

/**
 * Polls the files and hands over a new pair when it changes. Polling, not
 * fs.watch: Kubernetes swaps a Secret volume's files through a symlink, which
 * watchers miss. A half-written rotation (new cert, old key) is skipped until
 * the pair matches again; the server keeps serving the old one meanwhile.
 */
export function watchTls(options: {
  files: TlsFiles;
  intervalMs: number;
  current: TlsMaterial;
  log: Logger;
  onChange: (m: TlsMaterial) => void;
}): { stop(): void } {
  let seen = fingerprint(options.current);
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    readTls(options.files)
      .then((material) => {
        const next = fingerprint(material);
        if (next === seen) return;
        options.onChange(material);
        seen = next;
        options.log.info({ certFile: options.files.certFile }, 'Reloaded the serving certificate');
      })
      .catch((error: unknown) =>
        options.log.warn(
          { err: errorMessage(error) },
          'Serving certificate not reloaded; still serving the previous one',
        ),
      )
      .finally(() => {
        running = false;
      });
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
