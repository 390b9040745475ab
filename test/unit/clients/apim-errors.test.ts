import t from 'tap';
import { createHttpHeaders, createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import { classify, policyFromBody, retryAfterMs } from '../../../reconciler/clients/apim.ts';
import { PermanentError, RetryableError } from '../../../shared/errors.ts';

function restError(status: number, body: unknown, headers: Record<string, string> = {}): RestError {
  const request = createPipelineRequest({ url: 'https://arm.example/x' });
  const response = { request, status, headers: createHttpHeaders(headers), bodyAsText: JSON.stringify(body) };
  return new RestError('service said no', {
    statusCode: status,
    request,
    response,
    code: (body as { error?: { code?: string } }).error?.code,
  });
}

const pathConflict = {
  error: {
    code: 'ValidationError',
    message: 'One or more fields contain incorrect values:',
    details: [
      { code: 'ValidationError', target: 'path', message: "Cannot create API 'b' with the same Path 'p' as API 'a'" },
    ],
  },
};

const cases: {
  name: string;
  error: unknown;
  type: typeof PermanentError | typeof RetryableError;
  message?: RegExp;
  retryAfterMs?: number;
}[] = [
  {
    name: '400 ValidationError with details',
    error: restError(400, pathConflict),
    type: PermanentError,
    message: /path: Cannot create API 'b' with the same Path 'p' as API 'a'/,
  },
  {
    name: '422',
    error: restError(422, { error: { code: 'ManagementApiRequestFailed', message: 'timed out' } }),
    type: PermanentError,
    message: /422 ManagementApiRequestFailed/,
  },
  { name: '408', error: restError(408, { error: { code: 'RequestTimeout', message: 'slow' } }), type: RetryableError },
  {
    name: '409',
    error: restError(409, { error: { code: 'PessimisticConcurrencyConflict', message: 'busy' } }),
    type: RetryableError,
    message: /PessimisticConcurrencyConflict/,
  },
  {
    name: '412',
    error: restError(412, { error: { code: 'PreconditionFailed', message: 'stale' } }),
    type: RetryableError,
  },
  {
    name: '429 Retry-After seconds',
    error: restError(
      429,
      { error: { code: 'SubscriptionRequestsThrottled', message: 'slow down' } },
      { 'retry-after': '12' },
    ),
    type: RetryableError,
    retryAfterMs: 12_000,
  },
  {
    name: '429 retry-after-ms wins',
    error: restError(429, {}, { 'retry-after': '12', 'retry-after-ms': '250' }),
    type: RetryableError,
    retryAfterMs: 250,
  },
  { name: '503', error: restError(503, 'not json'), type: RetryableError, message: /503/ },
  {
    name: 'network error',
    error: new RestError('socket hang up', { code: 'REQUEST_SEND_ERROR' }),
    type: RetryableError,
    message: /socket hang up/,
  },
  {
    name: 'poll failure',
    error: new Error('The long-running operation has failed. InternalServerError. boom'),
    type: RetryableError,
  },
  {
    name: 'poll ValidationError',
    error: new Error('The long-running operation has failed. ValidationError. Named value not found.'),
    type: PermanentError,
  },
  {
    name: 'credential failure',
    error: new Error('AuthenticationError: EnvironmentCredential authentication failed'),
    type: RetryableError,
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const result = classify('putApi', 'ns-api', c.error);
    t.type(result, c.type);
    t.match(result.message, /^APIM putApi ns-api /);
    if (c.message) t.match(result.message, c.message);
    if (c.retryAfterMs !== undefined) t.equal((result as RetryableError).retryAfterMs, c.retryAfterMs);
    t.equal((result as Error & { cause?: unknown }).cause, c.error);
  });
}

t.test('retryAfterMs reads an HTTP date', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  t.equal(retryAfterMs(createHttpHeaders({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now), 5000);
  t.equal(retryAfterMs(createHttpHeaders({}), now), undefined);
  t.equal(retryAfterMs(undefined), undefined);
});

t.test('policyFromBody reads APIM JSON or the document itself', async (t) => {
  t.equal(policyFromBody('{"properties":{"format":"xml","value":"<policies/>"}}'), '<policies/>');
  t.equal(policyFromBody('<policies>\r\n</policies>'), '<policies>\r\n</policies>');
  t.equal(policyFromBody(''), undefined);
  t.equal(policyFromBody('{"properties":{}}'), undefined);
  t.equal(policyFromBody('garbage'), undefined);
});
