import { createHash } from 'node:crypto';
import { checkAndNormalise } from '../shared/exposed-api/check.ts';
import { CLEANUP_FINALIZER } from '../shared/exposed-api/defaults.ts';
import { formatProblem } from '../shared/exposed-api/problems.ts';
import type { ExposedApi } from '../shared/exposed-api/model.ts';
import { parseKey, type ResourceKey } from '../shared/key.ts';
import { PermanentError, RetryableError, errorMessage } from '../shared/errors.ts';
import { backoffDelay, type BackoffSettings } from '../shared/backoff.ts';
import type { Logger } from '../shared/log.ts';
import type { KubeClient } from './clients/kube.ts';
import type { KubeObject } from './clients/kube-types.ts';
import type { ApimClient } from './clients/apim.ts';
import type { ReconcileHandler, ReconcileOutcome } from './queue-worker.ts';
import { renderStatus, statusEquals, type ExposedApiStatus } from './render/status.ts';
import { canonicalJson } from './render/api-definition.ts';
import { converge, type ConvergeSettings, type Converged } from './steps/converge.ts';
import { finalizeApim } from './steps/ensure-apim.ts';
import type { SpecResolver } from './steps/resolve-spec.ts';

export interface ReconcilerDeps {
  readonly kube: KubeClient;
  readonly apim: ApimClient;
  readonly specs: SpecResolver;
  readonly log: Logger;
  readonly now: () => Date;
  readonly settings: ConvergeSettings & { readonly backoff: BackoffSettings };
}

/** The spec as reconciled, kept in status: without a status subresource `generation` also moves on status writes, so it cannot tell a spec change from our own write. */
const specHash = (object: KubeObject): string =>
  createHash('sha256')
    .update(canonicalJson(object.spec ?? {}))
    .digest('hex')
    .slice(0, 32);

type Status = ExposedApiStatus & { observedSpecHash: string };

/** Equal for writing purposes: observedGeneration lags by our own write on a CRD without a status subresource, so it alone is no reason to write. */
function sameStatus(live: unknown, desired: Status): boolean {
  const strip = (s: unknown): unknown => {
    if (s === null || typeof s !== 'object') return s;
    const { observedGeneration: _, conditions, ...rest } = s as { observedGeneration?: unknown; conditions?: unknown };
    return {
      ...rest,
      conditions: Array.isArray(conditions)
        ? conditions.map(({ observedGeneration: __, ...c }: Record<string, unknown>) => c)
        : conditions,
    };
  };
  return statusEquals(strip(live), strip(desired));
}

export function createReconciler(deps: ReconcilerDeps): ReconcileHandler {
  const writeStatus = async (object: KubeObject, status: Status, log: Logger): Promise<void> => {
    if (sameStatus(object.status, status)) return;
    await deps.kube.writeStatus(keyOf(object), status, object.metadata.resourceVersion ?? '');
    log.info(
      { ready: status.implementation.ready, reason: status.conditions.find((c) => c.type === 'Ready')?.reason },
      'Wrote status',
    );
  };

  const finalize = async (object: KubeObject, log: Logger): Promise<ReconcileOutcome> => {
    if (!object.metadata.finalizers?.includes(CLEANUP_FINALIZER)) return { kind: 'done' };
    const key = keyOf(object);
    const api = await finalizeApim(deps.apim, key);
    if (api === 'not-owned') log.warn('Left the APIM API in place: this operator did not create it');
    await deps.kube.deleteIngress(key);
    await deps.kube.removeFinalizer(key, CLEANUP_FINALIZER, object.metadata.resourceVersion ?? '');
    log.info({ api }, 'Cleaned up the APIM API and the Ingress; removed the finalizer');
    return { kind: 'done' };
  };

  return async (keyText, context) => {
    const key = parseKey(keyText);
    if (!key) throw new PermanentError(`not a namespace/name key: ${JSON.stringify(keyText)}`);
    const log = deps.log.child({ key: keyText, jobId: context.jobId });
    const object = await deps.kube.getExposedApi(key);
    if (!object) return { kind: 'done' };
    if (object.metadata.deletionTimestamp) return finalize(object, log);
    const hash = specHash(object);
    const unchanged = (object.status as { observedSpecHash?: unknown } | undefined)?.observedSpecHash === hash;
    if (unchanged && failedForGood(object.status)) {
      log.debug('Skipped: the last reconcile of this spec failed for good; waiting for a change to the ExposedAPI');
      return { kind: 'done' };
    }
    const checked = checkAndNormalise(object, { requiredAs: 'v1beta3' });
    if (!('model' in checked)) {
      const error = new PermanentError(`the ExposedAPI is invalid: ${checked.problems.map(formatProblem).join('; ')}`, {
        reason: 'InvalidSpecification',
      });
      await reportFailure(object, undefined, hash, error, context.attempt, log);
      throw error;
    }
    const model = checked.model;
    let result: Converged;
    try {
      result = await converge(object, model, deps, deps.settings, unchanged);
    } catch (error) {
      await reportFailure(object, model, hash, error, context.attempt, log);
      throw error;
    }
    const status: Status = {
      ...render(model, object, result.ready, result.reason, result.message, {
        gatewayUrl: result.gatewayUrl,
        subscriptionKeySecret: result.subscriptionKeySecret,
        drift: result.drift,
      }),
      observedSpecHash: hash,
    };
    await writeStatus(object, status, log);
    if (result.written.length > 0) {
      log.info(
        { written: result.written, drift: result.drift },
        result.drift.length > 0 ? 'Repaired drift' : 'Reconciled',
      );
      await deps.kube.recordEvent(object, {
        type: 'Normal',
        reason: result.drift.length > 0 ? 'DriftRepaired' : result.reason,
        message: `${result.message} (wrote: ${result.written.join(', ')})`,
        action: 'Reconcile',
      });
    }
    return result.requeueAfterMs !== undefined
      ? { kind: 'requeue', afterMs: result.requeueAfterMs, reason: result.reason }
      : { kind: 'done' };
  };

  function render(
    model: ExposedApi,
    object: KubeObject,
    ready: boolean,
    reason: string,
    message: string,
    extra: {
      gatewayUrl?: string | undefined;
      subscriptionKeySecret?: string | undefined;
      drift?: readonly string[];
      retry?: ExposedApiStatus['retry'];
    },
  ): ExposedApiStatus {
    return renderStatus({
      model,
      previous: object.status,
      now: deps.now().toISOString(),
      ready,
      reason,
      message,
      ...(extra.gatewayUrl ? { gatewayUrl: extra.gatewayUrl } : {}),
      ...(extra.subscriptionKeySecret ? { subscriptionKeySecret: extra.subscriptionKeySecret } : {}),
      ...(extra.drift ? { drift: extra.drift } : {}),
      ...(extra.retry ? { retry: extra.retry } : {}),
    });
  }

  /** Says in status and in an Event why the reconcile failed, and when it will be tried again; a failure to say so is only logged. */
  async function reportFailure(
    object: KubeObject,
    model: ExposedApi | undefined,
    hash: string,
    error: unknown,
    attempt: number,
    log: Logger,
  ): Promise<void> {
    const message = errorMessage(error);
    const permanent = error instanceof PermanentError;
    const reason = permanent ? error.reason : 'RetryingAfterError';
    log.warn(
      { err: message, attempt, permanent },
      permanent
        ? 'Reconcile failed; waiting for a change to the ExposedAPI'
        : 'Reconcile failed; retrying with backoff',
    );
    const now = deps.now();
    const retry = permanent
      ? undefined
      : {
          attempts: attempt,
          lastError: message,
          nextRetryAt: new Date(
            now.getTime() +
              backoffDelay(
                attempt,
                deps.settings.backoff,
                () => 0,
                error instanceof RetryableError ? error.retryAfterMs : undefined,
              ),
          ).toISOString(),
        };
    const status = model
      ? { ...render(model, object, false, reason, message, retry ? { retry } : {}), observedSpecHash: hash }
      : {
          implementation: { ready: false },
          conditions: [{ type: 'Ready', status: 'False', reason, message, lastTransitionTime: now.toISOString() }],
          observedSpecHash: hash,
        };
    try {
      await writeStatus(object, status as Status, log);
      await deps.kube.recordEvent(object, { type: 'Warning', reason, message, action: 'Reconcile' });
    } catch (statusError) {
      log.warn({ err: errorMessage(statusError) }, 'Could not write the failure to status');
    }
  }
}

/**
 * A permanent failure leaves Ready=False without a retry state: the same spec
 * would fail the same way, so a resync does not try it again (nor call APIM).
 * Not-ready-yet (waiting for an address) is not a failure.
 */
function failedForGood(status: unknown): boolean {
  const s = status as
    | { retry?: unknown; conditions?: { type?: string; status?: string; reason?: string }[] }
    | undefined;
  const ready = s?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'False' && s?.retry === undefined && ready.reason !== 'WaitingForIngressAddress';
}

function keyOf(object: KubeObject): ResourceKey {
  return { namespace: object.metadata.namespace ?? '', name: object.metadata.name ?? '' };
}
