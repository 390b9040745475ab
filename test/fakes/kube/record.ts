import { record } from '../../helpers/scan-recording.ts';
import type { KubeObject } from './object.ts';
import type { ResourceType } from './resource-types.ts';

/**
 * For a secret-scan run: every Event whole, and of every other object but a
 * Secret (the one place a subscription key belongs) its status and
 * annotations, as stored when the stand-in closes.
 */
export function recordKubeObjects(
  types: readonly ResourceType[],
  list: (type: ResourceType) => readonly KubeObject[],
): void {
  const lines = types
    .filter((type) => type.kind !== 'Secret')
    .flatMap((type) =>
      list(type).map((object) => {
        const { namespace, name, annotations } = object.metadata;
        const where = { kind: type.kind, namespace, name };
        return JSON.stringify(
          type.kind === 'Event' ? { ...where, event: object } : { ...where, status: object.status, annotations },
        );
      }),
    );
  record('kube', 'objects', lines);
}
