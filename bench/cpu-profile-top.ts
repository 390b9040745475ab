import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `node bench/cpu-profile-top.ts <dir> [count]`: the functions with the most
 * self time over every V8 CPU profile in `dir` (what BENCH_WORKER_CPU_PROF=dir
 * writes, or BENCH_SERVER_CPU_PROF=dir for `npm run bench`), and each one's
 * share of the CPU samples (idle ones left out). Paths are shown relative to
 * the repository; dependencies by package.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const root = fileURLToPath(new URL('..', import.meta.url));

function place(url: string, line: number): string {
  if (url === '') return '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return dependency ? dependency[1]! : `${relative(root, path)}:${line + 1}`;
}

export function topSelfTime(
  profiles: readonly CpuProfile[],
  count: number,
): { what: string; ms: number; share: number }[] {
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const profile of profiles) {
    const names = new Map(
      profile.nodes.map((n) => [
        n.id,
        `${n.callFrame.functionName || '(anonymous)'} ${place(n.callFrame.url, n.callFrame.lineNumber)}`,
      ]),
    );
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      const what = names.get(id) ?? '?';
      if (what.startsWith('(idle)')) return; // waiting, not CPU
      byFunction.set(what, (byFunction.get(what) ?? 0) + us);
      total += us;
    });
  }
  return [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([what, us]) => ({ what, ms: Math.round(us / 1000), share: us / total }));
}

if (import.meta.main) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node bench/cpu-profile-top.ts <dir with .cpuprofile files> [count]');
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0)
    throw new Error(`${dir}: no .cpuprofile file; run the bench with BENCH_WORKER_CPU_PROF=${dir}`);
  const profiles = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile);
  for (const { what, ms, share } of topSelfTime(profiles, Number(process.argv[3] ?? 25)))
    console.log(`${(share * 100).toFixed(1).padStart(5)}%  ${String(ms).padStart(7)} ms  ${what}`);
}
