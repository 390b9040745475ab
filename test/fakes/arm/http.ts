/** Request, answer and error shapes of the ARM stand-in. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ArmRequest {
  readonly method: string;
  /** The decoded path below the service, e.g. `apis/my-api;rev=2/policies/policy` (no leading slash). */
  readonly subPath: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

export interface ArmAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ArmErrorDetail {
  readonly code: string;
  readonly target?: string;
  readonly message: string;
}

/** Thrown by handlers; becomes `{error: {code, message, details}}` with its status. */
export class ArmFailure extends Error {
  override readonly name = 'ArmFailure';
  readonly status: number;
  readonly code: string;
  readonly details: readonly ArmErrorDetail[];
  readonly target: string | undefined;
  constructor(status: number, code: string, message: string, details: readonly ArmErrorDetail[] = [], target?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.target = target;
  }
  body(): unknown {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.target ? { target: this.target } : {}),
        details: this.details,
      },
    };
  }
}

export function notFound(what: string): ArmFailure {
  return new ArmFailure(404, 'ResourceNotFound', `${what} not found.`);
}

export function validation(message: string, details: readonly ArmErrorDetail[] = []): ArmFailure {
  return new ArmFailure(400, 'ValidationError', message, details);
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function writeAnswer(res: ServerResponse, method: string, answer: ArmAnswer): void {
  const headers: Record<string, string> = { 'x-ms-request-id': crypto.randomUUID(), ...answer.headers };
  if (answer.body === undefined || method === 'HEAD') {
    res.writeHead(answer.status, headers);
    res.end();
    return;
  }
  res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(answer.body));
}

let etagCounter = 0;
/** A fresh opaque, quoted entity tag like APIM's `"AAAAAAAAEjE="`. */
export function newEtag(): string {
  etagCounter += 1;
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(Date.now()) * 1000n + BigInt(etagCounter % 1000));
  return `"${bytes.toString('base64')}"`;
}

/** Checks `If-Match` against the current entity tag; `*` matches any existing entity. */
export function checkIfMatch(ifMatch: string | undefined, etag: string | undefined): void {
  if (ifMatch === undefined) return;
  if (etag === undefined)
    throw new ArmFailure(
      412,
      'PreconditionFailed',
      'The resource does not exist, so the If-Match precondition failed.',
    );
  if (ifMatch !== '*' && ifMatch !== etag) {
    throw new ArmFailure(
      412,
      'PreconditionFailed',
      'Resource was modified since last retrieval. Refresh the resource and try again.',
    );
  }
}

export function headerValue(headers: IncomingMessage['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function propertiesOf(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) throw validation('The request body is missing or not a JSON object.');
  const properties = (body as { properties?: unknown }).properties;
  if (properties === undefined) return {};
  if (typeof properties !== 'object' || properties === null) throw validation("'properties' must be an object.");
  return properties as Record<string, unknown>;
}
