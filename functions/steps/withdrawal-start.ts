/**
 * Starts the withdrawal-approval state machine for a received withdrawal. Invoked by the bus rule
 * 'withdrawal-received-to-start' with the EventBridge envelope of the outbox event
 * 'payment.withdrawal.received' (detail: { withdrawalId, clientId, ... }).
 *
 * Invariants:
 * - at most one execution per withdrawal: the execution is named after the withdrawal, so a redelivered
 *   event (delivery is at least once) gets ExecutionAlreadyExists, which counts as success
 * - only a withdrawal still 'received' is started; any other status (or an unknown id) is acknowledged
 *   and nothing happens
 * - the execution input is { withdrawalId, clientId, Payload: { reviewTimeoutSeconds, payoutTimeoutSeconds } }:
 *   the tenant's reviewTimeoutDays and payoutTimeoutHours in seconds, read by the ASL's TimeoutSecondsPath
 *   (under `Payload`: see the ASL's comment on why that path works in AWS and locally). Under the
 *   local runtime they are capped at the longest timer Node keeps (about 24.8 days; a longer one would fire
 *   at once); AWS gets them as configured
 * - nothing here logs PII (ids only)
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { WithdrawalPolicy } from '#domain/tenant/config.ts';
import { sfn } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { getWithdrawal } from '#store/payments/withdrawal-items.ts';

export const WITHDRAWAL_APPROVAL_MACHINE = 'withdrawal-approval';

/** Node's longest timer, in whole seconds (the local runtime's limit for a task timeout). */
const LOCAL_MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** The execution input for a withdrawal (also what a restart would send). */
export function approvalExecutionInput(
  w: { withdrawalId: string; clientId: string },
  policy: Pick<WithdrawalPolicy, 'reviewTimeoutDays' | 'payoutTimeoutHours'>,
  stage: 'local' | 'aws' = env.stage,
) {
  const cap = (s: number) => (stage === 'local' ? Math.min(s, LOCAL_MAX_TIMEOUT_SECONDS) : s);
  return {
    withdrawalId: w.withdrawalId,
    clientId: w.clientId,
    Payload: {
      reviewTimeoutSeconds: cap(policy.reviewTimeoutDays * 86_400),
      payoutTimeoutSeconds: cap(policy.payoutTimeoutHours * 3_600),
    },
  };
}

export interface WithdrawalReceivedEvent {
  id?: string;
  'detail-type'?: string;
  detail: { withdrawalId?: unknown; clientId?: unknown };
}

export type StartResult = { started: boolean; reason?: 'already_started' | 'not_received' | 'not_found' };

export async function handler(event: WithdrawalReceivedEvent): Promise<StartResult> {
  const withdrawalId = typeof event?.detail?.withdrawalId === 'string' ? event.detail.withdrawalId : '';
  if (!withdrawalId) throw new Error('withdrawal-start: the event has no detail.withdrawalId');
  const w = await getWithdrawal(withdrawalId, { consistent: true });
  if (!w) {
    logger.warn('withdrawal-start: unknown withdrawal', { withdrawalId });
    return { started: false, reason: 'not_found' };
  }
  if (w.status !== 'received') {
    logger.info('withdrawal-start: withdrawal is past received; nothing to start', { withdrawalId, status: w.status });
    return { started: false, reason: 'not_received' };
  }
  const input = approvalExecutionInput(w, tenantConfig().payments.withdrawals);
  try {
    await sfn().send(
      new StartExecutionCommand({
        stateMachineArn: env.stateMachineArn(WITHDRAWAL_APPROVAL_MACHINE),
        name: withdrawalId,
        input: JSON.stringify(input),
      }),
    );
  } catch (err) {
    if ((err as Error)?.name === 'ExecutionAlreadyExists') {
      logger.info('withdrawal-start: approval already started', { withdrawalId });
      return { started: false, reason: 'already_started' };
    }
    throw err;
  }
  logger.info('withdrawal-start: approval started', { withdrawalId });
  return { started: true };
}
