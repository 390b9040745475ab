import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';

/**
 * The floor client: `node bench/floor-client.ts plan.json`. Sends exactly the
 * HTTP requests a publish made (recorded by the stand-ins: same methods, URLs,
 * headers and bodies, over the same TLS) with the same number in flight, and
 * nothing else: one Entra token first (client credentials, from AZURE_* in the
 * environment, as the workers' credential does), each JSON body encoded as it
 * is sent (JSON.stringify of the parsed body, the same bytes) and each answer
 * read and its JSON parsed, no reconciler logic. Its CPU time per API is the least any client
 * could spend on that traffic. The plan is NDJSON: the settings (a FloorPlan
 * without requests), then one FloorRequest per line (a TMF620 import is 350 KB,
 * so thousands of them exceed what one JSON string may hold). The last line of
 * stdout is the result as JSON.
 */
export interface FloorPlan {
  /** Requests in flight at once (the workers' total RECONCILE_CONCURRENCY). */
  readonly concurrency: number;
  /** Base URLs by target. */
  readonly targets: Readonly<Record<FloorTarget, string>>;
  /** The Kubernetes bearer token of the workers' kubeconfig (not a secret of the stand-ins'). */
  readonly kubeToken: string;
  readonly requests: readonly FloorRequest[];
}

export type FloorTarget = 'arm' | 'kube' | 'spec';

export interface FloorRequest {
  readonly target: FloorTarget;
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A request as sent: a JSON body as the value a client encodes, when encoding it gives back the same bytes. */
type Outgoing = Omit<FloorRequest, 'body'> & { readonly body: string | { readonly json: unknown } };

function asOutgoing(r: FloorRequest): Outgoing {
  if (r.body.length === 0 || !String(r.headers['content-type'] ?? '').includes('json')) return r;
  try {
    const json: unknown = JSON.parse(r.body);
    return JSON.stringify(json) === r.body ? { ...r, body: { json } } : r;
  } catch {
    return r;
  }
}

export interface FloorResult {
  readonly requests: number;
  readonly cpuSeconds: number;
  readonly seconds: number;
  readonly statuses: Record<string, number>;
}

async function armToken(dispatcher: Agent): Promise<string> {
  const { AZURE_AUTHORITY_HOST, AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET } = process.env;
  if (!AZURE_AUTHORITY_HOST || !AZURE_TENANT_ID || !AZURE_CLIENT_ID || !AZURE_CLIENT_SECRET)
    throw new Error('floor client: set AZURE_AUTHORITY_HOST, AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET');
  const answer = await request(`${AZURE_AUTHORITY_HOST}/${AZURE_TENANT_ID}/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: AZURE_CLIENT_ID,
      client_secret: AZURE_CLIENT_SECRET,
      scope: 'https://management.azure.com/.default',
    }).toString(),
  });
  const { access_token: token } = (await answer.body.json()) as { access_token?: string };
  if (!token) throw new Error(`floor client: Entra answered ${answer.statusCode} without an access token`);
  return token;
}

async function send(dispatcher: Agent, plan: FloorPlan, r: Outgoing, armBearer: string): Promise<number> {
  const authorization =
    r.target === 'arm' ? `Bearer ${armBearer}` : r.target === 'kube' ? `Bearer ${plan.kubeToken}` : undefined;
  const answer = await request(`${plan.targets[r.target]}${r.url}`, {
    method: r.method as 'GET',
    dispatcher,
    headers: { ...r.headers, ...(authorization ? { authorization } : {}) },
    ...(typeof r.body !== 'string' ? { body: JSON.stringify(r.body.json) } : r.body.length > 0 ? { body: r.body } : {}),
  });
  const text = await answer.body.text();
  if (text.length > 0 && String(answer.headers['content-type'] ?? '').includes('json')) JSON.parse(text);
  return answer.statusCode;
}

export async function runFloor(plan: FloorPlan): Promise<FloorResult> {
  const requests = plan.requests.map(asOutgoing);
  // As patient as the SDKs on a busy machine: 128 connections opened at once to stand-ins sharing two cores.
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, connect: { timeout: 120_000 } });
  const cpu = process.cpuUsage();
  const started = performance.now();
  const bearer = await armToken(dispatcher);
  const statuses: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      for (let i = next++; i < requests.length; i = next++) {
        const status = String(await send(dispatcher, plan, requests[i]!, bearer));
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.close();
  return { requests: plan.requests.length, cpuSeconds: (used.user + used.system) / 1e6, seconds, statuses };
}

async function readPlan(file: string): Promise<FloorPlan> {
  let settings: Omit<FloorPlan, 'requests'> | undefined;
  const requests: FloorRequest[] = [];
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line.length === 0) continue;
    if (settings) requests.push(JSON.parse(line) as FloorRequest);
    else settings = JSON.parse(line) as Omit<FloorPlan, 'requests'>;
  }
  if (!settings) throw new Error(`floor client: ${file} is empty`);
  return { ...settings, requests };
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node bench/floor-client.ts <plan.ndjson>');
  console.log(JSON.stringify(await runFloor(await readPlan(file))));
}
