import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64Forms, findNeedles, needlesFor } from '../../../scripts/secret-scan/needles.ts';
import { scanRecording } from '../../../scripts/secret-scan/scan-recording.ts';

const MARKER = 'MARKER-CLIENT-SECRET-0123456789abcdef';
const KEY = 'MARKER-SUBSCRIPTION-KEY-fedcba9876543210';

t.test('a marker inside a longer base64 text is found at every byte offset', async (t) => {
  const needles = needlesFor([MARKER]);
  for (const before of ['', 'u', 'us', 'user:', 'client_id=abc&client_secret=']) {
    const encoded = Buffer.from(`${before}${MARKER}&more`).toString('base64');
    t.equal(findNeedles(`Authorization: Basic ${encoded}`, needles).length, 1, `after ${JSON.stringify(before)}`);
    const url = Buffer.from(`${before}${MARKER}?`).toString('base64url');
    t.equal(findNeedles(url, needles).length, 1, `base64url after ${JSON.stringify(before)}`);
  }
  t.equal(base64Forms(MARKER).length, 3, 'one form per alignment');
});

t.test('the place of a finding: line, column and the form it took', async (t) => {
  const needles = needlesFor([MARKER]);
  const text = [
    '{"msg":"Loaded"}',
    `{"msg":"Token request","body":"client_secret=${encodeURIComponent(MARKER)}"}`,
  ].join('\n');
  t.same(findNeedles(text, needles), [{ line: 2, column: 46, what: MARKER }]);
  t.same(findNeedles('{"msg":"Created Secret components/a-apim-key"}', needles), [], 'no marker, no finding');
  t.same(
    findNeedles('MARKER-REDIS-PASSWORD-99', needlesFor([])),
    [{ line: 1, column: 1, what: 'a MARKER-… marker' }],
    'a marker the recording never listed is still found by its prefix',
  );
});

function recording(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'secret-scan-test-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

t.test('a recording: counts what it searched and names each leak by file and place', async (t) => {
  const clean = {
    'markers/1.txt': `${MARKER}\n${KEY}\n`,
    'logs/1-1-reconciler.jsonl': '{"msg":"Created APIM subscription oda-apim-x"}\n{"msg":"Wrote Secret"}\n',
    'jobs/1-2-test.jsonl': '{"key":"p:reconcile:1","type":"hash","value":{"data":"{\\"key\\":\\"components/a\\"}"}}\n',
    'kube/1-3-objects.jsonl': '{"kind":"ExposedAPI","status":{"apiStatus":{"subscriptionKeySecret":"a-apim-key"}}}\n',
  };
  const result = scanRecording(recording(clean));
  t.same(result.leaks, [], 'clean');
  t.same(result.markers, { 'CLIENT-SECRET': 1, 'SUBSCRIPTION-KEY': 1 });
  t.same(result.scanned.logs, { files: 1, lines: 2 });
  t.same(result.scanned.traces, { files: 0, lines: 0 });

  const leakedDir = recording({
    ...clean,
    'metrics/1-4-reconciler.jsonl': `# HELP x\nx{key="${KEY}"} 1\n`,
    'traces/1-5-bodies.jsonl': `{"attributes":[{"value":{"stringValue":"${Buffer.from(`k=${MARKER}`).toString('base64')}"}}]}\n`,
  });
  const leaked = scanRecording(leakedDir);
  t.same(
    leaked.leaks.map((leak) => `${leak.file}:${leak.line}:${leak.column} ${leak.what}`),
    [`metrics/1-4-reconciler.jsonl:2:8 ${KEY}`, `traces/1-5-bodies.jsonl:1:45 ${MARKER}, base64`],
  );
});

t.test('npm run test:secrets -- --scan-only: exit 1 and the place of each leak; exit 0 when clean', async (t) => {
  const script = fileURLToPath(new URL('../../../scripts/secret-scan.ts', import.meta.url));
  const scan = (dir: string) => spawnSync(process.execPath, [script, '--scan-only', dir], { encoding: 'utf8' });
  const marker = `${MARKER}\n`;
  const dirty = scan(recording({ 'markers/1.txt': marker, 'logs/1-1-x.jsonl': `{"secret":"${MARKER}"}\n` }));
  t.equal(dirty.status, 1);
  t.match(dirty.stdout, `LEAK logs/1-1-x.jsonl:1:12: ${MARKER}`);
  const clean = scan(recording({ 'markers/1.txt': marker, 'logs/1-1-x.jsonl': '{"secret":"[redacted]"}\n' }));
  t.equal(clean.status, 0, clean.stdout);
  t.match(clean.stdout, /logs: 1 lines in 1 files\n[^]*Found no marker\./);
});
