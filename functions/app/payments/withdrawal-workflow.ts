/**
 * The withdrawal-approval workflow's execution input, as every start and restart (through the WorkflowPort,
 * functions/app/ports/workflow.ts) sends it. Answering its tasks is withdrawal-task.ts, so that a function
 * that starts executions does not also need the permission to answer them.
 *
 * Invariants:
 * - the execution input is { withdrawalId, clientId, Payload: { reviewTimeoutSeconds, payoutTimeoutSeconds } }:
 *   the tenant's reviewTimeoutDays and payoutTimeoutHours in seconds, read by the ASL's TimeoutSecondsPath
 *   (under `Payload`: see the ASL's comment on why that path works in AWS and locally). Under the local
 *   runtime they are capped at the longest timer Node keeps (about 24.8 days; a longer one would fire at
 *   once); AWS gets them as configured
 */

import type { WithdrawalPolicy } from '#domain/tenant/config.ts';
import { env } from '#shared/env.ts';

export const WITHDRAWAL_APPROVAL_MACHINE = 'withdrawal-approval' as const;

/** Node's longest timer, in whole seconds (the local runtime's limit for a task timeout). */
const LOCAL_MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** The execution input for a withdrawal (what a start and every restart send). */
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
