/** What every handler of the ARM stand-in gets. */
import type { Fault } from './faults.ts';
import type { ArmRequest } from './http.ts';
import type { LroRegistry, LroSettings } from './lro.ts';
import type { ServiceState } from './store.ts';

export interface HandlerContext {
  readonly request: ArmRequest;
  readonly service: ServiceState;
  /** ARM id of the service: `/subscriptions/.../service/{name}`. */
  readonly serviceId: string;
  /** Absolute URL of the service, for poll URLs. */
  readonly serviceUrl: string;
  readonly apiVersion: string;
  readonly lro: LroRegistry;
  readonly lroSettings: LroSettings;
  /** A fault to report on the operation's poll instead of applying the change. */
  readonly pollFault: Fault | undefined;
}
