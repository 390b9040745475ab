#!/usr/bin/env node
import { createLogger } from '../shared/log.ts';
import { logLevelFrom } from '../shared/log-level.ts';
import { loadWebhookConfig } from '../webhook/config.ts';
import { createSpecChecker } from '../shared/openapi/spec-checker.ts';
import { ConfigError } from '../shared/errors.ts';
import { validateFiles } from './validate-command.ts';
import { renderFile } from './render-command.ts';

const USAGE = `usage: apim-operator validate FILE...   check ExposedAPI resources (YAML or JSON, multi-document) as the admission webhook does
       apim-operator render FILE          print what the reconciler writes for each ExposedAPI: APIM API id, policy XML, Ingress`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...files] = argv;
  if (command === 'validate' && files.length > 0) {
    const config = loadWebhookConfig(process.env);
    // Logs go to stderr at warn level: stdout carries only the verdicts a pipeline reads.
    const log = createLogger('apim-operator', logLevelFrom(process.env, 'warn'), process.stderr);
    const specChecks = createSpecChecker({
      ...config.specFetch,
      allow: [...config.specFetch.allow],
      deny: [...config.specFetch.deny],
      fetchTimeoutMs: config.specFetch.timeoutMs,
      log,
    });
    try {
      return await validateFiles(files, specChecks, (line) => process.stdout.write(`${line}\n`));
    } finally {
      await specChecks.close();
    }
  }
  if (command === 'render' && files.length === 1 && files[0]) {
    return renderFile(
      files[0],
      process.env,
      (text) => process.stdout.write(text),
      (text) => process.stderr.write(`${text}\n`),
    );
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`apim-operator: ${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
