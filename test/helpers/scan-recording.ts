/**
 * What a secret-scan run records of the output the product produced, under
 * SECRET_SCAN_DIR (see test-secrets.ts): one folder per kind of output, one
 * file per source, named by process and sequence so that parallel test
 * processes never share a file. Every function does nothing in a default run.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, silentLogger, type Logger } from '../../shared/log.ts';
import { secretScanDir } from './test-secrets.ts';

export const RECORD_KINDS = ['logs', 'jobs', 'kube', 'metrics', 'traces'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

let sequence = 0;

function recordPath(kind: RecordKind, name: string): string | undefined {
  const dir = secretScanDir();
  if (dir === undefined) return undefined;
  mkdirSync(join(dir, kind), { recursive: true });
  sequence += 1;
  return join(dir, kind, `${process.pid}-${sequence}-${name.replace(/[^a-zA-Z0-9-]+/g, '_')}.jsonl`);
}

/** Writes one recording of this kind: the given lines, one a line. */
export function record(kind: RecordKind, name: string, lines: readonly string[]): void {
  const path = recordPath(kind, name);
  if (path !== undefined) writeFileSync(path, lines.map((line) => `${line.replace(/\n/g, '\\n')}\n`).join(''));
}

/** A sink that appends every chunk written to it to a recording of this kind; undefined in a default run. */
export function recordingSink(kind: RecordKind, name: string): { write(chunk: string): void } | undefined {
  const path = recordPath(kind, name);
  if (path === undefined) return undefined;
  return { write: (chunk) => appendFileSync(path, chunk) };
}

/**
 * A destination for a test's own capturing logger that also records every
 * line; the destination itself in a default run.
 */
export function recorded(destination: { write(line: string): void }, name: string): { write(line: string): void } {
  const sink = recordingSink('logs', name);
  if (sink === undefined) return destination;
  return {
    write(line) {
      sink.write(line);
      destination.write(line);
    },
  };
}

/**
 * The logger a test hands to the product: silent by default; in a
 * secret-scan run, every line down to trace level goes to the recording.
 */
export function testLogger(name = 'test'): Logger {
  const sink = recordingSink('logs', name);
  return sink === undefined ? silentLogger() : createLogger(name, 'trace', sink);
}

/**
 * In a secret-scan run, records a /metrics exposition (read just before the
 * server closes). A server the test already stopped has nothing left to show.
 */
export async function recordMetrics(name: string, read: () => Promise<string>): Promise<void> {
  if (secretScanDir() === undefined) return;
  const text = await read().catch(() => undefined);
  if (text !== undefined) record('metrics', name, text.split('\n'));
}
