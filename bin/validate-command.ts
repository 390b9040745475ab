import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { checkExposedApi } from '../shared/exposed-api/check.ts';
import { formatProblem } from '../shared/exposed-api/problems.ts';
import {
  localChecks,
  openApiDocument,
  pathUniqueness,
  runValidators,
  type PathClaims,
  type SpecChecks,
} from '../webhook/admission/validators.ts';
import { errorMessage } from '../shared/errors.ts';
import { createPathIndex } from '../webhook/path-index.ts';

interface Document {
  readonly where: string;
  readonly object: Record<string, any>;
}

/** Every YAML or JSON document in the files, with where it came from; non-ExposedAPI documents are left out. */
async function readDocuments(
  files: readonly string[],
  out: (line: string) => void,
): Promise<{ documents: Document[]; unreadable: number }> {
  const documents: Document[] = [];
  let unreadable = 0;
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      out(`${file}: cannot be read: ${errorMessage(error)}`);
      unreadable++;
      continue;
    }
    parseAllDocuments(text).forEach((doc, i) => {
      const where = `${file}#${i + 1}`;
      if (doc.errors.length > 0) {
        out(`${where}: is not valid YAML or JSON: ${doc.errors[0]?.message.split('\n')[0]}`);
        unreadable++;
        return;
      }
      const object = doc.toJS({ maxAliasCount: 100 }) as unknown;
      if (object === null || object === undefined) return;
      if (typeof object !== 'object' || (object as Record<string, unknown>).kind !== 'ExposedAPI') return;
      documents.push({ where, object: object as Record<string, any> });
    });
  }
  return { documents, unreadable };
}

const keyOf = (o: Record<string, any>): string => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name ?? ''}`;

/** Paths claimed by the other documents of the same run: a pipeline catches two APIs on one path before the cluster does. */
function claimsAmong(documents: readonly Document[]): PathClaims {
  const index = createPathIndex();
  for (const { object } of documents)
    if (typeof object.spec?.path === 'string') index.upsert(keyOf(object), object.spec.path);
  return {
    claimant: (path, exceptKey) => index.claimant(path, exceptKey),
    state: () => ({ enabled: true, synced: true }),
  };
}

/**
 * `apim-operator validate FILE...`: the admission checks on files, with the
 * webhook's messages. Exit 0 when every ExposedAPI is valid, 1 when any is
 * not, 2 when a file cannot be read or parsed.
 */
export async function validateFiles(
  files: readonly string[],
  specChecks: SpecChecks,
  out: (line: string) => void,
): Promise<number> {
  const { documents, unreadable } = await readDocuments(files, out);
  const validators = [localChecks, pathUniqueness(claimsAmong(documents)), openApiDocument(specChecks)];
  let invalid = 0;
  for (const { where, object } of documents) {
    const key = keyOf(object);
    const findings = await runValidators(validators, { key, local: checkExposedApi(object) });
    out(`${where} ExposedAPI ${key}: ${findings.problems.length > 0 ? 'invalid' : 'valid'}`);
    for (const p of findings.problems) out(`  - ${formatProblem(p)}`);
    for (const w of findings.warnings) out(`  warning: ${w}`);
    if (findings.problems.length > 0) invalid++;
  }
  if (documents.length === 0 && unreadable === 0) out('no ExposedAPI found in the files given');
  out(`${documents.length} ExposedAPI checked: ${documents.length - invalid} valid, ${invalid} invalid`);
  return unreadable > 0 ? 2 : invalid > 0 ? 1 : 0;
}
