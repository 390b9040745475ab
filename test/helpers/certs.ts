import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../certs/generate.sh', import.meta.url));

export interface TestCerts {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  readonly ca: Buffer;
}

/** A fresh CA and serving certificate (SANs include 127.0.0.1 and localhost), made by the product's own script. */
export function makeCerts(
  service = 'apim-operator-webhook',
  dir = mkdtempSync(join(tmpdir(), 'apim-certs-')),
): TestCerts {
  execFileSync('bash', [SCRIPT, '--out', dir, '--service', service], { stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    dir,
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    caFile: join(dir, 'ca.crt'),
    ca: readFileSync(join(dir, 'ca.crt')),
  };
}
