import type { CheckResult } from '../../shared/exposed-api/check.ts';
import { problem, type Findings } from '../../shared/exposed-api/problems.ts';
import type { SpecificationT } from '../../shared/exposed-api/schema.ts';
import { specSources } from '../../shared/exposed-api/specification.ts';
import type { SpecCheckResult } from '../../shared/openapi/spec-checker.ts';

/** What a validator sees: its key and the local check already made, whose `checked` is the object as read. */
export interface ValidationInput {
  /** `namespace/name`, or `namespace/<generateName>*` before the API server has named it. */
  readonly key: string;
  readonly local: CheckResult;
}

/** One check of the chain; every validator runs and all findings are merged, so the user sees everything at once. */
export interface Validator {
  readonly name: string;
  validate(input: ValidationInput): Findings | Promise<Findings>;
}

/** The watch-fed record of which ExposedAPI holds which path. */
export interface PathClaims {
  claimant(path: string, exceptKey: string): string | undefined;
  state(): { enabled: boolean; synced: boolean; reason?: string };
}

/** The OpenAPI checks the webhook needs (webhook/openapi). */
export interface SpecChecks {
  checkInline(text: string): Promise<SpecCheckResult>;
  checkUrl(url: string): Promise<SpecCheckResult>;
}

const specOf = (input: ValidationInput): Record<string, unknown> =>
  (input.local.checked as { spec?: Record<string, unknown> } | undefined)?.spec ?? {};

const fieldIsSound = (input: ValidationInput, field: string): boolean =>
  !input.local.problems.some(
    (p) => p.field === field || p.field.startsWith(`${field}.`) || p.field.startsWith(`${field}[`),
  );

export const localChecks: Validator = {
  name: 'schema-and-rules',
  validate: ({ local }) => ({ problems: local.problems, warnings: local.warnings }),
};

export function pathUniqueness(claims: PathClaims): Validator {
  return {
    name: 'path-uniqueness',
    validate(input) {
      const path = specOf(input).path;
      if (typeof path !== 'string' || !fieldIsSound(input, 'spec.path')) return { problems: [], warnings: [] };
      const state = claims.state();
      if (!state.enabled || !state.synced) {
        return {
          problems: [],
          warnings: [
            `spec.path was not checked against other ExposedAPIs (${state.reason ?? 'the cluster cache is still loading'})`,
          ],
        };
      }
      const holder = claims.claimant(path, input.key);
      return holder
        ? {
            problems: [
              problem(
                'spec.path',
                `${JSON.stringify(path)} is already claimed by ExposedAPI ${holder}: choose another path, or delete that one first`,
              ),
            ],
            warnings: [],
          }
        : { problems: [], warnings: [] };
    },
  };
}

export function openApiDocument(checker: SpecChecks): Validator {
  return {
    name: 'openapi-document',
    async validate(input) {
      const spec = specOf(input);
      if (!fieldIsSound(input, 'spec.specification') || (spec.apiType !== undefined && spec.apiType !== 'openapi'))
        return { problems: [], warnings: [] };
      const [source] = specSources(spec.specification as SpecificationT | undefined);
      if (!source) return { problems: [], warnings: [] };
      if (source.kind === 'inline') {
        const result = await checker.checkInline(source.text);
        return result.ok
          ? { problems: [], warnings: result.warnings.map((w) => `spec.specification: ${w}`) }
          : {
              problems: [problem('spec.specification', `is not a valid OpenAPI document: ${result.message}`)],
              warnings: [],
            };
      }
      const result = await checker.checkUrl(source.url);
      if (result.ok) return { problems: [], warnings: result.warnings.map((w) => `spec.specification: ${w}`) };
      if (result.transient) {
        return {
          problems: [],
          warnings: [
            `spec.specification: the document could not be checked now (${result.message}); the reconciler will fetch it again`,
          ],
        };
      }
      // The checker's message names the URL without its query string, which may carry a signature.
      return { problems: [problem('spec.specification', `cannot be used: ${result.message}`)], warnings: [] };
    },
  };
}

export async function runValidators(validators: readonly Validator[], input: ValidationInput): Promise<Findings> {
  const all = await Promise.all(validators.map(async (v) => v.validate(input)));
  return { problems: all.flatMap((f) => f.problems), warnings: all.flatMap((f) => f.warnings) };
}
