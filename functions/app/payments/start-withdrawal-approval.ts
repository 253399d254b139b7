/**
 * Use case: start the withdrawal-approval workflow for a received withdrawal (the bus rule
 * 'withdrawal-received-to-start' delivers its payment.withdrawal.received event to withdrawal-start).
 *
 * Invariants:
 * - at most one execution per withdrawal: the execution is named after the withdrawal, so a redelivered
 *   event (delivery is at least once) finds it started, which counts as success ({ reason: 'already_started' })
 * - only a withdrawal still 'received' is started; any other status (or an unknown id) is acknowledged
 *   and nothing happens
 * - the execution input is approvalExecutionInput (withdrawal-workflow.ts), as the watchdog's restarts send it
 * - nothing here logs PII (ids only)
 */
import { workflows } from '#app/ports/workflow.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { getWithdrawal } from '#store/payments/withdrawal-items.ts';
import type { CommandContext } from '../context.ts';
import { approvalExecutionInput, WITHDRAWAL_APPROVAL_MACHINE } from './withdrawal-workflow.ts';

export interface StartWithdrawalApprovalInput {
  withdrawalId: string;
}

export type StartWithdrawalApprovalResult = {
  started: boolean;
  reason?: 'already_started' | 'not_received' | 'not_found';
};

export async function startWithdrawalApproval(
  input: StartWithdrawalApprovalInput,
  _ctx?: CommandContext,
): Promise<StartWithdrawalApprovalResult> {
  const { withdrawalId } = input;
  const w = await getWithdrawal(withdrawalId, { consistent: true });
  if (!w) {
    logger.warn('withdrawal-start: unknown withdrawal', { withdrawalId });
    return { started: false, reason: 'not_found' };
  }
  if (w.status !== 'received') {
    logger.info('withdrawal-start: withdrawal is past received; nothing to start', { withdrawalId, status: w.status });
    return { started: false, reason: 'not_received' };
  }
  const { started } = await workflows().start(
    WITHDRAWAL_APPROVAL_MACHINE,
    withdrawalId,
    approvalExecutionInput(w, tenantConfig().payments.withdrawals),
  );
  if (!started) {
    logger.info('withdrawal-start: approval already started', { withdrawalId });
    return { started: false, reason: 'already_started' };
  }
  logger.info('withdrawal-start: approval started', { withdrawalId });
  return { started: true };
}
