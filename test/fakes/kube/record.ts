import { record } from '../../helpers/scan-recording.ts';
import { secretScanDir } from '../../helpers/test-secrets.ts';
import type { StoreEvent } from './store.ts';

/**
 * For a secret-scan run: every version ever written of every Event (whole)
 * and, of every other object but a Secret (the one place a subscription key
 * belongs), its status and annotations; written when the stand-in closes.
 * Undefined in a default run.
 */
export function kubeRecorder(): { observe(event: StoreEvent): void; flush(): void } | undefined {
  if (secretScanDir() === undefined) return undefined;
  const lines = new Set<string>();
  return {
    observe({ resource, object }) {
      if (resource.kind === 'Secret') return;
      const { namespace, name, annotations } = object.metadata;
      const where = { kind: resource.kind, namespace, name };
      lines.add(
        JSON.stringify(
          resource.kind === 'Event' ? { ...where, event: object } : { ...where, status: object.status, annotations },
        ),
      );
    },
    flush: () => record('kube', 'objects', [...lines]),
  };
}
