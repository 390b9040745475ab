/** Maps a request below a service to its handler. */
import * as apis from './apis.ts';
import type { HandlerContext } from './context.ts';
import { ArmFailure, type ArmAnswer } from './http.ts';
import * as others from './others.ts';

type Handler = (ctx: HandlerContext, ...ids: string[]) => ArmAnswer;
interface Route {
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, Handler>>;
}

const SEG = '([^/]+)';
const ROUTES: readonly Route[] = [
  { pattern: /^apis$/, methods: { GET: apis.listApis } },
  {
    pattern: new RegExp(`^apis/${SEG}$`),
    methods: { GET: apis.getApi, HEAD: apis.getApi, PUT: apis.putApi, DELETE: apis.deleteApi },
  },
  { pattern: new RegExp(`^apis/${SEG}/operations$`), methods: { GET: apis.listOperations } },
  { pattern: new RegExp(`^apis/${SEG}/revisions$`), methods: { GET: apis.listRevisions } },
  { pattern: new RegExp(`^apis/${SEG}/releases/${SEG}$`), methods: { PUT: apis.putRelease } },
  { pattern: new RegExp(`^apis/${SEG}/policies$`), methods: { GET: others.listPolicies } },
  {
    pattern: new RegExp(`^apis/${SEG}/policies/policy$`),
    methods: { GET: others.getPolicy, PUT: others.putPolicy, DELETE: others.deletePolicy },
  },
  {
    pattern: new RegExp(`^openidConnectProviders/${SEG}$`, 'i'),
    methods: {
      GET: others.getOpenIdProvider,
      HEAD: others.getOpenIdProvider,
      PUT: others.putOpenIdProvider,
      DELETE: others.deleteOpenIdProvider,
    },
  },
  { pattern: new RegExp(`^products/${SEG}$`), methods: { GET: others.getProduct, PUT: others.putProduct } },
  {
    pattern: new RegExp(`^products/${SEG}/apis/${SEG}$`),
    methods: { GET: others.productApi, HEAD: others.productApi, PUT: others.productApi, DELETE: others.productApi },
  },
  { pattern: /^subscriptions$/, methods: { GET: others.listSubscriptions } },
  {
    pattern: new RegExp(`^subscriptions/${SEG}$`),
    methods: {
      GET: others.getSubscription,
      HEAD: others.getSubscription,
      PUT: others.putSubscription,
      DELETE: others.deleteSubscription,
    },
  },
  { pattern: new RegExp(`^subscriptions/${SEG}/listSecrets$`), methods: { POST: others.listSubscriptionSecrets } },
  {
    pattern: new RegExp(`^subscriptions/${SEG}/regenerate(Primary|Secondary)Key$`),
    methods: { POST: others.regenerateSubscriptionKey },
  },
];

export function route(ctx: HandlerContext): ArmAnswer {
  const { method, subPath } = ctx.request;
  for (const r of ROUTES) {
    const match = r.pattern.exec(subPath);
    if (!match) continue;
    const handler = r.methods[method];
    if (!handler) throw new ArmFailure(405, 'MethodNotAllowed', `The method ${method} is not allowed on ${subPath}.`);
    return handler(ctx, ...match.slice(1).map((s) => s ?? ''));
  }
  throw new ArmFailure(404, 'ResourceNotFound', `No stand-in route for ${method} ${subPath}.`);
}

/** The long-running kinds whose faults may show on the poll. */
export function isLongRunning(method: string, subPath: string): boolean {
  return (method === 'PUT' || method === 'DELETE') && /^apis\/[^/]+$/.test(subPath);
}
