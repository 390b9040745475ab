import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Test } from 'tap';
import { checkAndNormalise } from '../../shared/exposed-api/check.ts';
import type { ExposedApi } from '../../shared/exposed-api/model.ts';

const GOLDEN = new URL('../unit/render/golden/', import.meta.url);

/** Compares rendered output with its golden file; `UPDATE_GOLDEN=1` rewrites the file instead. */
export function golden(t: Test, name: string, actual: string): void {
  const file = new URL(name, GOLDEN);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  t.equal(actual, readFileSync(file, 'utf8'), `matches golden/${name} (UPDATE_GOLDEN=1 rewrites it)`);
}

/** The normalised model of a valid ExposedAPI; throws (failing the test) for an invalid one. */
export function model(object: Record<string, any>): ExposedApi {
  const result = checkAndNormalise(object);
  if (!('model' in result)) throw new Error(`not valid: ${JSON.stringify(result.problems)}`);
  return result.model;
}
