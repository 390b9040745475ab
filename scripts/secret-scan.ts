/**
 * `npm run test:secrets [-- tap arguments]`: runs the integration suite (or
 * the test files given) with marker values for every secret the stand-ins
 * hand out, recording what the product produced (SECRET_SCAN_DIR), then
 * searches the recording for the markers. Exits 1 naming the file and place
 * of every marker found, or when the run handed out no marker of some kind
 * (the recording would prove nothing about it).
 *
 * `--scan-only DIR` searches an existing recording without running tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KINDS, scanRecording } from './secret-scan/scan-recording.ts';

const ALL_KINDS = ['CLIENT-SECRET', 'REDIS-PASSWORD', 'SUBSCRIPTION-KEY', 'DASHBOARD-CREDENTIAL'];
const DEFAULT_TESTS = ['test/integration/**/*.test.ts'];

function runSuite(dir: string, tapArgs: readonly string[]): number {
  const args = tapArgs.length > 0 ? tapArgs : ['-j2', '--disable-coverage', ...DEFAULT_TESTS];
  console.log(`Running tap ${args.join(' ')} with SECRET_SCAN_DIR=${dir}`);
  const run = spawnSync('tap', args, { stdio: 'inherit', env: { ...process.env, SECRET_SCAN_DIR: dir } });
  return run.status ?? 1;
}

function report(dir: string, expectEveryKind: boolean): boolean {
  const { markers, scanned, leaks } = scanRecording(dir);
  console.log(`\nSecret scan of ${dir}`);
  console.log(`Markers handed out: ${ALL_KINDS.map((kind) => `${kind} ${markers[kind] ?? 0}`).join(', ')}`);
  for (const kind of KINDS) console.log(`  ${kind}: ${scanned[kind].lines} lines in ${scanned[kind].files} files`);
  for (const leak of leaks) console.log(`LEAK ${leak.file}:${leak.line}:${leak.column}: ${leak.what}`);
  const missing = expectEveryKind ? ALL_KINDS.filter((kind) => !markers[kind]) : [];
  for (const kind of missing)
    console.log(`No ${kind} marker was handed out: the tests run did not use that secret, so nothing is proven of it`);
  console.log(leaks.length === 0 ? 'Found no marker.' : `Found ${leaks.length} markers.`);
  return leaks.length === 0 && missing.length === 0;
}

const [first, ...rest] = process.argv.slice(2);
if (first === '--scan-only') {
  if (!rest[0]) throw new Error('--scan-only: give the recording folder (the SECRET_SCAN_DIR of a run)');
  process.exitCode = report(rest[0], false) ? 0 : 1;
} else {
  const dir = process.env.SECRET_SCAN_DIR || mkdtempSync(join(tmpdir(), 'secret-scan-'));
  const tests = runSuite(dir, process.argv.slice(2));
  const clean = report(dir, process.argv.length <= 2);
  if (tests !== 0) console.log(`The tests themselves failed (tap exit ${tests}): see above`);
  process.exitCode = clean && tests === 0 ? 0 : 1;
}
