/**
 * withdrawal-approval step 'Checks': runs the automatic compliance checks on a received withdrawal and
 * moves it to 'approved' or 'under_review' (the use case functions/app/payments/check-withdrawal.ts).
 * Input { withdrawalId }; output { outcome: 'approve' | 'review' | 'cancelled', reasons, status }.
 *
 * Invariants:
 * - the input is checked before anything is read (a missing withdrawalId throws: the execution fails)
 * - the request id of everything recorded is the withdrawal id (the execution's correlation)
 */
import { type CheckWithdrawalResult, checkWithdrawal } from '#app/payments/check-withdrawal.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

export interface ChecksInput {
  withdrawalId: string;
}

export type ChecksResult = CheckWithdrawalResult;

export const handler = instrumented(handle);

async function handle(input: ChecksInput): Promise<ChecksResult> {
  if (!input?.withdrawalId) throw new Error('withdrawal-checks: withdrawalId is required');
  return checkWithdrawal(
    { withdrawalId: input.withdrawalId },
    { requestId: input.withdrawalId, locale: tenantConfig().defaultLocale },
  );
}
