/**
 * Every ARM request a call sends beyond its first takes from the ARM budget,
 * as the first did (in apim.ts, before the call):
 * - the SDK's retries: during an ARM outage every failing write is sent up to
 *   three times, and unbudgeted retries would go over the shared limit just
 *   when ARM is least able to take it;
 * - a long-running operation's polls and its final read, which ARM counts
 *   as reads like any other (an import polls every second for as long as it runs).
 */
import type { PipelinePolicy, PipelineRequest } from '@azure/core-rest-pipeline';
import { currentCall } from './arm-responses.ts';

const kindOf = (request: PipelineRequest): 'reads' | 'writes' =>
  request.method === 'GET' || request.method === 'HEAD' ? 'reads' : 'writes';

/**
 * A pipeline policy for after the Retry phase, so that it sees each try: a
 * request it has seen before is a retry, a new one after the call's first is
 * a poll. Either takes from the budget; the call's first request does not.
 */
export function furtherRequestsBudgetPolicy(
  take: (kind: 'reads' | 'writes', op: string) => Promise<void>,
): PipelinePolicy {
  const tried = new WeakSet<PipelineRequest>();
  return {
    name: 'armFurtherRequestsBudget',
    async sendRequest(request, next) {
      const call = currentCall();
      const further = tried.has(request) || call?.firstSent === true;
      tried.add(request);
      if (call) call.firstSent = true;
      if (further) await take(kindOf(request), call?.operation ?? 'unknown');
      return next(request);
    },
  };
}
