/**
 * `kind: Status` bodies exactly as the API server writes them, so that client
 * code under test meets the same `reason`s and `code`s it will meet for real.
 */
import type { ResourceType } from './resource-types.ts';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason?: string; message: string; field?: string }[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** An error that the router turns into a Status response. */
export class KubeError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
  toStatus(): StatusBody {
    return failure(this.code, this.reason, this.message, this.details);
  }
}

export function failure(code: number, reason: string, message: string, details?: StatusDetails): StatusBody {
  const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) body.details = details;
  return body;
}

export function success(details: StatusDetails): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}

/** `exposedapis.oda.tmforum.org "x"`: how the API server names an object in messages. */
function qualified(type: ResourceType, name: string): string {
  return `${type.id} "${name}"`;
}

function detailsOf(type: ResourceType, name: string): StatusDetails {
  return type.group ? { name, group: type.group, kind: type.plural } : { name, kind: type.plural };
}

export function notFound(type: ResourceType, name: string): KubeError {
  return new KubeError(404, 'NotFound', `${qualified(type, name)} not found`, detailsOf(type, name));
}

export function alreadyExists(type: ResourceType, name: string): KubeError {
  return new KubeError(409, 'AlreadyExists', `${qualified(type, name)} already exists`, detailsOf(type, name));
}

export function conflict(
  type: ResourceType,
  name: string,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
): KubeError {
  return new KubeError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(type, name)}: ${why}`,
    detailsOf(type, name),
  );
}

export function invalid(type: ResourceType, name: string, field: string, detail: string): KubeError {
  const message = `${type.kind} "${name}" is invalid: ${field}: ${detail}`;
  return new KubeError(422, 'Invalid', message, {
    ...detailsOf(type, name),
    kind: type.kind,
    causes: [{ reason: 'FieldValueInvalid', message: detail, field }],
  });
}

export function badRequest(message: string): KubeError {
  return new KubeError(400, 'BadRequest', message);
}

export function methodNotAllowed(): KubeError {
  return new KubeError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function resourceNotFound(): KubeError {
  return new KubeError(404, 'NotFound', 'the server could not find the requested resource');
}

export function unsupportedMediaType(contentType: string): KubeError {
  return new KubeError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`,
  );
}

export function expired(resourceVersion: string, oldest: number): KubeError {
  return new KubeError(410, 'Expired', `too old resource version: ${resourceVersion} (${oldest})`);
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The Status an injected fault answers with when the test gives no body. */
export function statusForCode(code: number): StatusBody {
  const reason = REASONS[code] ?? 'Unknown';
  const body = failure(code, reason, `injected fault: ${reason}`);
  if (code === 429) body.details = { retryAfterSeconds: 1 };
  return body;
}
