import { readFileSync } from 'node:fs';
import t from 'tap';
import type { Env } from '../../shared/env.ts';
import { createAzureCredential } from '../../shared/azure-credential.ts';
import { loadKubeConfig } from '../../shared/kube/config.ts';
import { logLevelFrom } from '../../shared/log-level.ts';
import { tracingSettings } from '../../shared/tracing.ts';
import { loadWebhookConfig } from '../../webhook/config.ts';
import { keyVaultUrlFrom, loadReconcilerConfig, shutdownGraceMsFrom } from '../../reconciler/config.ts';

/** An Env that records every name read, set or not. */
function recording(values: Record<string, string>): { env: Env; read: Set<string> } {
  const read = new Set<string>();
  const env = new Proxy(values, {
    get: (target, name) => {
      if (typeof name === 'string') read.add(name);
      return typeof name === 'string' ? target[name] : undefined;
    },
  });
  return { env, read };
}

type Process = 'webhook' | 'reconciler';

/** The least each process needs to start: the reconciler's Key Vault values come from the environment here. */
const MINIMAL: Record<Process, Record<string, string>> = {
  webhook: {},
  reconciler: {
    APIM_SERVICE_NAME: 'oda-apim',
    APIM_RESOURCE_GROUP: 'oda-rg',
    AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000003',
    AAD_TENANT_ID: '00000000-0000-0000-0000-000000000001',
    AAD_CLIENT_ID: '00000000-0000-0000-0000-000000000002',
  },
};

/**
 * Everything each process reads from its environment at start, as a JSON
 * snapshot of the values it uses. Reads outside the config loaders (the
 * Kubernetes and Azure credentials) are made too, so that they are recorded.
 */
const LOADERS: Record<Process, (env: Env) => Promise<unknown>> = {
  webhook: async (env) => {
    loadKubeConfig(env);
    createAzureCredential(env);
    return { config: loadWebhookConfig(env), logLevel: logLevelFrom(env), tracing: tracingSettings(env) };
  },
  reconciler: async (env) => {
    loadKubeConfig(env);
    createAzureCredential(env);
    return {
      vault: keyVaultUrlFrom(env),
      config: await loadReconcilerConfig(env),
      graceMs: shutdownGraceMsFrom(env),
      logLevel: logLevelFrom(env),
      tracing: tracingSettings(env),
    };
  },
};

/** Conditional reads: values that make a loader read one more variable. */
const MORE: Record<string, string> = { KUBERNETES_SERVICE_HOST: '10.0.0.1' };

async function readsOf(process: Process): Promise<Set<string>> {
  const all = new Set<string>();
  for (const extra of [{}, MORE]) {
    const { env, read } = recording({ ...MINIMAL[process], ...extra });
    await LOADERS[process](env);
    for (const name of read) all.add(name);
  }
  return all;
}

interface Row {
  name: string;
  default: string;
  readBy: string;
}

function documentedSettings(): Row[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Settings\n'));
  if (!section) throw new Error('README.md has no "## Settings" section');
  return [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \| ([^|]*) \|/gm)].map((m) => ({
    name: m[1] ?? '',
    default: (m[2] ?? '').trim(),
    readBy: (m[3] ?? '').trim(),
  }));
}

const readBy = (inWebhook: boolean, inReconciler: boolean): string =>
  inWebhook && inReconciler ? 'both' : inWebhook ? 'webhook' : 'reconciler';

t.test('every setting read is documented in the README, and every documented one is read', async (t) => {
  const webhook = await readsOf('webhook');
  const reconciler = await readsOf('reconciler');
  const rows = documentedSettings();
  const documented = new Map(rows.map((r) => [r.name, r]));
  t.equal(documented.size, rows.length, 'one row per variable');
  for (const name of [...new Set([...webhook, ...reconciler])].sort()) {
    const row = documented.get(name);
    t.ok(row, `${name} is read but has no row in the README's Settings table`);
    if (row)
      t.equal(row.readBy, readBy(webhook.has(name), reconciler.has(name)), `${name}: "Read by" says who reads it`);
  }
  for (const { name } of rows)
    t.ok(webhook.has(name) || reconciler.has(name), `${name} is documented in the README but no process reads it`);
});

/** Settings that are refused alone, with what they need beside them (set in both runs of the comparison). */
const COMPANIONS: Record<string, Record<string, string>> = {
  DASHBOARD_USERNAME: { DASHBOARD_PASSWORD_FILE: '/run/secrets/dashboard/password' },
};

t.test('a documented default, set explicitly, changes nothing', async (t) => {
  const rows = documentedSettings().filter((r) => /^`[^`]+`$/.test(r.default));
  t.ok(rows.length >= 20, 'most settings have a plain default to check');
  for (const row of rows) {
    const value = row.default.slice(1, -1);
    const processes: Process[] = row.readBy === 'both' ? ['webhook', 'reconciler'] : [row.readBy as Process];
    for (const process of processes) {
      const base = { ...MINIMAL[process], ...COMPANIONS[row.name] };
      const loaded = await LOADERS[process](base);
      const explicit = await LOADERS[process]({ ...base, [row.name]: value });
      t.equal(JSON.stringify(explicit), JSON.stringify(loaded), `${row.name}: the ${process}'s default is ${value}`);
    }
  }
});

t.test('the check itself fails on a changed default', async (t) => {
  const loaded = JSON.stringify(await LOADERS.webhook({}));
  t.not(JSON.stringify(await LOADERS.webhook({ SPEC_CACHE_MAX_BYTES: '1024' })), loaded);
});
