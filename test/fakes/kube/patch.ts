/**
 * The four patch types, chosen by Content-Type as the API server does. Pure:
 * each returns the patched copy; the store then applies the update rules.
 */
import jsonPatch from 'fast-json-patch';
import { parse as parseYaml } from 'yaml';
import { asKubeObject, isPlainObject, type KubeObject } from './object.ts';
import { badRequest, KubeError, unsupportedMediaType } from './status.ts';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const CONTENT_TYPES: Readonly<Record<string, PatchType>> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export function patchTypeOf(contentType: string | undefined): PatchType {
  const bare = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const found = CONTENT_TYPES[bare];
  if (!found) throw unsupportedMediaType(bare);
  return found;
}

export function parsePatchBody(patchType: PatchType, text: string): unknown {
  try {
    // Apply bodies are YAML, of which JSON (what client-node sends) is a subset.
    return patchType === 'apply' ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
}

/** RFC 7386: objects merge key by key, null deletes, anything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function applyJsonPatch(current: KubeObject, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest('json patch must be an array of operations');
  try {
    return jsonPatch.applyPatch(structuredClone(current), patch, true, true).newDocument;
  } catch (error) {
    throw new KubeError(
      422,
      'Invalid',
      `the server rejected our request due to an error in our request: ${(error as Error).message}`,
    );
  }
}

/**
 * The patched object. Strategic merge is treated as a JSON merge (right for
 * CRDs' semantics apart from the 415 the real server answers for them; close
 * enough for built-ins whose lists we do not merge by key). Server-side apply
 * merges the given fields and records no field ownership.
 */
export function applyPatch(patchType: PatchType, current: KubeObject, patch: unknown): KubeObject {
  if (patchType !== 'json' && !isPlainObject(patch)) throw badRequest(`${patchType} patch must be a JSON object`);
  const patched = patchType === 'json' ? applyJsonPatch(current, patch) : mergePatch(current, patch);
  const object = asKubeObject(patched);
  if (!object) throw new KubeError(422, 'Invalid', 'the patch produced something that is not an object with metadata');
  return object;
}
