import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { checkAndNormalise } from '../shared/exposed-api/check.ts';
import { formatProblem } from '../shared/exposed-api/problems.ts';
import { integer, optionalText, type Env } from '../shared/env.ts';
import { renderPolicy, type PolicySettings } from '../reconciler/render/policy.ts';
import { renderIngress } from '../reconciler/render/ingress.ts';
import { apiIdFor } from '../reconciler/render/api-id.ts';

/** The reconciler's policy settings as far as the environment gives them: validate-jwt only when the tenant and client are known. */
function policySettings(env: Env): { settings: PolicySettings; note?: string } {
  const tenant = optionalText(env, 'AAD_TENANT_ID');
  const client = optionalText(env, 'AAD_CLIENT_ID');
  const quotaPeriodSeconds = integer(env, 'QUOTA_PERIOD_SECONDS', 86_400, 1, 31_536_000);
  if (!tenant || !client)
    return {
      settings: { quotaPeriodSeconds },
      note: 'validate-jwt left out: set AAD_TENANT_ID and AAD_CLIENT_ID to see it',
    };
  const authority = (optionalText(env, 'AZURE_AUTHORITY_HOST') ?? 'https://login.microsoftonline.com').replace(
    /\/+$/,
    '',
  );
  return {
    settings: {
      quotaPeriodSeconds,
      jwt: {
        openIdConfigUrl: `${authority}/${tenant}/v2.0/.well-known/openid-configuration`,
        audiences: [client, `api://${client}`],
      },
    },
  };
}

/**
 * `apim-operator render FILE`: what the reconciler would write for each
 * ExposedAPI in the file: the APIM API id, the policy XML and the Ingress.
 * Exit 0, or 1 when a resource is invalid, 2 when the file cannot be read.
 */
export async function renderFile(
  file: string,
  env: Env,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    err(`${file}: cannot be read: ${(error as Error).message}`);
    return 2;
  }
  const { settings, note } = policySettings(env);
  if (note) err(note);
  let status = 0;
  for (const doc of parseAllDocuments(text)) {
    const object = doc.toJS({ maxAliasCount: 100 }) as Record<string, any> | null;
    if (!object || object.kind !== 'ExposedAPI') continue;
    object.metadata ??= {};
    object.metadata.namespace ??= 'default';
    const checked = checkAndNormalise(object);
    const key = `${object.metadata.namespace}/${object.metadata.name ?? ''}`;
    if (!('model' in checked)) {
      err(`ExposedAPI ${key} is invalid:\n${checked.problems.map((p) => `- ${formatProblem(p)}`).join('\n')}`);
      status = 1;
      continue;
    }
    const { model } = checked;
    out(`# ExposedAPI ${key} → APIM API ${apiIdFor(model.key.namespace, model.key.name)}\n`);
    out(`${renderPolicy(model, settings)}\n`);
    out(
      `# Ingress\n${JSON.stringify(renderIngress(model, { ingressClass: optionalText(env, 'INGRESS_CLASS') ?? 'istio', labels: object.metadata.labels ?? {} }), null, 2)}\n`,
    );
  }
  return status;
}
