/** Helpers for reconciler lifecycle tests: ExposedAPIs in the stand-ins, slow APIM PUTs, and the reconciler as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { ReconcilerEnvironment } from './reconciler-env.ts';
import { exposedApi } from './resources.ts';
import type { ArmRequest } from '../fakes/arm-apim-server.ts';
import { recordingSink } from './scan-recording.ts';

export const NS = 'components';
const FINALIZER = 'oda.tmforum.org/apim-cleanup';
const MAIN = fileURLToPath(new URL('../../reconciler/main.ts', import.meta.url));
const CONFIG_OVERRIDES = [
  'APIM_SERVICE_NAME',
  'APIM_RESOURCE_GROUP',
  'AZURE_SUBSCRIPTION_ID',
  'AAD_TENANT_ID',
  'AAD_CLIENT_ID',
];

export function helpers(world: ReconcilerEnvironment) {
  const { kube } = world;
  const custom = kube.kubeconfig().makeApiClient(CustomObjectsApi);
  const status = (name: string): any => (kube.get('exposedapis', NS, name) as any)?.status;
  const isReady = (name: string) => status(name)?.implementation?.ready === true;
  /** The Ready condition. */
  const ready = (name: string): any => status(name)?.conditions?.find((c: any) => c.type === 'Ready');
  /** Creates ExposedAPI `name` in NS from the test resource with these spec fields. */
  const createWith = (name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
    custom.createNamespacedCustomObject({
      group: 'oda.tmforum.org',
      version: 'v1',
      namespace: NS,
      plural: 'exposedapis',
      body: exposedApi(spec, { name, metadata }),
    });
  const create = async (name: string, finalizer = false) => {
    await createWith(
      name,
      { path: `/${name}/tmf-api/v4`, specification: { url: `${world.specs.url}/tmf620.json`, version: 'v4.0.0' } },
      finalizer ? { finalizers: [FINALIZER] } : {},
    );
  };
  const remove = (name: string) =>
    custom.deleteNamespacedCustomObject({
      group: 'oda.tmforum.org',
      version: 'v1',
      namespace: NS,
      plural: 'exposedapis',
      name,
    });
  /** Slows the PUT of these API ids and reports which one is in flight. */
  const slowPuts = (ms: number, apiIds: readonly string[], onlyFirst = false) => {
    const started = new Set<string>();
    world.azure.arm.setLatency(ms, (request: ArmRequest) => {
      const id = /^apis\/([^/]+)$/.exec(request.subPath)?.[1];
      if (request.method !== 'PUT' || !id || !apiIds.includes(id)) return false;
      if (onlyFirst && started.has(id)) return false;
      started.add(id);
      return true;
    });
    return started;
  };
  return { custom, status, isReady, ready, create, createWith, remove, slowPuts };
}

export interface Spawned {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export function spawnReconciler(env: Record<string, string | undefined>): Spawned {
  return spawnNode(MAIN, env);
}

/** A Node process running `main` with exactly this environment, its output collected. */
export function spawnNode(main: string, env: Record<string, string | undefined>): Spawned {
  const child = spawn(process.execPath, [main], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const sink = recordingSink('logs', 'reconciler-process');
  const collect = (chunk: unknown) => {
    output += String(chunk);
    sink?.write(String(chunk));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** The child's environment: the test's own, minus any config override, plus the stand-ins'. */
export function childEnv(
  world: ReconcilerEnvironment,
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, ...world.env, LOG_LEVEL: 'info', ...extra };
  for (const name of CONFIG_OVERRIDES) delete env[name];
  return env;
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
