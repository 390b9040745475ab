import { randomBytes } from 'node:crypto';
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.ts';
import { describeError } from '../../shared/kube/errors.ts';
import { statusOf } from './kube-errors.ts';
import type { KubeEvent, KubeObject } from './kube-types.ts';

const EVENTS = { group: 'events.k8s.io', version: 'v1', plural: 'events' } as const;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const EVENT_CACHE_SIZE = 4096;
const NOTE_LIMIT = 1024;

/** What one client-node call answers with `...WithHttpInfo`. */
export type HttpResult<T> = { httpStatusCode: number; data: T };

/** MicroTime as the API server parses it: RFC 3339 with exactly six fractional digits. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

interface EventRecorderDeps {
  readonly custom: CustomObjectsApi;
  readonly call: <T>(op: string, run: () => Promise<HttpResult<T>>) => Promise<T>;
  readonly log: Logger;
  readonly reportingController: string;
  readonly reportingInstance: string;
}

interface SeriesEntry {
  readonly namespace: string;
  readonly name: string;
  count: number;
}

/**
 * events.k8s.io/v1 Events with client-go's series semantics: the first
 * occurrence creates an Event, each repeat (same object, type, reason, action
 * and note) patches series.count and series.lastObservedTime. Calls for one
 * event run one after another so repeats never race into two Events.
 */
export function createEventRecorder(
  deps: EventRecorderDeps,
): (regarding: KubeObject, event: KubeEvent) => Promise<void> {
  const series = new Map<string, SeriesEntry>();
  const tails = new Map<string, Promise<void>>();

  async function record(id: string, regarding: KubeObject, event: KubeEvent): Promise<void> {
    const namespace = regarding.metadata.namespace ?? 'default';
    const now = microTime(new Date());
    const seen = series.get(id);
    if (seen) {
      const count = seen.count + 1;
      try {
        await deps.call('patchEvent', () =>
          deps.custom.patchNamespacedCustomObjectWithHttpInfo(
            {
              ...EVENTS,
              namespace: seen.namespace,
              name: seen.name,
              body: { series: { count, lastObservedTime: now } },
            },
            MERGE,
          ),
        );
        seen.count = count;
        series.delete(id);
        series.set(id, seen);
        return;
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
        series.delete(id); // the Event expired: start a new one
      }
    }
    const name = `${regarding.metadata.name ?? 'object'}.${randomBytes(8).toString('hex')}`;
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: now,
      reportingController: deps.reportingController,
      reportingInstance: deps.reportingInstance,
      type: event.type,
      reason: event.reason,
      action: event.action,
      note: event.message.slice(0, NOTE_LIMIT),
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        namespace: regarding.metadata.namespace,
        name: regarding.metadata.name,
        uid: regarding.metadata.uid,
        resourceVersion: regarding.metadata.resourceVersion,
      },
    };
    await deps.call('createEvent', () =>
      deps.custom.createNamespacedCustomObjectWithHttpInfo({ ...EVENTS, namespace, body }),
    );
    series.set(id, { namespace, name, count: 1 });
    if (series.size > EVENT_CACHE_SIZE) series.delete(series.keys().next().value ?? '');
  }

  return async (regarding, event) => {
    const object = regarding.metadata.uid ?? `${regarding.metadata.namespace}/${regarding.metadata.name}`;
    const id = JSON.stringify([object, event.type, event.reason, event.action, event.message]);
    const run = (tails.get(id) ?? Promise.resolve())
      .then(() => record(id, regarding, event))
      .catch((error: unknown) => {
        deps.log.warn(
          {
            resource: `${regarding.metadata.namespace}/${regarding.metadata.name}`,
            reason: event.reason,
            error: describeError(error),
          },
          'Failed to record an Event',
        );
      });
    tails.set(id, run);
    await run;
    if (tails.get(id) === run) tails.delete(id);
  };
}
