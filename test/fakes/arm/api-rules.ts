/** APIM's checks on an API's properties (the SDK checks none of them). */
import { validation, type ArmErrorDetail } from './http.ts';
import type { ServiceState } from './store.ts';

const API_ID = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,78}[A-Za-z0-9])?$/;
const PROTOCOLS = new Set(['http', 'https', 'ws', 'wss']);

export function checkApiId(apiId: string): void {
  if (!API_ID.test(apiId)) {
    throw validation(`'${apiId}' is not a valid API identifier.`, [
      {
        code: 'ValidationError',
        target: 'apiId',
        message: 'The API identifier must be 1 to 80 letters, digits, hyphens or underscores.',
      },
    ]);
  }
}

function displayNameOf(
  service: ServiceState,
  base: string,
): { name: string; displayName: unknown; path: unknown; versionSet: unknown }[] {
  const others = [];
  for (const entry of service.apis.values()) {
    if (entry.name.toLowerCase() === base.toLowerCase()) continue;
    const p = entry.revisions.get(entry.current)!.properties;
    others.push({ name: entry.name, displayName: p.displayName, path: p.path, versionSet: p.apiVersionSetId });
  }
  return others;
}

/** Throws 400 ValidationError with one detail per problem. */
export function checkApiProperties(service: ServiceState, base: string, p: Record<string, unknown>): void {
  const details: ArmErrorDetail[] = [];
  const add = (target: string, message: string) => details.push({ code: 'ValidationError', target, message });
  const { displayName, path, serviceUrl, protocols } = p;
  if (typeof displayName !== 'string' || displayName.length < 1 || displayName.length > 300)
    add('displayName', 'Display name is required and must be 1 to 300 characters long.');
  if (typeof path !== 'string' || path.length > 400)
    add('path', 'Path is required and must be at most 400 characters long.');
  if (serviceUrl !== undefined && serviceUrl !== null) {
    if (typeof serviceUrl !== 'string' || serviceUrl.length > 2000 || !URL.canParse(serviceUrl))
      add('serviceUrl', 'Service URL must be an absolute URL of at most 2000 characters.');
  }
  if (!Array.isArray(protocols) || protocols.length === 0 || protocols.some((x) => !PROTOCOLS.has(String(x))))
    add('protocols', 'Protocols must be a non-empty subset of http, https, ws, wss.');
  const openid = (p.authenticationSettings as { openid?: { openidProviderId?: unknown } } | undefined)?.openid
    ?.openidProviderId;
  if (typeof openid === 'string' && !service.openidProviders.has(openid.toLowerCase()))
    add('openidProviderId', `OpenID Connect provider '${openid}' not found.`);
  for (const other of displayNameOf(service, base)) {
    if (
      typeof path === 'string' &&
      typeof other.path === 'string' &&
      other.path.toLowerCase() === path.toLowerCase() &&
      (other.versionSet === undefined || other.versionSet !== p.apiVersionSetId)
    ) {
      add(
        'path',
        `Cannot create API '${base}' with the same Path '${path}' as API '${other.name}' unless it's a part of the same version set`,
      );
    }
    if (
      typeof displayName === 'string' &&
      typeof other.displayName === 'string' &&
      other.displayName.toLowerCase() === displayName.toLowerCase()
    ) {
      add('name', `Cannot create API '${base}' with the same Name '${displayName}' as API '${other.name}'.`);
    }
  }
  if (details.length > 0) throw validation('One or more fields contain incorrect values:', details);
}
