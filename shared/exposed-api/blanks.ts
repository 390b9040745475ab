import { REQUIRED_BY_VERSION } from './schema.ts';
import { versionOf } from './rules.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const unset = (v: unknown): boolean => v === '' || v === null;

export interface WithoutBlanks {
  /** The object as it is read: a copy without its blank optional values, or the object itself when it has none. */
  readonly object: unknown;
  /** One sentence per top-level field that had blanks, naming each blank field. */
  readonly warnings: readonly string[];
}

/** The section without its blank leaves (undefined when nothing is left); the blanks' dotted paths go to `blanks`. */
function strip(value: Obj, path: string, blanks: string[]): Obj | undefined {
  const kept: Obj = {};
  for (const [key, child] of Object.entries(value)) {
    const at = `${path}.${key}`;
    if (unset(child)) blanks.push(at);
    else if (isObj(child)) {
      const inner = strip(child, at, blanks);
      if (inner !== undefined) kept[key] = inner;
    } else kept[key] = child;
  }
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/**
 * A document reference with no URL: the component operator writes
 * `[{url: null, version: "v4"}]` for a core API without a specification,
 * and the API server prunes the null, leaving `{version: "v4"}`.
 */
const noUrl = (entry: unknown): boolean => unset(entry) || (isObj(entry) && unset(entry.url ?? null));

function stripSpecification(value: unknown, blanks: string[]): unknown {
  if (Array.isArray(value)) {
    const kept = value.filter((entry, i) => !(noUrl(entry) && blanks.push(`spec.specification[${i}]`)));
    return kept.length > 0 ? kept : undefined;
  }
  if (isObj(value) && noUrl(value)) {
    blanks.push('spec.specification');
    return undefined;
  }
  return value;
}

const list = (fields: readonly string[]): string =>
  fields.length === 1 ? fields[0]! : `${fields.slice(0, -1).join(', ')} and ${fields.at(-1)}`;

/**
 * An ODA component's Helm chart renders every unset value as `""` (the
 * reference component gives `quota: {identifier: "", limit: ""}` and
 * `template: ""`), and the Canvas component operator copies them into the
 * ExposedAPI as they are. The Canvas CRD allows them and its own API
 * operators ignore them, so here an empty (or null) optional value means
 * "not set", and a section left with nothing set (`quota` above, or
 * `rateLimit: {}`) means that policy is off. Required fields keep their
 * blanks, so that the schema check refuses them by name.
 */
export function withoutBlanks(object: unknown): WithoutBlanks {
  if (!isObj(object) || !isObj(object.spec)) return { object, warnings: [] };
  const version = versionOf(object.apiVersion);
  const required = new Set<string>(version ? REQUIRED_BY_VERSION[version] : []);
  const spec: Obj = {};
  const warnings: string[] = [];
  let changed = false;
  for (const [key, value] of Object.entries(object.spec)) {
    const at = `spec.${key}`;
    if (required.has(key) || (!unset(value) && !isObj(value) && key !== 'specification')) {
      spec[key] = value;
      continue;
    }
    const blanks: string[] = [];
    const kept = unset(value)
      ? (blanks.push(at), undefined)
      : key === 'specification'
        ? stripSpecification(value, blanks)
        : strip(value as Obj, at, blanks);
    if (kept !== undefined) spec[key] = kept;
    if (kept !== value) changed = true;
    if (blanks.length === 0) continue;
    const verb = blanks.length === 1 ? 'is' : 'are';
    if (key === 'specification')
      warnings.push(`${list(blanks)} ${blanks.length === 1 ? 'has' : 'have'} no URL: treated as not set`);
    else {
      const off = kept === undefined && !blanks.includes(at) ? `, so ${at} is off` : '';
      warnings.push(`${list(blanks)} ${verb} empty: treated as not set${off}`);
    }
  }
  return changed ? { object: { ...object, spec }, warnings } : { object, warnings };
}
