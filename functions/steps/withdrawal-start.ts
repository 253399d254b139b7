/**
 * Starts the withdrawal-approval state machine for a received withdrawal (the use case
 * functions/app/payments/start-withdrawal-approval.ts). Invoked by the bus rule
 * 'withdrawal-received-to-start' with the EventBridge envelope of the outbox event
 * 'payment.withdrawal.received' (detail: { withdrawalId, clientId, ... }).
 *
 * Invariants:
 * - the detail is parsed against the event catalogue (parseEvent): one that breaks its contract throws
 *   EventContractError (the rule's retries, then its DLQ)
 * - at most one execution per withdrawal, named after it; a redelivery is acknowledged
 */
import { type StartWithdrawalApprovalResult, startWithdrawalApproval } from '#app/payments/start-withdrawal-approval.ts';
import { parseEvent } from '#domain/events/index.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

// Kept for the modules that name the machine from here (bench/suites/payments.ts).
export { WITHDRAWAL_APPROVAL_MACHINE } from '#app/payments/withdrawal-workflow.ts';

export interface WithdrawalReceivedEvent {
  id?: string;
  'detail-type'?: string;
  detail: { withdrawalId?: unknown; clientId?: unknown };
}

export type StartResult = StartWithdrawalApprovalResult;

export const handler = instrumented(handle);

async function handle(event: WithdrawalReceivedEvent): Promise<StartResult> {
  const { withdrawalId } = parseEvent('payment.withdrawal.received', event?.detail);
  return startWithdrawalApproval({ withdrawalId }, { requestId: event.id ?? withdrawalId, locale: tenantConfig().defaultLocale });
}
