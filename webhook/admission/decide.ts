import { isDeepStrictEqual } from 'node:util';
import jsonpatch from 'fast-json-patch';
import { checkExposedApi } from '../../shared/exposed-api/check.ts';
import { withDefaults } from '../../shared/exposed-api/defaults.ts';
import { tooDeeplyNested } from '../../shared/exposed-api/nesting.ts';
import { allow, deny, type AdmissionRequest, type AdmissionResponse } from './review.ts';
import { runValidators, type Validator } from './validators.ts';

type Obj = Record<string, any>;
const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});

/** `namespace/name` of the object under admission; a name still to be generated is marked as such. */
export function admissionKey(request: AdmissionRequest): string {
  const meta = asObj(asObj(request.object ?? request.oldObject).metadata);
  const namespace = request.namespace || meta.namespace || 'default';
  const name = request.name || meta.name || (meta.generateName ? `${meta.generateName}*` : '');
  return `${namespace}/${name}`;
}

/** An UPDATE that leaves the spec as it was (status written through the main resource, metadata only). */
function specUnchanged(request: AdmissionRequest): boolean {
  return request.operation === 'UPDATE' && isDeepStrictEqual(asObj(request.object).spec, asObj(request.oldObject).spec);
}

/** Whether an allowed request is worth a reconcile: not for the operator's own status writes. */
function needsReconcile(request: AdmissionRequest): boolean {
  if (request.dryRun || request.subResource === 'status') return false;
  if (request.operation === 'CREATE' || request.operation === 'DELETE') return true;
  if (request.operation !== 'UPDATE') return false;
  const [now, before] = [asObj(request.object), asObj(request.oldObject)];
  return (
    !isDeepStrictEqual(now.spec, before.spec) ||
    !isDeepStrictEqual(now.metadata?.labels, before.metadata?.labels) ||
    !isDeepStrictEqual(now.metadata?.annotations, before.metadata?.annotations) ||
    now.metadata?.deletionTimestamp !== before.metadata?.deletionTimestamp
  );
}

export interface ValidationDecision {
  readonly response: AdmissionResponse;
  /** The key to queue a reconcile for, when the request was allowed and changes something the reconciler acts on. */
  readonly enqueue?: string;
}

/**
 * The validating webhook's answer. DELETE and status-only updates pass
 * without spec checks (the object was checked when its spec was written).
 */
/**
 * The request as the comparisons below may read it. Everything else is
 * recursive (deep compares, cloning, the schema, the patch), so an object
 * nested without bound is refused first (see nesting.ts); a stored old object
 * that deep is not compared with, and the update counts as a change.
 */
function bounded(request: AdmissionRequest): { request: AdmissionRequest; deny?: AdmissionResponse } {
  const deep = request.operation === 'DELETE' ? undefined : tooDeeplyNested(request.object);
  if (deep) return { request, deny: deny(request.uid, `ExposedAPI ${admissionKey(request)}`, [deep], []) };
  return { request: tooDeeplyNested(request.oldObject) ? { ...request, oldObject: undefined } : request };
}

export async function decideValidation(
  incoming: AdmissionRequest,
  validators: readonly Validator[],
): Promise<ValidationDecision> {
  const { request, deny: refused } = bounded(incoming);
  if (refused) return { response: refused };
  const key = admissionKey(request);
  const enqueue = needsReconcile(request) && !key.endsWith('*') ? key : undefined;
  if (
    request.operation === 'DELETE' ||
    request.operation === 'CONNECT' ||
    request.subResource === 'status' ||
    specUnchanged(request)
  ) {
    return { response: allow(request.uid), ...(enqueue ? { enqueue } : {}) };
  }
  const object = asObj(request.object);
  const findings = await runValidators(validators, { key, local: checkExposedApi(object) });
  if (findings.problems.length > 0) {
    return { response: deny(request.uid, `ExposedAPI ${key}`, findings.problems, findings.warnings) };
  }
  return { response: allow(request.uid, findings.warnings), ...(enqueue ? { enqueue } : {}) };
}

/** The mutating webhook's answer: the JSONPatch from the object to its defaulted self (empty when nothing is missing). */
export function decideMutation(incoming: AdmissionRequest): AdmissionResponse {
  if ((incoming.operation !== 'CREATE' && incoming.operation !== 'UPDATE') || incoming.subResource === 'status')
    return allow(incoming.uid);
  const { request, deny: refused } = bounded(incoming);
  if (refused) return refused;
  const object = asObj(request.object);
  return allow(request.uid, [], jsonpatch.compare(object, withDefaults(object)));
}
