/**
 * withdrawal-approval step 'Finalize': ends a withdrawal with its money (the use case
 * functions/app/payments/finalize-withdrawal.ts: complete, fail, check, reject, expire). Input
 * { withdrawalId, action, reason? }; output { withdrawalId, status, outcome }.
 *
 * Invariants:
 * - the input is checked before anything is read: a missing withdrawalId or an unknown action throws
 * - the request id of everything recorded is the withdrawal id (the execution's correlation)
 */
import {
  FINALIZE_ACTIONS,
  type FinalizeAction,
  type FinalizeWithdrawalResult,
  finalizeWithdrawal,
} from '#app/payments/finalize-withdrawal.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

export type { FinalizeAction };

export interface FinalizeInput {
  withdrawalId: string;
  action: FinalizeAction;
  reason?: string;
}

export type FinalizeResult = FinalizeWithdrawalResult;

export const handler = instrumented(handle);

async function handle(input: FinalizeInput): Promise<FinalizeResult> {
  if (!input?.withdrawalId || !FINALIZE_ACTIONS.includes(input.action)) {
    throw new Error('withdrawal-finalize: withdrawalId and a known action are required');
  }
  return finalizeWithdrawal(
    { withdrawalId: input.withdrawalId, action: input.action, ...(input.reason !== undefined ? { reason: input.reason } : {}) },
    { requestId: input.withdrawalId, locale: tenantConfig().defaultLocale },
  );
}
