import { RetryableError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/log.ts';
import type { KubeClient } from '../clients/kube.ts';
import type { KubeObject } from '../clients/kube-types.ts';
import { componentUpdate, owningComponent } from '../render/component-status.ts';
import type { ExposedApiStatus } from '../render/status.ts';

export type ComponentSync = 'standalone' | 'no-component' | 'no-entry' | 'up-to-date' | 'written';

const ATTEMPTS = 5;

/**
 * Copies the ExposedAPI's url, developerUI and ready into its entry in the
 * owning Component's status, as the Canvas's API operators do (their
 * `updateAPIStatus` and `updateAPIReady`), with ready going back to false
 * too. Read from the cache, written only when different, with the
 * Component's resourceVersion as precondition and a test of the entry's uid,
 * touching only those fields; on a conflict the Component is read again
 * from the API server. No Component (a standalone ExposedAPI) or no entry
 * yet (the component operator writes it a moment later) is not an error:
 * the Component's own change queues this key again.
 */
export async function syncComponent(
  kube: KubeClient,
  object: KubeObject,
  status: ExposedApiStatus,
  log: Logger,
): Promise<ComponentSync> {
  const owner = owningComponent(object);
  if (!owner) return 'standalone';
  const key = { namespace: object.metadata.namespace ?? '', name: owner.name };
  const wanted = {
    url: status.apiStatus.url,
    ...(status.apiStatus.developerUI ? { developerUI: status.apiStatus.developerUI } : {}),
    ready: status.implementation.ready,
  };
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const component = await kube.getComponent(key, { fresh: attempt > 1 });
    if (!component || component.metadata.uid !== owner.uid) return 'no-component';
    const update = componentUpdate(component, object.metadata.uid ?? '', wanted);
    if (update.kind === 'none') return update.why;
    const result = await kube.patchComponentStatus(key, update.operations, component.metadata.resourceVersion ?? '');
    if (result === 'gone') return 'no-component';
    if (result === 'conflict') continue;
    log.info({ component: owner.name, list: update.list, ready: wanted.ready }, 'Updated the Component entry');
    return 'written';
  }
  throw new RetryableError(
    `Component ${key.namespace}/${key.name} changed under every one of ${ATTEMPTS} updates of its entry; trying again`,
  );
}
