/**
 * Label and field selectors as the API server parses them. Pure; a bad
 * selector throws BadRequest, as it does for real.
 */
import type { KubeObject } from './object.ts';
import { badRequest } from './status.ts';

export type Selector = (object: KubeObject) => boolean;

type Requirement =
  | { op: 'exists' | 'notExists'; key: string }
  | { op: 'in' | 'notIn'; key: string; values: readonly string[] };

/** Splits on commas outside parentheses: `a in (x,y),b=c` has two requirements. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += ch;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t.length > 0);
}

const SET_TERM = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/;
const EQUALITY_TERM = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/;
const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

function parseRequirement(term: string, selector: string): Requirement {
  const set = SET_TERM.exec(term);
  const equality = EQUALITY_TERM.exec(term);
  let requirement: Requirement;
  if (set) {
    const values = (set[3] ?? '').split(',').map((v) => v.trim());
    requirement = { op: set[2] === 'in' ? 'in' : 'notIn', key: set[1] ?? '', values };
  } else if (equality) {
    requirement = { op: equality[2] === '!=' ? 'notIn' : 'in', key: equality[1] ?? '', values: [equality[3] ?? ''] };
  } else if (term.startsWith('!')) {
    requirement = { op: 'notExists', key: term.slice(1).trim() };
  } else {
    requirement = { op: 'exists', key: term };
  }
  if (!KEY.test(requirement.key))
    throw badRequest(`unable to parse requirement: invalid label key "${requirement.key}" in selector "${selector}"`);
  return requirement;
}

function matches(requirement: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.op) {
    case 'exists':
      return has;
    case 'notExists':
      return !has;
    case 'in':
      return has && requirement.values.includes(value ?? '');
    case 'notIn':
      return !has || !requirement.values.includes(value ?? '');
  }
}

export function parseLabelSelector(text: string | undefined): Selector {
  if (!text) return () => true;
  const requirements = splitTerms(text).map((term) => parseRequirement(term, text));
  return (object) => {
    const labels = object.metadata.labels ?? {};
    return requirements.every((r) => matches(r, labels));
  };
}

/** The fields every resource supports; the API server refuses any other field for CRDs. */
const FIELDS: Readonly<Record<string, (object: KubeObject) => string>> = {
  'metadata.name': (o) => o.metadata.name ?? '',
  'metadata.namespace': (o) => o.metadata.namespace ?? '',
};

export function parseFieldSelector(text: string | undefined): Selector {
  if (!text) return () => true;
  const tests = splitTerms(text).map((term) => {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(term);
    const read = m ? FIELDS[m[1] ?? ''] : undefined;
    if (!m || !read) throw badRequest(`field label not supported: ${m?.[1] ?? term}`);
    const expected = m[3] ?? '';
    return m[2] === '!=' ? (o: KubeObject) => read(o) !== expected : (o: KubeObject) => read(o) === expected;
  });
  return (object) => tests.every((test) => test(object));
}

export function combine(...selectors: Selector[]): Selector {
  return (object) => selectors.every((s) => s(object));
}
