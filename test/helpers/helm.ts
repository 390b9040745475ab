import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHART = join(ROOT, 'k8s/chart');
export const RELEASE = { name: 'apim-operator', namespace: 'apim-operator' } as const;

export type Rendered = Record<string, any>;

/** The real helm (scripts/helm.sh), its output or its error text. */
export function helm(args: readonly string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync('bash', [join(ROOT, 'scripts/helm.sh'), ...args], { encoding: 'utf8' }) };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** `helm template` of the chart with these values files, as objects. */
export function render(valuesFiles: readonly string[] = [], sets: readonly string[] = []): Rendered[] {
  const args = ['template', RELEASE.name, CHART, '--namespace', RELEASE.namespace];
  for (const f of valuesFiles) args.push('-f', f);
  for (const s of sets) args.push('--set', s);
  const { ok, out } = helm(args);
  if (!ok) throw new Error(`helm template failed: ${out}`);
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Rendered)
    .filter((o) => o && typeof o === 'object');
}

/** The chart's CI values files (k8s/chart/ci/*-values.yaml), by name. */
export function ciValues(): { name: string; file: string }[] {
  return readdirSync(join(CHART, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .map((f) => ({ name: f.replace(/-values\.yaml$/, ''), file: join(CHART, 'ci', f) }));
}
