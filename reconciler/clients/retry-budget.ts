/**
 * The SDK's retries of a call take from the ARM budget as its first try did
 * (in apim.ts, before the call): during an ARM outage every failing write is
 * sent up to three times, and unbudgeted retries would then go over the
 * shared limit just when ARM is least able to take it.
 */
import type { PipelinePolicy, PipelineRequest } from '@azure/core-rest-pipeline';
import { currentOperationName } from './arm-responses.ts';

/** A pipeline policy for after the Retry phase: it sees each try, and a request it has seen before is a retry. */
export function retryBudgetPolicy(take: (kind: 'reads' | 'writes', op: string) => Promise<void>): PipelinePolicy {
  const tried = new WeakSet<PipelineRequest>();
  return {
    name: 'armRetryBudget',
    async sendRequest(request, next) {
      if (tried.has(request))
        await take(request.method === 'GET' || request.method === 'HEAD' ? 'reads' : 'writes', currentOperationName());
      else tried.add(request);
      return next(request);
    },
  };
}
