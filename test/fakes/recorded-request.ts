import type { IncomingMessage } from 'node:http';

/** A request as sent, to replay it: the bearer token is left out. */
export interface RecordedHttpRequest {
  readonly method: string;
  /** Path and query, as on the request line. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Headers a replay must not copy: the credential, and what the replaying client sets itself. */
const UNRECORDED_HEADERS = new Set(['authorization', 'host', 'connection', 'content-length', 'transfer-encoding']);

export function recordedRequest(req: IncomingMessage, body: string): RecordedHttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined && !UNRECORDED_HEADERS.has(name)) headers[name] = String(value);
  return { method: req.method ?? 'GET', url: req.url ?? '/', headers, body };
}
