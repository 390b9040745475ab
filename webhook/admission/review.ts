import type { Problem } from '../../shared/exposed-api/problems.ts';
import { formatProblem } from '../../shared/exposed-api/problems.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** The part of `admission.k8s.io/v1` AdmissionRequest the webhook reads. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly operation: Operation;
  readonly namespace?: string;
  readonly name?: string;
  readonly subResource?: string;
  readonly object?: unknown;
  readonly oldObject?: unknown;
  readonly dryRun?: boolean;
}

export interface AdmissionReview {
  readonly apiVersion: 'admission.k8s.io/v1';
  readonly kind: 'AdmissionReview';
  readonly request: AdmissionRequest;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: {
    code: number;
    reason: string;
    message: string;
    details?: { causes: { field: string; message: string; reason: string }[] };
  };
  warnings?: string[];
  patchType?: 'JSONPatch';
  patch?: string;
}

/** JSON schema of the request body, checked by fastify before a handler runs: a bad body is a 400. */
export const admissionReviewSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'request'],
  properties: {
    apiVersion: { const: 'admission.k8s.io/v1' },
    kind: { const: 'AdmissionReview' },
    request: {
      type: 'object',
      required: ['uid', 'operation'],
      properties: {
        uid: { type: 'string', minLength: 1 },
        operation: { enum: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] },
        namespace: { type: 'string' },
        name: { type: 'string' },
        subResource: { type: 'string' },
        dryRun: { type: 'boolean' },
      },
    },
  },
} as const;

/** Every field the response may carry is declared: fastify drops undeclared ones. */
export const admissionResponseSchema = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    response: {
      type: 'object',
      properties: {
        uid: { type: 'string' },
        allowed: { type: 'boolean' },
        status: {
          type: 'object',
          properties: {
            code: { type: 'integer' },
            reason: { type: 'string' },
            message: { type: 'string' },
            details: {
              type: 'object',
              properties: {
                causes: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { field: { type: 'string' }, message: { type: 'string' }, reason: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
        warnings: { type: 'array', items: { type: 'string' } },
        patchType: { type: 'string' },
        patch: { type: 'string' },
      },
    },
  },
} as const;

/** The API server shows at most a few hundred characters of each warning. */
const MAX_WARNING = 256;
const clip = (s: string): string => (s.length > MAX_WARNING ? `${s.slice(0, MAX_WARNING - 1)}…` : s);

export function review(response: AdmissionResponse): {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
} {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

export function allow(uid: string, warnings: readonly string[] = [], patch?: readonly unknown[]): AdmissionResponse {
  const response: AdmissionResponse = { uid, allowed: true };
  if (warnings.length > 0) response.warnings = [...new Set(warnings)].map(clip);
  if (patch && patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
  }
  return response;
}

/** A denial that lists every problem, one per line, as kubectl prints it; and each as a cause for tools. */
export function deny(
  uid: string,
  subject: string,
  problems: readonly Problem[],
  warnings: readonly string[] = [],
): AdmissionResponse {
  const lines = problems.map((p) => `- ${formatProblem(p)}`);
  const response: AdmissionResponse = {
    uid,
    allowed: false,
    status: {
      code: 422,
      reason: 'Invalid',
      message: `${subject} is invalid:\n${lines.join('\n')}`,
      details: { causes: problems.map((p) => ({ field: p.field, message: p.message, reason: 'FieldValueInvalid' })) },
    },
  };
  if (warnings.length > 0) response.warnings = [...new Set(warnings)].map(clip);
  return response;
}
