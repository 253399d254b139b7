/**
 * withdrawal-approval step 'Payout': sends the payout to the provider and waits for its confirmation (the
 * use case functions/app/payments/send-withdrawal-payout.ts). Invoked by lambda:invoke.waitForTaskToken
 * with { withdrawalId, taskToken }; the execution resumes with { outcome: 'paid' | 'failed' } from this
 * step (a synchronous answer), from the payout webhook or, when neither comes, times out into Finalize
 * 'check'.
 *
 * Invariants:
 * - the input is checked before anything is read (a missing id or token throws)
 * - provider errors surface as the use case throws them (PspUnavailable: the ASL retries; PspRejected: not
 *   retried), so the ASL's Retry / Catch blocks see the same error names
 * - the request id of everything recorded is the withdrawal id; the task token is never logged
 */
import { type SendWithdrawalPayoutResult, sendWithdrawalPayout } from '#app/payments/send-withdrawal-payout.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

export interface PayoutInput {
  withdrawalId: string;
  taskToken: string;
}

export type PayoutResult = SendWithdrawalPayoutResult;

export const handler = instrumented(handle);

async function handle(input: PayoutInput): Promise<PayoutResult> {
  if (!input?.withdrawalId || !input.taskToken) throw new Error('withdrawal-payout: withdrawalId and taskToken are required');
  return sendWithdrawalPayout(
    { withdrawalId: input.withdrawalId, taskToken: input.taskToken },
    { requestId: input.withdrawalId, locale: tenantConfig().defaultLocale },
  );
}
