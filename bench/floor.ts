import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordedHttpRequest } from '../test/fakes/recorded-request.ts';
import type { ReconcilerEnvironment } from '../test/helpers/reconciler-env.ts';
import { RECONCILER_TOKEN } from '../test/helpers/reconciler-env.ts';
import type { FloorPlan, FloorRequest, FloorResult, FloorTarget } from './floor-client.ts';

const client = fileURLToPath(new URL('floor-client.ts', import.meta.url));

/** What the workers sent in a window, from the stand-ins' logs (started with `recordBodies`). */
export interface RecordedTraffic {
  readonly arm: readonly RecordedHttpRequest[];
  readonly kube: readonly RecordedHttpRequest[];
  readonly spec: readonly RecordedHttpRequest[];
}

/** The workers' requests so far: ARM (polls included), Kubernetes (watches left out: a stream, not a request to replay). */
export function recordedTraffic(world: ReconcilerEnvironment, spec: readonly RecordedHttpRequest[]): RecordedTraffic {
  const sent = <T extends { sent?: RecordedHttpRequest }>(records: readonly T[]) =>
    records.flatMap((r) => (r.sent ? [r.sent] : []));
  return {
    arm: sent(world.azure.arm.requests),
    kube: sent(world.kube.requests.filter((r) => r.user === RECONCILER_TOKEN && r.verb !== 'watch')),
    spec: [...spec],
  };
}

/** Replays the traffic from a process of its own, `concurrency` requests in flight, and returns what it measured. */
export async function replayFloor(
  traffic: RecordedTraffic,
  targets: Readonly<Record<FloorTarget, string>>,
  concurrency: number,
  env: Record<string, string>,
): Promise<FloorResult> {
  const settings: Omit<FloorPlan, 'requests'> = { concurrency, targets, kubeToken: RECONCILER_TOKEN };
  const dir = mkdtempSync(join(tmpdir(), 'apim-floor-'));
  const file = join(dir, 'plan.ndjson');
  try {
    const plan = createWriteStream(file);
    plan.write(`${JSON.stringify(settings)}\n`);
    for (const target of ['arm', 'kube', 'spec'] as const)
      for (const r of traffic[target]) {
        const request: FloorRequest = { target, ...r };
        if (!plan.write(`${JSON.stringify(request)}\n`)) await once(plan, 'drain');
      }
    plan.end();
    await once(plan, 'finish');
    const child = spawn(process.execPath, [client, file], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const last = out.trim().split('\n').pop() ?? '';
    if (code !== 0) throw new Error(`floor client exited with ${code}: ${last}`);
    return JSON.parse(last) as FloorResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
