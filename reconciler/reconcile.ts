import { createHash } from 'node:crypto';
import { checkAndNormalise } from '../shared/exposed-api/check.ts';
import { CLEANUP_FINALIZER } from '../shared/exposed-api/defaults.ts';
import { formatProblem } from '../shared/exposed-api/problems.ts';
import type { ExposedApi } from '../shared/exposed-api/model.ts';
import { formatKey, parseKey, type ResourceKey } from '../shared/key.ts';
import { PermanentError, RetryableError, errorMessage } from '../shared/errors.ts';
import { backoffDelay, type BackoffSettings } from '../shared/backoff.ts';
import type { Logger } from '../shared/log.ts';
import type { MonitoredNamespaces } from '../shared/namespaces.ts';
import type { KubeClient } from './clients/kube.ts';
import type { KubeObject } from './clients/kube-types.ts';
import type { ApimClient } from './clients/apim.ts';
import type { ReconcileHandler, ReconcileOutcome } from './queue-worker.ts';
import { canonicalJson } from './render/api-definition.ts';
import { renderStatus, statusEquals, type ExposedApiStatus, type StatusInput } from './render/status.ts';
import {
  converge,
  type ApimSyncMarks,
  type ConvergeDeps,
  type ConvergeSettings,
  type Converged,
} from './steps/converge.ts';
import { finalizeApim } from './steps/ensure-apim.ts';
import { finalizeScrape } from './steps/ensure-scrape.ts';
import type { SpecResolver } from './steps/resolve-spec.ts';
import { syncComponent } from './steps/sync-component.ts';

export interface ReconcilerDeps {
  readonly kube: KubeClient;
  readonly apim: ApimClient;
  readonly specs: SpecResolver;
  readonly marks: ApimSyncMarks;
  readonly inventory?: ConvergeDeps['inventory'];
  readonly log: Logger;
  readonly now: () => Date;
  readonly namespaces: MonitoredNamespaces;
  readonly settings: ConvergeSettings & { readonly backoff: BackoffSettings };
}

/**
 * Setting or changing this annotation asks for a reconcile of an unchanged
 * spec, after a permanent failure whose cause lay outside the resource (an
 * API removed from APIM by hand, a role assignment made): as Flux's
 * `reconcile.fluxcd.io/requestedAt`.
 */
export const RECONCILE_REQUEST_ANNOTATION = 'oda.tmforum.org/reconcile-requested-at';

/**
 * The spec as reconciled (and the last reconcile request), kept in status:
 * without a status subresource `generation` also moves on status writes, so it
 * cannot tell a spec change from our own write.
 */
const specHash = (object: KubeObject): string => {
  const requested = object.metadata.annotations?.[RECONCILE_REQUEST_ANNOTATION];
  const reconciled = requested === undefined ? (object.spec ?? {}) : { spec: object.spec ?? {}, requested };
  return createHash('sha256').update(canonicalJson(reconciled)).digest('hex').slice(0, 32);
};

type Status = ExposedApiStatus & { observedSpecHash: string };

/** The status reason and Event action of a retryable failure, by what was under way. */
const RECONCILE_FAILED = { reason: 'RetryingAfterError', action: 'Reconcile' } as const;
const CLEANUP_FAILED = { reason: 'CleanupRetrying', action: 'Delete' } as const;
const CLEANED_API = {
  deleted: 'Deleted the APIM API',
  absent: 'The APIM API was already gone',
  'not-owned': 'Left the APIM API in place (this operator did not create it)',
} as const;

/** Equal for writing purposes: observedGeneration lags by our own write on a CRD without a status subresource, so it alone is no reason to write. */
function sameStatus(live: unknown, desired: unknown): boolean {
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

const keyOf = (object: KubeObject): ResourceKey => ({
  namespace: object.metadata.namespace ?? '',
  name: object.metadata.name ?? '',
});

export function createReconciler(deps: ReconcilerDeps): ReconcileHandler {
  const { kube } = deps;

  /** Writes the status when it differs, then mirrors it into the owning Component. */
  const publish = async (object: KubeObject, status: Status | object, log: Logger): Promise<void> => {
    let latest = object;
    if (!sameStatus(object.status, status)) {
      latest = await kube.writeStatus(keyOf(object), status, object.metadata.resourceVersion ?? '');
      const ready = (status as Partial<Status>).conditions?.find((c) => c.type === 'Ready');
      log.info({ ready: ready?.status === 'True', reason: ready?.reason }, 'Wrote status');
    }
    if ('apiStatus' in status) await syncComponent(kube, latest, status as Status, log);
  };

  /**
   * Cleans up, then lets the object go. While a cleanup step fails (APIM
   * answering 500) the finalizer stays and status and an Event say why; the
   * retry with backoff goes on until APIM confirms the API is gone.
   */
  const finalize = async (
    object: KubeObject,
    model: ExposedApi | undefined,
    attempt: number,
    log: Logger,
  ): Promise<ReconcileOutcome> => {
    if (!object.metadata.finalizers?.includes(CLEANUP_FINALIZER)) return { kind: 'done' };
    const key = keyOf(object);
    let api: Awaited<ReturnType<typeof finalizeApim>>;
    try {
      api = await finalizeApim(deps.apim, key);
      if (api === 'not-owned') log.warn('Left the APIM API in place: this operator did not create it');
      if (model) await finalizeScrape(kube, model);
      await kube.deleteIngress(key);
      await deps.marks.clear(formatKey(key));
    } catch (error) {
      const failures = failureNumber(object.status, attempt);
      const waiting = new RetryableError(
        `the clean-up before deletion failed, so the finalizer ${CLEANUP_FINALIZER} stays until API Management confirms the API is gone (retrying with backoff): ${errorMessage(error)}`,
        {
          cause: error,
          attempt: failures,
          ...(error instanceof RetryableError && error.retryAfterMs !== undefined
            ? { retryAfterMs: error.retryAfterMs }
            : {}),
        },
      );
      await reportFailure(object, model, specHash(object), waiting, failures, log, CLEANUP_FAILED);
      throw waiting;
    }
    // A refused Event (a namespace being terminated refuses new objects) is only logged: it never holds the deletion.
    await kube.recordEvent(object, {
      type: 'Normal',
      reason: 'CleanedUp',
      message: `${CLEANED_API[api]}; removed the Ingress and the scrape configuration`,
      action: 'Delete',
    });
    await kube.removeFinalizer(key, CLEANUP_FINALIZER, object.metadata.resourceVersion ?? '');
    log.info({ api }, 'Cleaned up the APIM API, the Ingress and the scrape configuration; removed the finalizer');
    return { kind: 'done' };
  };

  const statusInput = (
    model: ExposedApi,
    object: KubeObject,
    result: Pick<Converged, 'serving' | 'gatewayUrl' | 'subscriptionKeySecret' | 'scrape'> & {
      drift?: readonly string[];
      retry?: StatusInput['retry'];
    },
  ): StatusInput => {
    const implementation = kube.implementationReadiness(model.key.namespace, model.implementation);
    return {
      model,
      previous: object.status,
      now: deps.now().toISOString(),
      serving: result.serving,
      ...(implementation ? { implementation } : {}),
      ...(result.scrape ? { scrape: result.scrape } : {}),
      ...(result.gatewayUrl ? { gatewayUrl: result.gatewayUrl } : {}),
      ...(result.subscriptionKeySecret ? { subscriptionKeySecret: result.subscriptionKeySecret } : {}),
      ...(result.drift ? { drift: result.drift } : {}),
      ...(result.retry ? { retry: result.retry } : {}),
    };
  };

  /** Says in status and in an Event why the reconcile failed, and when it will be tried again; a failure to say so is only logged. */
  async function reportFailure(
    object: KubeObject,
    model: ExposedApi | undefined,
    hash: string,
    error: unknown,
    attempt: number,
    log: Logger,
    during: typeof RECONCILE_FAILED | typeof CLEANUP_FAILED = RECONCILE_FAILED,
  ): Promise<void> {
    const message = errorMessage(error);
    const permanent = error instanceof PermanentError;
    const reason = permanent ? error.reason : during.reason;
    log.warn(
      { err: message, attempt, permanent },
      permanent
        ? 'Reconcile failed; waiting for a change to the ExposedAPI'
        : 'Reconcile failed; retrying with backoff',
    );
    const now = deps.now();
    const retryAfterMs = error instanceof RetryableError ? error.retryAfterMs : undefined;
    const retry = permanent
      ? undefined
      : {
          attempts: attempt,
          lastError: message,
          nextRetryAt: new Date(
            now.getTime() + backoffDelay(attempt, deps.settings.backoff, () => 0, retryAfterMs),
          ).toISOString(),
        };
    const status = model
      ? {
          ...renderStatus(
            statusInput(model, object, {
              serving: { done: false, inMeshOnly: false, reason, message },
              ...(retry ? { retry } : {}),
            }),
          ),
          observedSpecHash: hash,
        }
      : {
          implementation: { ready: false },
          conditions: [{ type: 'Ready', status: 'False', reason, message, lastTransitionTime: now.toISOString() }],
          observedSpecHash: hash,
        };
    try {
      await publish(object, status, log);
      await kube.recordEvent(object, { type: 'Warning', reason, message, action: during.action });
    } catch (statusError) {
      log.warn({ err: errorMessage(statusError) }, 'Could not write the failure to status');
    }
  }

  return async (keyText, context) => {
    const key = parseKey(keyText);
    if (!key) throw new PermanentError(`not a namespace/name key: ${JSON.stringify(keyText)}`);
    const log = deps.log.child({ resource: keyText, jobId: context.jobId });
    if (!deps.namespaces.matches(key.namespace)) {
      log.debug('Skipped: the namespace is not monitored (MONITORED_NAMESPACES)');
      return { kind: 'done' };
    }
    let object = await kube.getExposedApi(key);
    if (!object) return { kind: 'done' };
    const checked = checkAndNormalise(object, { requiredAs: 'v1beta3' });
    if (object.metadata.deletionTimestamp)
      return finalize(object, 'model' in checked ? checked.model : undefined, context.attempt, log);
    if (!object.metadata.finalizers?.includes(CLEANUP_FINALIZER)) {
      // Before anything exists in APIM: without the finalizer a delete would leave the API behind.
      object = await kube.addFinalizer(key, CLEANUP_FINALIZER, object.metadata.resourceVersion ?? '');
    }
    const hash = specHash(object);
    const unchanged = (object.status as { observedSpecHash?: unknown } | undefined)?.observedSpecHash === hash;
    // A failed job runs again with attempts already made only when someone retried it (the dashboard): then it runs.
    if (unchanged && failedForGood(object.status) && context.attempt === 1) {
      log.debug('Skipped: the last reconcile of this spec failed for good; waiting for a change to the ExposedAPI');
      if (isExposedApiStatus(object.status)) await syncComponent(kube, object, object.status, log);
      return { kind: 'done' };
    }
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
      const attempt = failureNumber(object.status, context.attempt);
      await reportFailure(object, model, hash, error, attempt, log);
      if (error instanceof PermanentError) throw error;
      throw new RetryableError(errorMessage(error), {
        cause: error,
        attempt,
        ...(error instanceof RetryableError && error.retryAfterMs !== undefined
          ? { retryAfterMs: error.retryAfterMs }
          : {}),
      });
    }
    const status: Status = { ...renderStatus(statusInput(model, object, result)), observedSpecHash: hash };
    await publish(object, status, log);
    if (result.written.length > 0) {
      log.info(
        { written: result.written, drift: result.drift },
        result.drift.length > 0 ? 'Repaired drift' : 'Reconciled',
      );
      await kube.recordEvent(object, {
        type: 'Normal',
        reason: result.drift.length > 0 ? 'DriftRepaired' : result.serving.reason,
        message: `${result.serving.message} (wrote: ${result.written.join(', ')})`,
        action: 'Reconcile',
      });
    }
    if (result.scrape && !result.scrape.done && scrapeChanged(object.status, result.scrape.reason)) {
      await kube.recordEvent(object, {
        type: 'Warning',
        reason: result.scrape.reason,
        message: result.scrape.message,
        action: 'Scrape',
      });
    }
    return result.requeueAfterMs !== undefined
      ? { kind: 'requeue', afterMs: result.requeueAfterMs, reason: result.serving.reason }
      : { kind: 'done' };
  };
}

/**
 * The number of this consecutive failure: the job's own attempt, or one more
 * than the status records, whichever is higher (a job that replaced a
 * backing-off one starts counting afresh; the schedule must not).
 */
function failureNumber(status: unknown, jobAttempt: number): number {
  const recorded = (status as { retry?: { attempts?: unknown } } | undefined)?.retry?.attempts;
  return Math.max(jobAttempt, typeof recorded === 'number' && Number.isInteger(recorded) ? recorded + 1 : 1);
}

function conditionOf(status: unknown, type: string): { status?: string; reason?: string } | undefined {
  const conditions = (status as { conditions?: { type?: string; status?: string; reason?: string }[] } | undefined)
    ?.conditions;
  return Array.isArray(conditions) ? conditions.find((c) => c.type === type) : undefined;
}

/** The scrape condition turned to this failure now (an Event says so once, not on every resync). */
function scrapeChanged(previous: unknown, reason: string): boolean {
  const before = conditionOf(previous, 'MetricsScrape');
  return before?.status !== 'False' || before.reason !== reason;
}

function isExposedApiStatus(status: unknown): status is ExposedApiStatus {
  return typeof (status as { apiStatus?: { url?: unknown } } | undefined)?.apiStatus?.url === 'string';
}

/**
 * A permanent failure leaves the serving condition False without a retry
 * state: the same spec would fail the same way, so a resync does not try it
 * again (nor call APIM). Not-ready-yet (waiting for an address) is not a
 * failure, nor is an in-mesh API waiting for its endpoints: its serving
 * condition is InMeshOnly, True, and only Ready is False.
 */
function failedForGood(status: unknown): boolean {
  return permanentFailureReason(status) !== undefined;
}

/** The reason of the permanent failure this status records, or undefined (see failedForGood). */
export function permanentFailureReason(status: unknown): string | undefined {
  const serving = conditionOf(status, 'Published') ?? conditionOf(status, 'InMeshOnly') ?? conditionOf(status, 'Ready');
  const failed =
    serving?.status === 'False' &&
    (status as { retry?: unknown } | undefined)?.retry === undefined &&
    serving.reason !== 'WaitingForIngressAddress';
  return failed ? (serving.reason ?? 'Unknown') : undefined;
}

/** ExposedAPIs in a permanent failure, by reason: what an alert on "failed and waiting for a change" counts. */
export function permanentFailures(objects: readonly { status?: unknown }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of objects) {
    const reason = permanentFailureReason(o.status);
    if (reason) counts[reason] = (counts[reason] ?? 0) + 1;
  }
  return counts;
}
