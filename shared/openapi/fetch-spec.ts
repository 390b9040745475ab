import { request, type Agent, type Dispatcher } from 'undici';
import { createDestinationPolicy, type DestinationPolicy } from './address-policy.ts';
import { BLOCKED_CODE, createGuardedAgent, type ResolveAll } from './guarded-agent.ts';
import { freshnessOf, header, validatorsOf, type Freshness, type Validators } from './http-metadata.ts';
import { truncate } from './problems.ts';

export type { Freshness, Validators };

export type FetchOutcome =
  | 'ok'
  | 'not-modified'
  | 'timeout'
  | 'too-large'
  | 'blocked'
  | 'http-error'
  | 'network-error'
  | 'invalid-url';

export interface FetchOk extends Freshness {
  outcome: 'ok';
  text: string;
  validators: Validators;
}

export interface FetchNotModified extends Freshness {
  outcome: 'not-modified';
  validators: Validators;
}

export interface FetchFailed {
  outcome: Exclude<FetchOutcome, 'ok' | 'not-modified'>;
  message: string;
  /** Timeouts, network errors, 408, 429 and 5xx may pass; the rest will not without a change. */
  transient: boolean;
  status?: number;
}

export type FetchResult = FetchOk | FetchNotModified | FetchFailed;

export interface SpecFetcherOptions {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  allow: readonly string[];
  deny: readonly string[];
  /** Name resolution; the system resolver unless a test maps names itself. */
  resolveAll?: ResolveAll;
}

export interface SpecFetcher {
  fetch(url: string, conditional?: Validators): Promise<FetchResult>;
  close(): Promise<void>;
}

const EXCERPT_BYTES = 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const ACCEPT =
  'application/json, application/yaml;q=0.9, application/x-yaml;q=0.9, text/yaml;q=0.9, text/plain;q=0.5, */*;q=0.1';

export function createSpecFetcher(options: SpecFetcherOptions): SpecFetcher {
  const policy = createDestinationPolicy({ allow: options.allow, deny: options.deny });
  const agent = createGuardedAgent({ policy, resolveAll: options.resolveAll, connectTimeoutMs: options.timeoutMs });
  return {
    fetch: (url, conditional) => fetchSpec(agent, policy, options, url, conditional),
    close: () => agent.close(),
  };
}

/** One deadline covers every hop: connects, headers and bodies. */
async function fetchSpec(
  agent: Agent,
  policy: DestinationPolicy,
  options: SpecFetcherOptions,
  url: string,
  conditional?: Validators,
): Promise<FetchResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timed out')), options.timeoutMs);
  try {
    return await followRedirects(agent, policy, options, url, requestHeaders(conditional), controller.signal);
  } catch (error) {
    if (controller.signal.aborted)
      return failure('timeout', `fetching ${describeUrl(url)} took longer than ${options.timeoutMs} ms`, true);
    return classifyError(error, url);
  } finally {
    clearTimeout(timer);
  }
}

async function followRedirects(
  agent: Agent,
  policy: DestinationPolicy,
  options: SpecFetcherOptions,
  startUrl: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<FetchResult> {
  let current = startUrl;
  for (let redirects = 0; ; redirects += 1) {
    const target = checkUrl(policy, current);
    if ('outcome' in target) return target;
    const response = await request(target, { dispatcher: agent, method: 'GET', headers, signal });
    if (!REDIRECTS.has(response.statusCode)) return readResponse(response, options, target);
    await response.body.dump();
    const location = header(response.headers, 'location');
    if (!location)
      return failure(
        'http-error',
        `${describeUrl(target.href)} answered ${response.statusCode} without a Location`,
        false,
        response.statusCode,
      );
    if (redirects >= options.maxRedirects) {
      return failure(
        'http-error',
        `${describeUrl(startUrl)} redirected more than ${options.maxRedirects} times`,
        false,
        response.statusCode,
      );
    }
    const next = URL.parse(location, target);
    if (!next)
      return failure(
        'invalid-url',
        `${describeUrl(target.href)} redirected to something that is not a URL`,
        false,
        response.statusCode,
      );
    current = next.href;
  }
}

/** Every URL, the first and each redirect target, passes the same checks. */
function checkUrl(policy: DestinationPolicy, text: string): URL | FetchFailed {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return failure('invalid-url', `${JSON.stringify(truncate(text, 100))} is not a URL`, false);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return failure('invalid-url', `${url.protocol} URLs are not fetched, only http: and https:`, false);
  if (url.username || url.password)
    return failure(
      'invalid-url',
      'URLs with credentials are refused: publish the specification where it can be read without them',
      false,
    );
  const verdict = policy.checkHost(url.hostname);
  if (!verdict.allowed) return failure('blocked', `${describeUrl(url.href)} is not fetched: ${verdict.reason}`, false);
  return url;
}

async function readResponse(
  response: Dispatcher.ResponseData,
  options: SpecFetcherOptions,
  url: URL,
): Promise<FetchResult> {
  const { statusCode, headers } = response;
  if (statusCode === 304) {
    await response.body.dump();
    return { outcome: 'not-modified', validators: validatorsOf(headers), ...freshnessOf(headers) };
  }
  if (statusCode < 200 || statusCode > 299) {
    const excerpt = await readExcerpt(response);
    const transient = statusCode >= 500 || statusCode === 408 || statusCode === 429;
    return failure(
      'http-error',
      `${describeUrl(url.href)} answered ${statusCode}${excerpt ? `: ${excerpt}` : ''}`,
      transient,
      statusCode,
    );
  }
  const declared = Number(header(headers, 'content-length'));
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    response.body.destroy();
    return tooLarge(url, options.maxBytes, `it declares ${declared} bytes`);
  }
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of response.body) {
    received += (chunk as Buffer).length;
    if (received > options.maxBytes) {
      // Stop reading at once: the rest of the body is never downloaded.
      response.body.destroy();
      return tooLarge(url, options.maxBytes, 'its body is longer');
    }
    chunks.push(chunk as Buffer);
  }
  const text = new TextDecoder('utf-8').decode(Buffer.concat(chunks));
  return { outcome: 'ok', text, validators: validatorsOf(headers), ...freshnessOf(headers) };
}

/** At most 200 characters of an error body, on one line, so a hostile server cannot flood messages or logs. */
async function readExcerpt(response: Dispatcher.ResponseData): Promise<string> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of response.body) {
    chunks.push(chunk as Buffer);
    received += (chunk as Buffer).length;
    if (received >= EXCERPT_BYTES) break;
  }
  response.body.destroy();
  const text = new TextDecoder('utf-8').decode(Buffer.concat(chunks).subarray(0, EXCERPT_BYTES));
  // oxlint-disable-next-line no-control-regex -- control characters are exactly what is removed
  return truncate(text.replace(/[\u0000-\u001f\u007f]+/g, ' '));
}

function classifyError(error: unknown, url: string): FetchFailed {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if ((cause as { code?: unknown }).code === BLOCKED_CODE)
      return failure('blocked', `${describeUrl(url)} is not fetched: ${cause.message}`, false);
  }
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return failure('timeout', `fetching ${describeUrl(url)} timed out (${String(code)})`, true);
  }
  const detail = typeof code === 'string' ? code : truncate(String(message ?? error), 100);
  return failure('network-error', `fetching ${describeUrl(url)} failed: ${detail}`, true);
}

function tooLarge(url: URL, maxBytes: number, why: string): FetchFailed {
  return failure(
    'too-large',
    `${describeUrl(url.href)} is larger than ${maxBytes} bytes (${why}), the limit of an inline API Management import`,
    false,
  );
}

/** Without query or fragment: signed URLs (SAS tokens) carry secrets there. */
export function describeUrl(text: string): string {
  try {
    const url = new URL(text);
    const hidden = url.search || url.hash ? '?…' : '';
    return truncate(`${url.origin}${url.pathname}${hidden}`, 120);
  } catch {
    return truncate(text, 60);
  }
}

function requestHeaders(conditional?: Validators): Record<string, string> {
  const headers: Record<string, string> = { accept: ACCEPT, 'user-agent': 'apim-operator-webhook' };
  if (conditional?.etag) headers['if-none-match'] = conditional.etag;
  if (conditional?.lastModified) headers['if-modified-since'] = conditional.lastModified;
  return headers;
}

function failure(outcome: FetchFailed['outcome'], message: string, transient: boolean, status?: number): FetchFailed {
  return status === undefined ? { outcome, message, transient } : { outcome, message, transient, status };
}
