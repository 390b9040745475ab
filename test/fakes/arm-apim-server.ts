/**
 * A local HTTPS server that behaves like Azure Resource Manager for one or
 * more API Management services, for tests that drive the real
 * @azure/arm-apimanagement client: APIs with ETags and long-running
 * create/update/delete (Azure-AsyncOperation polling), OpenAPI import,
 * APIM's validation (path and display-name conflicts), policies returned
 * reformatted, OpenID Connect providers, products, subscription keys,
 * revisions and releases. Errors come in ARM form `{error: {code, message, details}}`.
 * Every answer carries ARM's remaining-requests header, counting down.
 *
 *   const arm = await startArmApimServer({ cert, key, isValidToken: entra.isValid, services: [{ subscriptionId, resourceGroup, name }] });
 *   new ApiManagementClient(credential, subscriptionId, { endpoint: arm.url });
 *   arm.failNext({ method: 'PUT', path: /^apis\// }, 429, { retryAfter: 1 });
 *   arm.failNext({}, 500, { forMs: 30_000 });  // every request fails for 30 s
 *   arm.state().apis['my-api'];  arm.calls();  arm.requests;
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { recordedRequest, type RecordedHttpRequest } from './recorded-request.ts';
import {
  codeFor,
  faultHeaders,
  matches,
  newFault,
  takeFault,
  type Fault,
  type FaultOptions,
  type RequestMatcher,
} from './arm/faults.ts';
import { ArmFailure, headerValue, readBody, writeAnswer, type ArmAnswer, type ArmRequest } from './arm/http.ts';
import { createLroRegistry, type LroSettings } from './arm/lro.ts';
import { createRateLimitBudget, type Bucket, type RequestKind } from './arm/rate-limit.ts';
import { isLongRunning, route } from './arm/routes.ts';
import { createServiceState, serviceId, snapshot, type ApiSnapshot, type ServiceState } from './arm/store.ts';

export type { FaultOptions, RequestMatcher } from './arm/faults.ts';
export type { ArmRequest } from './arm/http.ts';
export type { LroSettings } from './arm/lro.ts';
export type { RecordedHttpRequest } from './recorded-request.ts';
export type { ApiSnapshot } from './arm/store.ts';

export const API_VERSION = '2024-05-01';

export interface ServiceRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
}

export interface ArmApimServerOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly services: readonly ServiceRef[];
  /** Accepts a bearer token; default any non-empty token. */
  readonly isValidToken?: (token: string) => boolean;
  readonly lro?: Partial<LroSettings>;
  /** api-versions served; default ['2024-05-01']. */
  readonly apiVersions?: readonly string[];
  readonly port?: number;
  /** Keep each request's URL, headers (not Authorization) and body in `requests`, for a replay; default off. */
  readonly recordBodies?: boolean;
}

export interface ArmRequestRecord {
  readonly method: string;
  /** Decoded path, below the service when it names one (`apis/x`), else the full path. */
  readonly path: string;
  readonly service: string | undefined;
  readonly apiVersion: string | null;
  readonly ifMatch: string | undefined;
  /** `x-ms-client-request-id`: the Azure SDK keeps it across its retries of one call. */
  readonly clientRequestId: string | undefined;
  readonly status: number;
  /** When the request arrived (Date.now()): a write is in flight from then until `at`. */
  readonly receivedAt: number;
  /** When the answer was sent (Date.now()). */
  readonly at: number;
  /** With `recordBodies`. */
  readonly sent?: RecordedHttpRequest;
}

export interface ArmApimServer {
  /** `https://127.0.0.1:PORT`: the value for ARM_ENDPOINT. */
  readonly url: string;
  readonly requests: readonly ArmRequestRecord[];
  /** Long-running behaviour; change freely between requests. */
  readonly lro: LroSettings;
  /**
   * Fails the next matching request(s) with this status in ARM error form (or on the poll, with `whilePolling`);
   * with `forMs` (and `afterMs`), every matching request for a time. Polls of operations already accepted are
   * never failed this way.
   */
  failNext(matcher: RequestMatcher, status: number, options?: FaultOptions): void;
  /** Delays every matching request by `ms` (0 removes the delay). */
  setLatency(ms: number, matcher?: RequestMatcher): void;
  /** Requests answered so far (polls included), split into reads (GET/HEAD) and writes. */
  calls(): { reads: number; writes: number; total: number };
  /** What the last answers' `x-ms-ratelimit-remaining-subscription-reads`/`-writes` said. */
  rateLimitRemaining(): { reads: number; writes: number };
  /** From now on, ARM's per-principal token buckets: an empty one answers 429 with Retry-After (rate-limit.ts). */
  throttleLikeArm(buckets?: Partial<Record<RequestKind, Bucket>>): void;
  /** How many requests the buckets refused with 429. */
  throttled(): number;
  resetLog(): void;
  /** A deep copy of a service's APIs and policies; default the first service. */
  state(service?: string): { apis: Record<string, ApiSnapshot>; policies: Record<string, string> };
  /** Adds a subscription with keys (or fresh random ones). */
  addSubscription(
    sid: string,
    keys?: { primaryKey: string; secondaryKey: string },
    service?: string,
  ): { primaryKey: string; secondaryKey: string };
  close(): Promise<void>;
}

const SERVICE_PATH =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ApiManagement\/service\/([^/]+)(?:\/(.*))?$/i;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startArmApimServer(options: ArmApimServerOptions): Promise<ArmApimServer> {
  const services = new Map<string, ServiceState>();
  for (const s of options.services)
    services.set(s.name.toLowerCase(), createServiceState(s.subscriptionId, s.resourceGroup, s.name));
  const lroSettings: LroSettings = { mode: 'async-operation', pollsInProgress: 1, ...options.lro };
  const lro = createLroRegistry(lroSettings);
  const requests: ArmRequestRecord[] = [];
  const faults: Fault[] = [];
  const latencies: { matcher: RequestMatcher; ms: number }[] = [];
  const isValid = options.isValidToken ?? ((t: string) => t.length > 0);
  const versions = options.apiVersions ?? [API_VERSION];
  const budget = createRateLimitBudget();
  let url = '';

  function findService(sub: string, rg: string, name: string): ServiceState {
    const service = services.get(name.toLowerCase());
    if (
      !service ||
      service.subscriptionId.toLowerCase() !== sub.toLowerCase() ||
      service.resourceGroup.toLowerCase() !== rg.toLowerCase()
    ) {
      throw new ArmFailure(
        404,
        'ResourceNotFound',
        `The Resource 'Microsoft.ApiManagement/service/${name}' under resource group '${rg}' was not found.`,
      );
    }
    return service;
  }

  function answer(request: ArmRequest, match: RegExpExecArray | null): ArmAnswer {
    const token = /^Bearer (.+)$/i.exec(headerValue(request.headers, 'authorization') ?? '')?.[1];
    if (token === undefined)
      throw new ArmFailure(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
      );
    if (!isValid(token)) throw new ArmFailure(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    const apiVersion = request.query.get('api-version');
    if (apiVersion === null)
      throw new ArmFailure(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    if (!versions.includes(apiVersion))
      throw new ArmFailure(
        400,
        'InvalidApiVersionParameter',
        `The api-version '${apiVersion}' is invalid. The supported versions are '${versions.join(',')}'.`,
      );
    if (!match)
      throw new ArmFailure(404, 'ResourceNotFound', `No stand-in route for ${request.method} ${request.path}.`);
    const service = findService(match[1]!, match[2]!, match[3]!);
    const ctxBase = {
      request,
      service,
      serviceId: serviceId(service),
      serviceUrl: `${url}${serviceId(service)}`,
      apiVersion,
      lro,
      lroSettings,
    };
    const poll = /^tenant\/operationResults\/([^/]+)$/.exec(request.subPath);
    if (poll && request.method === 'GET') {
      const result = lro.poll(poll[1]!);
      if (!result) throw new ArmFailure(404, 'ResourceNotFound', 'Operation not found.');
      return result;
    }
    const fault = takeFault(faults, request);
    if (fault && !(fault.options.whilePolling && isLongRunning(request.method, request.subPath))) {
      const { code, message } = codeFor(fault.status, fault.options);
      return {
        status: fault.status,
        body: { error: { code, message, details: fault.options.details ?? [] } },
        headers: faultHeaders(fault.options),
      };
    }
    return route({ ...ctxBase, pollFault: fault });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const parsed = new URL(req.url ?? '/', url);
    const path = decodeURIComponent(parsed.pathname);
    const match = SERVICE_PATH.exec(path);
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw.length > 0 ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const request: ArmRequest = {
      method: req.method ?? 'GET',
      subPath: match?.[4] ?? path,
      path,
      query: parsed.searchParams,
      headers: req.headers,
      body,
    };
    for (const l of latencies) if (matches(l.matcher, request)) await delay(l.ms);
    // A request refused by the principal's budget changes nothing, as ARM's throttling answers before the service.
    const spent = budget.spend(request.method);
    let result: ArmAnswer;
    if (!spent.ok) {
      result = {
        status: 429,
        body: {
          error: {
            code: 'TooManyRequests',
            message: `The request is being throttled. Retry after ${spent.retryAfterSeconds} seconds.`,
          },
        },
        headers: { 'retry-after': String(spent.retryAfterSeconds) },
      };
    } else {
      try {
        result = answer(request, match);
      } catch (error) {
        const failure = error instanceof ArmFailure ? error : new ArmFailure(500, 'InternalServerError', String(error));
        result = { status: failure.status, body: failure.body() };
      }
    }
    requests.push({
      method: request.method,
      path: request.subPath,
      service: match?.[3],
      apiVersion: request.query.get('api-version'),
      ifMatch: headerValue(req.headers, 'if-match'),
      clientRequestId: headerValue(req.headers, 'x-ms-client-request-id'),
      status: result.status,
      receivedAt,
      at: Date.now(),
      ...(options.recordBodies ? { sent: recordedRequest(req, raw) } : {}),
    });
    writeAnswer(res, request.method, { ...result, headers: { ...result.headers, ...spent.headers } });
  }

  const server: Server = createServer({ cert: options.cert, key: options.key }, (req, res) => {
    handle(req, res).catch((error: unknown) =>
      writeAnswer(res, 'GET', {
        status: 500,
        body: { error: { code: 'InternalServerError', message: String(error) } },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const pick = (name?: string): ServiceState => {
    const service = name ? services.get(name.toLowerCase()) : services.values().next().value;
    if (!service) throw new Error(`No service ${name ?? '(none configured)'}`);
    return service;
  };

  return {
    url,
    requests,
    lro: lroSettings,
    failNext(matcher, status, faultOptions = {}) {
      faults.push(newFault(matcher, status, faultOptions, Date.now()));
    },
    setLatency(ms, matcher = {}) {
      latencies.length = 0;
      if (ms > 0) latencies.push({ matcher, ms });
    },
    calls() {
      const reads = requests.filter((r) => r.method === 'GET' || r.method === 'HEAD').length;
      return { reads, writes: requests.length - reads, total: requests.length };
    },
    rateLimitRemaining: () => budget.remaining(),
    throttleLikeArm: (buckets) => budget.throttle(buckets),
    throttled: () => budget.throttled(),
    resetLog: () => void requests.splice(0, requests.length),
    state: (name) => snapshot(pick(name)),
    addSubscription(sid, keys, name) {
      const service = pick(name);
      const value = keys ?? {
        primaryKey: randomBytes(16).toString('hex'),
        secondaryKey: randomBytes(16).toString('hex'),
      };
      service.subscriptions.set(sid.toLowerCase(), { name: sid, scope: `${serviceId(service)}/apis`, ...value });
      return value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
