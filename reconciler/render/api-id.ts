import { createHash } from 'node:crypto';
import type { ResourceKey } from '../../shared/key.ts';
import type { ExposedApi } from '../../shared/exposed-api/model.ts';

export const MAX_API_ID_LENGTH = 80;
export const MAX_DISPLAY_NAME_LENGTH = 300;
const HASH_LENGTH = 8;
/** Lowercase letters and digits in runs joined by single hyphens. */
const PLAIN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The first 8 hex digits of sha256("namespace/name"). */
export function keyHash(namespace: string, name: string): string {
  return createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, HASH_LENGTH);
}

/**
 * The APIM API id of an ExposedAPI. Two forms that can never be equal:
 *
 * - readable, `<namespace>--<name>`, when both are plain (lowercase letters,
 *   digits, single hyphens), the namespace starts with a letter and the whole
 *   fits in 80 characters. Neither part contains `--`, so the id splits back
 *   into exactly one (namespace, name): no two keys share it.
 * - hashed, `<sanitised prefix>---<sha256 8 hex>`, for everything else (dots,
 *   `--`, a leading digit, too long). Only hashed ids contain `---`.
 *
 * Both use only `[a-z0-9-]`, start with a letter, end with a letter or digit.
 */
export function apiIdFor(namespace: string, name: string): string {
  const readable = `${namespace}--${name}`;
  if (PLAIN.test(namespace) && PLAIN.test(name) && /^[a-z]/.test(namespace) && readable.length <= MAX_API_ID_LENGTH)
    return readable;
  const room = MAX_API_ID_LENGTH - HASH_LENGTH - 3;
  let prefix = `${namespace}-${name}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '');
  prefix = prefix.slice(0, room).replace(/-+$/, '');
  return `${prefix || 'api'}---${keyHash(namespace, name)}`;
}

/**
 * The API's display name: APIM refuses a display name another API already
 * uses, so it carries the resource key, which is unique. Capped at 300
 * characters, with the key hash standing in for what was cut.
 */
export function displayNameFor(model: Pick<ExposedApi, 'name' | 'key'>): string {
  const full = `${model.name} (${model.key.namespace}/${model.key.name})`;
  if (full.length <= MAX_DISPLAY_NAME_LENGTH) return full;
  const tail = `… ${keyHash(model.key.namespace, model.key.name)})`;
  return full.slice(0, MAX_DISPLAY_NAME_LENGTH - tail.length) + tail;
}

/** The line in an API's description that says this operator manages it for this ExposedAPI. */
export function ownershipMarker(key: ResourceKey): string {
  return `[managed-by: oda-apim-operator; exposedapi: ${key.namespace}/${key.name}]`;
}

/** True when one whole line of the description is this key's ownership marker (`ns/a` does not own `ns/ab`). */
export function isOwnedBy(description: string | undefined, key: ResourceKey): boolean {
  if (!description) return false;
  const marker = ownershipMarker(key);
  return description.split(/\r?\n/).some((line) => line.trim() === marker);
}
