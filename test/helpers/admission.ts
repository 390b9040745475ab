import { Agent, request } from 'undici';
import { randomUUID } from 'node:crypto';

export interface ReviewOptions {
  operation?: 'CREATE' | 'UPDATE' | 'DELETE';
  oldObject?: unknown;
  dryRun?: boolean;
  subResource?: string;
}

/** An AdmissionReview as the API server sends it for an ExposedAPI. */
export function admissionReview(
  object: Record<string, any> | null,
  options: ReviewOptions = {},
): Record<string, unknown> {
  const source = (object ?? options.oldObject) as Record<string, any>;
  const [group, version] = String(source.apiVersion).split('/');
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: randomUUID(),
      kind: { group, version, kind: 'ExposedAPI' },
      resource: { group, version, resource: 'exposedapis' },
      requestKind: { group, version, kind: 'ExposedAPI' },
      requestResource: { group, version, resource: 'exposedapis' },
      name: source.metadata?.name,
      namespace: source.metadata?.namespace,
      operation: options.operation ?? 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters'] },
      object,
      oldObject: options.oldObject ?? null,
      dryRun: options.dryRun ?? false,
      ...(options.subResource ? { subResource: options.subResource } : {}),
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

/** An HTTPS client that trusts only the test CA, as the API server trusts only the caBundle. */
export function trustingAgent(ca: Buffer, connectTimeoutMs?: number): Agent {
  return new Agent({ connect: connectTimeoutMs === undefined ? { ca } : { ca, timeout: connectTimeoutMs } });
}

export async function post(
  agent: Agent,
  url: string,
  body: string | object,
  contentType = 'application/json',
): Promise<{ status: number; json: any; text: string }> {
  const response = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.body.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, json, text };
}

export async function get(agent: Agent, url: string): Promise<{ status: number; text: string }> {
  const response = await request(url, { dispatcher: agent });
  return { status: response.statusCode, text: await response.body.text() };
}

/** The JSONPatch of a mutation response, decoded. */
export function patchOf(response: { patch?: string }): any[] {
  return response.patch ? JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) : [];
}
