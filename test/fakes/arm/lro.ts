/** Long-running operations: the `Azure-AsyncOperation` status endpoint of the ARM stand-in. */
import { randomUUID } from 'node:crypto';
import type { ArmAnswer } from './http.ts';

export interface LroSettings {
  /**
   * How API PUT/DELETE answer: `async-operation` (201/200/202 with `Azure-AsyncOperation`, like real APIM),
   * `location` (202 with `Location` only), `sync` (200/201/204 at once). Default `async-operation`.
   */
  mode: 'async-operation' | 'location' | 'sync';
  /** Polls that report InProgress before the terminal status; default 1. */
  pollsInProgress: number;
  /** Retry-After (seconds) sent on InProgress polls; default none. */
  pollRetryAfter?: number;
}

interface Operation {
  readonly id: string;
  pollsLeft: number;
  readonly error: { code: string; message: string; details?: readonly unknown[] } | undefined;
  /** For `location` mode: what the final poll answers. */
  readonly done: ArmAnswer;
  readonly url: string;
}

export interface LroRegistry {
  /** Registers an operation; returns the headers that point at its status. */
  start(serviceUrl: string, apiVersion: string, done: ArmAnswer, error?: Operation['error']): Record<string, string>;
  /** Answers a poll of `operationResults/{id}`; undefined when unknown. */
  poll(id: string): ArmAnswer | undefined;
}

export function createLroRegistry(settings: LroSettings): LroRegistry {
  const operations = new Map<string, Operation>();
  return {
    start(serviceUrl, apiVersion, done, error) {
      const id = randomUUID();
      const url = `${serviceUrl}/tenant/operationResults/${id}?api-version=${apiVersion}`;
      operations.set(id, { id, pollsLeft: settings.pollsInProgress, error, done, url });
      const headers: Record<string, string> =
        settings.mode === 'location' ? { location: url } : { 'azure-asyncoperation': url };
      return headers;
    },
    poll(id) {
      const op = operations.get(id);
      if (!op) return undefined;
      const retry: Record<string, string> =
        settings.pollRetryAfter !== undefined ? { 'retry-after': String(settings.pollRetryAfter) } : {};
      if (op.pollsLeft > 0) {
        op.pollsLeft -= 1;
        return settings.mode === 'location'
          ? { status: 202, headers: { location: op.url, ...retry } }
          : {
              status: 200,
              body: { id: op.id, name: op.id, status: 'InProgress', startTime: new Date().toISOString() },
              headers: retry,
            };
      }
      if (settings.mode === 'location') return op.error ? { status: 400, body: { error: op.error } } : op.done;
      const end = new Date().toISOString();
      return op.error
        ? { status: 200, body: { id: op.id, name: op.id, status: 'Failed', endTime: end, error: op.error } }
        : { status: 200, body: { id: op.id, name: op.id, status: 'Succeeded', endTime: end } };
    },
  };
}
