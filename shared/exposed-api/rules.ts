import { DEPRECATED_VERSIONS, GROUP, REQUIRED_BY_VERSION, VERSIONS, type ExposedApiVersion } from './schema.ts';
import { problem, type Findings, type Problem } from './problems.ts';
import { specSources } from './specification.ts';
import { checkCors } from './cors.ts';
import type { CorsT, SpecificationT } from './schema.ts';
import * as tokens from './tokens.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export interface CheckOptions {
  /**
   * Check required fields as for this version instead of the object's own.
   * The reconciler reads every object through one version, and the API server
   * does no conversion between ExposedAPI versions: an object written as
   * v1beta3 reads back as v1 with its v1beta3 fields. It passes `v1beta3`,
   * whose required fields are the ones a reconcile cannot do without.
   */
  readonly requiredAs?: ExposedApiVersion;
}

/** `oda.tmforum.org/v1` → `v1`; undefined for any other group or version. */
export function versionOf(apiVersion: unknown): ExposedApiVersion | undefined {
  const [group, version] = String(apiVersion).split('/');
  return group === GROUP ? VERSIONS.find((v) => v === version) : undefined;
}

/**
 * The checks a JSON schema cannot express: per-version requirements, values
 * that reach APIM policy XML, CORS that browsers and APIM refuse, and the
 * warnings for input that is accepted but doubtful. Defensive about types:
 * it runs beside the schema check so that a user sees every problem at once.
 */
export function checkRules(
  object: unknown,
  broken: (field: string) => boolean = () => false,
  options: CheckOptions = {},
): Findings {
  if (!isObj(object)) return { problems: [problem('', 'must be an ExposedAPI object')], warnings: [] };
  const version = versionOf(object.apiVersion);
  if (!version) {
    return {
      problems: [
        problem(
          'apiVersion',
          `must be one of ${VERSIONS.map((v) => `${GROUP}/${v}`).join(', ')}, got ${JSON.stringify(object.apiVersion)}`,
        ),
      ],
      warnings: [],
    };
  }
  const spec = isObj(object.spec) ? object.spec : {};
  const problems: Problem[] = metadataProblems(object.metadata);
  const warnings: string[] = [];
  for (const rule of RULES)
    rule({ spec, version, required: options.requiredAs ?? version, broken }, problems, warnings);
  return { problems, warnings };
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The names the API server itself requires (it checks them only after the
 * mutating webhook ran): every id this operator derives from them, in APIM and
 * in Kubernetes, relies on them.
 */
function metadataProblems(metadata: unknown): Problem[] {
  if (!isObj(metadata)) return [];
  const problems: Problem[] = [];
  const { name, namespace } = metadata;
  if (typeof name === 'string' && (name.length > 253 || !DNS_SUBDOMAIN.test(name)))
    problems.push(
      problem(
        'metadata.name',
        `must be a DNS subdomain name (at most 253 lowercase letters, digits, "-" and ".", starting and ending with a letter or digit), got ${JSON.stringify(name.slice(0, 80))}`,
      ),
    );
  if (typeof namespace === 'string' && (namespace.length > 63 || !DNS_LABEL.test(namespace)))
    problems.push(
      problem(
        'metadata.namespace',
        `must be a DNS label (at most 63 lowercase letters, digits and "-"), got ${JSON.stringify(namespace.slice(0, 80))}`,
      ),
    );
  return problems;
}

/** `broken(field)` is true when the schema check already found that field malformed. */
interface RuleInput {
  readonly spec: Obj;
  readonly version: ExposedApiVersion;
  /** Whose required fields apply (see CheckOptions.requiredAs). */
  readonly required: ExposedApiVersion;
  readonly broken: (field: string) => boolean;
}
type Rule = (input: RuleInput, problems: Problem[], warnings: string[]) => void;

const requiredFields: Rule = ({ spec, version, required }, problems, warnings) => {
  for (const field of REQUIRED_BY_VERSION[required]) {
    if (spec[field] === undefined) problems.push(problem(`spec.${field}`, `is required in ${GROUP}/${version}`));
  }
  if (DEPRECATED_VERSIONS.includes(version)) warnings.push(`${GROUP}/${version} is deprecated: use ${GROUP}/v1`);
  if (version === 'v1beta3' && spec.apiType === undefined)
    warnings.push('spec.apiType is not set: the API is treated as "openapi"');
};

const pathAndNames: Rule = ({ spec }, problems) => {
  const path = str(spec.path);
  const pathIssue = path === undefined ? undefined : tokens.pathProblem(path);
  if (pathIssue) problems.push(problem('spec.path', pathIssue));
  const impl = str(spec.implementation);
  if (impl !== undefined && !tokens.isServiceName(impl)) {
    problems.push(
      problem(
        'spec.implementation',
        `must be a Service name (lowercase letters, digits and "-", starting with a letter, at most 63 characters), got ${JSON.stringify(impl)}`,
      ),
    );
  }
  const ui = str(spec.developerUI);
  if (ui !== undefined && !(ui.startsWith('/') ? !tokens.pathProblem(ui) : tokens.isHttpUrl(ui))) {
    problems.push(
      problem('spec.developerUI', `must be a path starting with "/" or an http(s) URL, got ${JSON.stringify(ui)}`),
    );
  }
  const template = str(spec.template);
  if (template !== undefined && !tokens.isFragmentId(template)) {
    problems.push(
      problem(
        'spec.template',
        `must be the id of an APIM policy fragment (letters, digits, "-", ".", "_"; at most 80), got ${JSON.stringify(template)}`,
      ),
    );
  }
};

const specification: Rule = ({ spec, broken }, problems, warnings) => {
  if (broken('spec.specification')) return;
  const sources = specSources(spec.specification as SpecificationT | undefined);
  sources.forEach((source, i) => {
    if (source.kind !== 'url') return;
    const field = Array.isArray(spec.specification) ? `spec.specification[${i}]` : 'spec.specification';
    if (!tokens.isHttpUrl(source.url))
      problems.push(problem(field, `must be an http(s) URL, got ${JSON.stringify(source.url)}`));
  });
  if (sources.length > 1)
    warnings.push(`spec.specification lists ${sources.length} documents: only the first is imported into APIM`);
  const apiType = spec.apiType ?? 'openapi';
  if (apiType === 'openapi' && sources.length === 0)
    warnings.push('spec.specification is not set: the API is published without operations until a document is given');
};

const counter = (field: string, value: unknown, problems: Problem[]): void => {
  const id = str(value);
  if (id !== undefined && id.toUpperCase() !== 'IP' && !tokens.isPlainHeaderName(id)) {
    problems.push(
      problem(field, `must be "IP" or an HTTP header name (letters, digits, "-", "_", "."), got ${JSON.stringify(id)}`),
    );
  }
};

const rateLimitAndQuota: Rule = ({ spec }, problems, warnings) => {
  const rl = spec.rateLimit;
  if (isObj(rl)) {
    counter('spec.rateLimit.identifier', rl.identifier, problems);
    if (rl.period !== undefined && rl.interval !== undefined) {
      problems.push(problem('spec.rateLimit', 'give either interval ("ps" or "pm") or period (seconds), not both'));
    }
    if (rl.limit === undefined && (rl.enabled === true || rl.period !== undefined)) {
      problems.push(problem('spec.rateLimit.limit', 'is required when the rate limit is on'));
    }
    // The mutating webhook fills the CRD default `enabled: false`, so "not set" and "false" read the same here.
    if (rl.enabled !== true && rl.period === undefined && rl.limit !== undefined) {
      warnings.push(
        'spec.rateLimit has a limit but enabled is not true, so no rate limit is applied (the default is false): set enabled: true to apply it',
      );
    }
  }
  if (isObj(spec.quota)) {
    counter('spec.quota.identifier', spec.quota.identifier, problems);
    if (spec.quota.limit === undefined) problems.push(problem('spec.quota.limit', 'is required when a quota is given'));
  }
};

const apiKey: Rule = ({ spec }, problems) => {
  const location = isObj(spec.apiKeyVerification) ? str(spec.apiKeyVerification.location) : undefined;
  if (location !== undefined && !['header', 'query'].includes(location) && !tokens.isPlainHeaderName(location)) {
    problems.push(
      problem(
        'spec.apiKeyVerification.location',
        `must be "header", "query" or the name of the header that carries the key, got ${JSON.stringify(location)}`,
      ),
    );
  }
};

const cors: Rule = ({ spec, broken }, problems) => {
  if (isObj(spec.CORS) && !broken('spec.CORS')) problems.push(...checkCors(spec.CORS as CorsT));
};

export const RULES: readonly Rule[] = [requiredFields, pathAndNames, specification, rateLimitAndQuota, apiKey, cors];
